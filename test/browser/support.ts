// Shared by the browser tests: the real tlsecho server on loopback with everything it prints kept
// for assertions, a root installed with the real `tlsecho ca install`, and the artifacts folder.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runCli, startCli, waitForLine } from '../helpers/cli.js';

/** Screenshots land in <repo>/artifacts/browser/ (git-ignored), kept after the run. */
export const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/browser/', import.meta.url));

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return `${ARTIFACTS}${name}`;
}

export interface RunningServer {
  httpsPort: number;
  httpPort: number;
  /** Every line the server printed so far (JSON logs). */
  lines: string[];
  /** Resolves with the first printed line (and its index) passing `test`, polling every 100 ms up to `timeoutMs`. */
  waitFor(test: (line: string, index: number) => boolean, timeoutMs?: number): Promise<string>;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** `tlsecho server` on 127.0.0.1 with ports chosen by the system, serving the leaf in `certsPath`. */
export async function startServer(certsPath: string, extra: string[] = []): Promise<RunningServer> {
  const child = startCli([
    'server',
    '--certs-path',
    certsPath,
    '--host',
    '127.0.0.1',
    '--https-port',
    '0',
    '--http-port',
    '0',
    '--log-format',
    'json',
    ...extra,
  ]);
  const lines: string[] = [];
  let partial = '';
  const collect = (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let ready: string;
  try {
    ready = await waitForLine(child, /"msg":"ready"/);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const fields = JSON.parse(ready) as { https_port: number; http_port: number };
  assert.ok(fields.https_port > 0 && fields.http_port > 0, `ready line without ports: ${ready}`);
  return {
    httpsPort: fields.https_port,
    httpPort: fields.http_port,
    lines,
    async waitFor(test, timeoutMs = 20_000) {
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
        const hit = lines.find(test);
        if (hit !== undefined) return hit;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(
        `the server printed no matching line in ${timeoutMs} ms; it printed:\n${lines.join('\n')}`,
      );
    },
    async metrics() {
      const res = await fetch(`http://127.0.0.1:${fields.http_port}/metrics`);
      assert.equal(res.status, 200);
      return res.text();
    },
    stop: () => stopProcess(child),
  };
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Runs the real `tlsecho ca install` for the root in `certsPath`, with HOME and extra flags. */
export async function installRoot(certsPath: string, home: string, extra: string[] = []): Promise<string> {
  // NSS only: a test must not change the machine's system or Java store.
  const r = await runCli(['ca', 'install', '--out', certsPath, '--stores', 'nss', ...extra], {
    env: { HOME: home },
  });
  assert.equal(r.code, 0, `tlsecho ca install failed: ${r.stderr}`);
  return r.stdout;
}

export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
