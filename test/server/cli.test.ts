// `tlsecho server` as a real process: the ready line, graceful shutdown with a request in
// flight, one-line start-up errors, and --workers.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import type { ChildProcess } from 'node:child_process';
import { runCli, startCli, waitForLine } from '../helpers/cli.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { h2Session, httpGet, httpsGet, metricValue } from './requests.js';

const NAME = `server1.${TEST_DOMAIN}`;

function exited(child: ChildProcess, timeoutMs: number): Promise<number | null | 'timeout'> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return Promise.race([
    once(child, 'exit').then(([code]) => code as number | null),
    new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs)),
  ]);
}

function ports(readyLine: string): { https: number; http: number } {
  return {
    https: Number(/https_port[=":]+(\d+)/.exec(readyLine)![1]),
    http: Number(/http_port[=":]+(\d+)/.exec(readyLine)![1]),
  };
}

describe('tlsecho server (process)', () => {
  const t = tempDir();
  let pki: TestPki;
  const children: ChildProcess[] = [];
  const start = (...args: string[]) => {
    const child = startCli([
      'server',
      '--certs-path',
      pki.out,
      '--https-port',
      '0',
      '--http-port',
      '0',
      ...args,
    ]);
    children.push(child);
    return child;
  };
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
  });
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    t.cleanup();
  });

  it('finishes a request in flight on SIGTERM, then exits 0', async () => {
    const child = start();
    const p = ports(await waitForLine(child, / ready /));
    const socket = tls.connect({ host: '127.0.0.1', port: p.https, servername: NAME, ca: pki.caPem });
    await once(socket, 'secureConnect');
    let answer = '';
    socket.on('data', (d: Buffer) => (answer += d));
    const logged = waitForLine(child, /Received GET \/ping/);
    socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n'); // the request is under way...
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    await waitForLine(child, /shutting down/);
    socket.end('\r\n'); // ...and completes after the signal
    await once(socket, 'close');
    assert.match(answer, /^HTTP\/1\.1 200 OK\r\n/);
    assert.match(answer, /\r\nConnection: close\r\n/i);
    assert.match(answer, /\r\n\r\npong\n$/);
    // The seed's ponger line, in the text format.
    assert.match(
      await logged,
      new RegExp(
        `^\\S+Z INFO Received GET /ping client=127\\.0\\.0\\.1 sni=${NAME.replaceAll('.', '\\.')} status=200 ms=[\\d.]+$`,
      ),
    );
    assert.equal(await exited(child, 5000), 0);
  });

  it('fails /readyz with 503 during --shutdown-delay while both ports keep serving, then exits 0', async () => {
    const child = start('--shutdown-delay', '1s');
    const p = ports(await waitForLine(child, / ready /));
    assert.equal((await httpGet(p.http, '/readyz')).status, 200);
    child.kill('SIGTERM');
    await waitForLine(child, /shutting down/);
    const readyz = await httpGet(p.http, '/readyz');
    assert.deepEqual(
      { status: readyz.status, body: readyz.body },
      { status: 503, body: 'not ready: shutting down\n' },
    );
    // Load balancers still send traffic until they notice: it is answered, not refused.
    assert.equal((await httpGet(p.http, '/healthz')).status, 200);
    const r = await httpsGet({ port: p.https, ca: pki.caPem, servername: NAME });
    assert.equal(r.body, `Client connection from 127.0.0.1 to server ${NAME}\n`);
    assert.equal(await exited(child, 5000), 0);
  });

  it('exits at once on a second signal while a request holds the shutdown', async () => {
    const child = start('--shutdown-timeout', '30s');
    const p = ports(await waitForLine(child, / ready /));
    const socket = tls.connect({ host: '127.0.0.1', port: p.https, servername: NAME, ca: pki.caPem });
    await once(socket, 'secureConnect');
    socket.on('error', () => {});
    socket.write('GET /ping HTTP/1.1\r\nHost: x\r\n'); // never finished: shutdown would wait 30 s
    await new Promise((r) => setTimeout(r, 200));
    child.kill('SIGTERM');
    await waitForLine(child, /shutting down/);
    const second = waitForLine(child, /second signal: exiting now/);
    child.kill('SIGINT');
    await second;
    assert.equal(await exited(child, 3000), 1, 'exits (non-zero: requests were cut) well before 30 s');
    socket.destroy();
  });

  it('prints one line and exits non-zero for a missing file', async () => {
    const r = await runCli([
      'server',
      '--certs-path',
      join(t.dir, 'nowhere'),
      '--https-port',
      '0',
      '--http-port',
      '0',
    ]);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      `tlsecho server: cannot read --cert-file ${join(t.dir, 'nowhere', NAME, 'cert.pem')}: no such file (run 'npx tlsecho ca' first)\n`,
    );
  });

  it('prints one line and exits non-zero for a key that does not match', async () => {
    const other = await makePki(join(t.dir, 'other'));
    const r = await runCli([
      'server',
      '--certs-path',
      pki.out,
      '--key-file',
      other.server!.key,
      '--https-port',
      '0',
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /^tlsecho server: --key-file \S+ does not match the certificate in --cert-file \S+\n$/,
    );
  });

  it('prints one line and exits non-zero when the port is in use', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, r));
    try {
      const port = (busy.address() as { port: number }).port;
      for (const workers of ['1', '2']) {
        const r = await runCli([
          'server',
          '--certs-path',
          pki.out,
          '--https-port',
          String(port),
          '--http-port',
          '0',
          '--workers',
          workers,
        ]);
        assert.equal(r.code, 1, `--workers ${workers}`);
        assert.match(
          r.stderr,
          new RegExp(
            `^tlsecho server: cannot listen on all interfaces port ${port} \\(--https-port\\): address already in use\\n$`,
          ),
        );
      }
    } finally {
      busy.close();
    }
  });

  it('logs one line per request, with the bytes a client chose escaped (no forged lines)', async () => {
    const child = start();
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
    const p = ports(await waitForLine(child, / ready /));
    const logged = waitForLine(child, /Received GET \/x/);
    // HTTP/1.1: llhttp refuses C1 controls in a path; the refusal is the one line logged.
    const forged = Buffer.from('GET /x\x8AFORGED-ENTRY\x89status=200 HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1');
    const socket = tls.connect({
      host: '127.0.0.1',
      port: p.https,
      servername: NAME,
      ca: pki.caPem,
      ALPNProtocols: ['http/1.1'],
    });
    await once(socket, 'secureConnect');
    socket.on('data', () => {});
    socket.end(forged);
    await once(socket, 'close');
    // HTTP/2: nghttp2 refuses control bytes in :path (the stream is reset) but lets non-ASCII
    // and backslashes through; the log escapes them.
    const { session } = h2Session(p.https, pki.caPem, NAME);
    for (const path of ['/x\x1b[31mred', '/x\u00e9\\u0041']) {
      const stream = session.request({ ':path': path });
      stream.on('error', () => {});
      stream.resume();
      await new Promise((r) => stream.on('close', r));
    }
    session.close();
    await logged;
    child.kill('SIGTERM');
    assert.equal(await exited(child, 5000), 0);
    const lines = out.split('\n').filter((l) => l.length > 0);
    const rejected = lines.filter((l) => l.includes('rejected request on https port'));
    assert.equal(rejected.length, 1, out);
    assert.match(
      rejected[0]!,
      /^\S+Z INFO rejected request on https port client=127\.0\.0\.1 code=HPE_\w+ status=400$/,
    );
    assert.ok(!lines.some((l) => l.startsWith('FORGED') || l.includes('FORGED-ENTRY')), 'no forged line');
    const h2line = lines.find((l) => l.includes('Received GET /x'));
    assert.ok(h2line?.includes('Received GET /x\\u00e9\\u005cu0041 '), h2line);
    assert.ok(!out.includes('red'), 'the stream with an escape byte was refused, not served');
    assert.ok(!out.includes('\x1b'), 'no raw escape byte reaches the log');
  });

  it('serves with --workers 2, aggregates metrics, logs JSON and shuts down cleanly', async () => {
    const child = start('--workers', '2', '--log-format', 'json');
    const line = await waitForLine(child, /"msg":"ready"/);
    const ready = JSON.parse(line) as { https_port: number; http_port: number; workers: number };
    assert.equal(ready.workers, 2);
    const requests = 12;
    const logged = waitForLine(child, /"msg":"Received GET \/"/);
    for (let i = 0; i < requests; i++) {
      const r = await httpsGet({ port: ready.https_port, ca: pki.caPem, servername: NAME });
      assert.equal(r.body, `Client connection from 127.0.0.1 to server ${NAME}\n`);
    }
    // A ticket issued by one worker resumes on the other: they share the ticket keys.
    let session: Buffer | undefined;
    let resumed = 0;
    for (let i = 0; i < 4; i++) {
      const r = await httpsGet({
        port: ready.https_port,
        ca: pki.caPem,
        servername: NAME,
        path: '/?format=json',
        session,
      });
      session = r.session ?? session;
      if ((JSON.parse(r.body) as { session_resumed: boolean }).session_resumed) resumed++;
    }
    assert.equal(resumed, 3);
    // The request line in JSON: pino's shape (key order included) with the worker's number.
    const entry = JSON.parse(await logged) as Record<string, unknown>;
    assert.deepEqual(Object.keys(entry), [
      'level',
      'time',
      'pid',
      'worker',
      'client',
      'sni',
      'status',
      'ms',
      'msg',
    ]);
    assert.deepEqual(
      { level: entry.level, client: entry.client, sni: entry.sni, status: entry.status, msg: entry.msg },
      { level: 'info', client: '127.0.0.1', sni: NAME, status: 200, msg: 'Received GET /' },
    );
    assert.equal(typeof entry.ms, 'number');
    assert.equal((await httpGet(ready.http_port, '/root_ca')).body, pki.caPem);
    const metrics = (await httpGet(ready.http_port, '/metrics')).body;
    assert.equal(
      metricValue(metrics, 'tlsecho_requests_total', { route: '/', status: '200', server_name: NAME }),
      requests + 4,
    );
    child.kill('SIGTERM');
    assert.equal(await exited(child, 10_000), 0);
  });
});
