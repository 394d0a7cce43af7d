// The client against the real `tlsecho server` over loopback, resolving the three names through
// the embedded DNS server: the server's exact lines, summary counts, ping mode, and waiting for a
// server that is not up yet.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort } from '../../src/util/sandbox.js';
import { runCli } from '../helpers/cli.js';
import { makePki, tempDir, type TestPki } from '../helpers/pki.js';
import { NAMES, parseSummary, startDns, startTlsechoServer, type RunningServer } from './fixtures.js';

describe('client against tlsecho server', () => {
  const t = tempDir();
  let pki: TestPki;
  let dns: Awaited<ReturnType<typeof startDns>>;
  let server: RunningServer;
  const files = () => ({ certFile: pki.server!.cert, keyFile: pki.server!.key, caFile: pki.root.cert });
  const client = (ports: { https: number; http: number }, ...args: string[]) =>
    runCli(
      [
        'client',
        ...['--dns', dns.address, '--port', String(ports.https), '--http-port', String(ports.http)],
        ...['--ca-fingerprint', pki.root.fingerprint.hex, '--interval', '0', '--timeout', '3s'],
        ...args,
      ],
      { timeoutMs: 30_000 },
    );

  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    // bad.tlsecho.test resolves but is not in the certificate: a failure the summary must count.
    dns = await startDns([...NAMES, 'bad.tlsecho.test']);
    server = await startTlsechoServer(files());
  });
  after(async () => {
    await server?.stop();
    await dns?.close();
    t.cleanup();
  });

  it('reaches all three names through the DNS server and prints the server’s exact lines', async () => {
    const before = dns.queries.length;
    // 30 random picks miss one of three names with probability 3·(2/3)^30 ≈ 0.002%.
    const r = await client({ https: server.httpsPort, http: server.httpPort }, '--count', '30');
    assert.equal(r.code, 0, r.stderr);
    const answers = r.stdout
      .split('\n')
      .map((l) => /^\S+ (\S+) -> 127\.0\.0\.1:(\d+) TLSv1\.[23] [\d.]+ms: (.*)$/.exec(l))
      .filter((m) => m !== null);
    assert.equal(answers.length, 30, r.stdout);
    for (const [, name, port, body] of answers) {
      assert.equal(Number(port), server.httpsPort);
      // The seed's server line: the client IP and the SNI name the client used.
      assert.equal(body, `Client connection from 127.0.0.1 to server ${name}`);
    }
    assert.deepEqual([...new Set(answers.map((m) => m[1]))].sort(), NAMES);
    const asked = dns.queries.slice(before).map((q) => q.name.toLowerCase());
    for (const name of NAMES) assert.ok(asked.includes(name), `${name} was resolved through the DNS server`);
  });

  it('summary counts every request, success and failure by reason; exit 1 on failure', async () => {
    const r = await client(
      { https: server.httpsPort, http: server.httpPort },
      ...['--names', 'server1.tlsecho.test,bad.tlsecho.test', '--count', '12'],
    );
    const ok = r.stdout.split('\n').filter((l) => /: Client connection from /.test(l)).length;
    const failed = r.stderr
      .split('\n')
      .filter((l) => /FAILED bad\.tlsecho\.test .*name not in certificate/.test(l)).length;
    assert.equal(ok + failed, 12, `${r.stdout}\n${r.stderr}`);
    const summary = parseSummary(r.stdout);
    const s1 = summary.get('server1.tlsecho.test')!;
    const bad = summary.get('bad.tlsecho.test')!;
    assert.deepEqual(s1, [ok, ok, 0]);
    assert.deepEqual(bad, [failed, 0, failed]);
    assert.match(r.stdout, new RegExp(`^summary: 12 requests, ${ok} ok, ${failed} failed$`, 'm'));
    if (failed > 0)
      assert.match(r.stdout, new RegExp(`bad\\.tlsecho\\.test: ${failed} x name not in certificate`));
    assert.equal(r.code, failed > 0 ? 1 : 0);
  });

  it('ping mode: Sent ping / Got pong', async () => {
    const r = await client(
      { https: server.httpsPort, http: server.httpPort },
      '--mode',
      'ping',
      '--count',
      '3',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      r.stdout.match(/ Sent ping to server[123]\.tlsecho\.test -> 127\.0\.0\.1:\d+$/gm)?.length,
      3,
      r.stdout,
    );
    assert.equal(r.stdout.match(/ Got pong from server[123]\.tlsecho\.test -> .* in [\d.]+ms$/gm)?.length, 3);
    assert.match(r.stdout, /^summary: 3 requests, 3 ok, 0 failed$/m);
  });

  it('--show-handshake prints what it offered and what the server chose, as the server read it', async () => {
    const r = await client(
      { https: server.httpsPort, http: server.httpPort },
      ...['--names', 'server2.tlsecho.test', '--count', '2', '--show-handshake'],
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n');
    assert.equal(
      lines.filter((l) => l.endsWith(': Client connection from 127.0.0.1 to server server2.tlsecho.test'))
        .length,
      2,
      r.stdout,
    );
    // Node's client: TLS 1.3 and 1.2 offered, no ALPN, x25519 among the groups (Node 24 puts
    // X25519MLKEM768 first); the server's choice next to it.
    assert.equal(
      lines.filter((l) => / {3}offered: TLS 1\.3, TLS 1\.2; ALPN none; groups [^;]*\bx25519\b/.test(l))
        .length,
      2,
      r.stdout,
    );
    assert.equal(
      lines.filter((l) => / {3}chose: {3}TLS 1\.3, TLS_\w+, no ALPN, /.test(l)).length,
      2,
      r.stdout,
    );
    assert.ok(
      lines.some((l) => l.includes('note:    sent SNI server2.tlsecho.test')),
      r.stdout,
    );
    const ja4 = lines.map((l) => / ja4: +(\S+) /.exec(l)?.[1]).filter(Boolean);
    assert.equal(ja4.length, 2);
    assert.equal(ja4[0], ja4[1], 'the same client, the same JA4');
  });

  it('waits with backoff while the server is not up yet, then succeeds', async () => {
    const ports = { https: await freePort('127.0.0.1'), http: await freePort('127.0.0.1') };
    const pending = client(ports, '--count', '2', '--wait-timeout', '20s');
    // Nothing listens yet: the client must say it is waiting rather than die.
    await new Promise((r) => setTimeout(r, 1500));
    const late = await startTlsechoServer(files(), ports);
    try {
      const r = await pending;
      assert.equal(r.code, 0, r.stderr);
      assert.match(
        r.stderr,
        /waiting for server: http:\/\/server1\.tlsecho\.test:\d+\/root_ca: connection refused; retrying in/,
      );
      assert.match(r.stdout, /^summary: 2 requests, 2 ok, 0 failed$/m);
    } finally {
      await late.stop();
    }
  });
});
