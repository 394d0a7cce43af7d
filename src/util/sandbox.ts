// What the demo, the tests and the bench need to run tlsecho processes of their own: a free
// loopback port to pass as a flag, a private temporary folder, and an environment without the
// caller's own tlsecho configuration. One copy, so the three cannot drift apart.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A port that is free on `host` right now (the OS picks it), for flags that need a number. */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh temporary folder (0700, from mkdtemp), removed by the returned cleanup. */
export function tempDir(prefix = 'tlsecho-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * This process's environment without the MX_* and TLSECHO_* variables (the seed's and the
 * CLI's configuration), so a child sees only the flags and variables it is given.
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(MX_|TLSECHO_)/.test(k)) env[k] = v;
  return env;
}
