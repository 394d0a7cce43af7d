// `tlsecho demo` end to end, as a user runs it: certificates created then reused, DNS, server and
// client streaming their lines, --count stopping everything, and SIGINT shutting down cleanly.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { runCli, startCli, waitForLine } from '../helpers/cli.js';
import { tempDir } from '../helpers/pki.js';

const NAMES = ['server1.tlsecho.test', 'server2.tlsecho.test', 'server3.tlsecho.test'];

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

describe('tlsecho demo', () => {
  const t = tempDir();
  const certs = join(t.dir, 'certs');
  const env = { MX_certspath: certs };
  after(t.cleanup);

  it('--count 6 runs CA, DNS, server and client, then exits 0', async () => {
    const r = await runCli(['demo', '--count', '6', '--interval', '100ms'], { env, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.ok(
      existsSync(join(certs, 'minica.pem')) && existsSync(join(certs, 'server1.tlsecho.test', 'key.pem')),
    );
    assert.match(r.stdout, /^demo {3}\| created a root CA and issued/m);
    // The demo's minica-style root (pathlen:0) gets no incomplete-chain: said, not announced.
    assert.match(r.stdout, /^demo {3}\| failure lab in .*: good\.tlsecho\.test, expired\.tlsecho\.test, /m);
    assert.doesNotMatch(r.stdout, /failure lab in .*incomplete-chain/);
    assert.match(r.stdout, /^demo {3}\| failure lab: no incomplete-chain\.tlsecho\.test: .*--intermediate/m);
    assert.match(r.stdout, /^server \| .*\bready\b/m);
    assert.match(r.stdout, /^client \| .* trusting root CA .* \(matches --ca-fingerprint\)$/m);
    const answers = r.stdout.match(
      /^client \| \S+ (\S+) -> 127\.0\.0\.1:\d+ TLSv1\.[23] [\d.]+ms: Client connection from 127\.0\.0\.1 to server \1$/gm,
    );
    assert.equal(answers?.length, 6, r.stdout);
    // Every name the client called was looked up through the embedded DNS server.
    for (const line of answers!) {
      const name = / (server\d\.tlsecho\.test) -> /.exec(line)![1]!;
      assert.ok(NAMES.includes(name));
      assert.match(
        r.stdout,
        new RegExp(
          `^dns {4}\\| query A ${name.replace(/\./g, '\\.')} from 127\\.0\\.0\\.1 \\(udp\\) -> 127\\.0\\.0\\.1$`,
          'mi',
        ),
      );
    }
    assert.match(r.stdout, /^client \| summary: 6 requests, 6 ok, 0 failed$/m);
    assert.match(r.stdout, /client exited with code 0/);
  });

  it('reuses the certificates on the next run', async () => {
    const r = await runCli(['demo', '--count', '1', '--interval', '0'], { env, timeoutMs: 60_000 });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, new RegExp(`^demo {3}\\| reusing certificates in ${certs}$`, 'm'));
  });

  it('SIGINT stops client (with its summary) and server', async () => {
    const child = startCli(['demo', '--interval', '100ms'], { env });
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d));
    try {
      const ready = await waitForLine(child, /server ready: https:\/\/\S+:(\d+)\//, 30_000);
      const httpsPort = Number(/:(\d+)\/ and/.exec(ready)![1]);
      await waitForLine(child, /Client connection from/, 15_000);
      const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
      child.kill('SIGINT');
      const code = await exited;
      assert.equal(code, 0, out);
      assert.match(out, /^client \| summary: \d+ requests, \d+ ok, 0 failed$/m);
      assert.equal(await portOpen(httpsPort), false, 'the server process is gone');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
