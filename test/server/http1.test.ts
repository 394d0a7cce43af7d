// HTTP/1.1 connection rules of the HTTPS port (src/server/http1.ts), spoken byte by byte over
// real verified TLS connections: pipelining, keep-alive by version, bodies never read, bad heads,
// idle timeout and back-pressure.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import type { RunningServer } from '../../src/server/index.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { startWithPki } from '../helpers/server.js';

const NAME = `server1.${TEST_DOMAIN}`;
const ECHO = 'Client connection from 127.0.0.1 to server ' + NAME + '\n';

interface Exchange {
  text: string;
  /** True when the server closed the connection within the wait. */
  closed: boolean;
}

/** Writes raw request bytes on a verified TLS connection; collects what comes back. */
function exchange(
  port: number,
  ca: string,
  bytes: string,
  o: { until?: (text: string) => boolean; waitMs?: number; readDelayMs?: number } = {},
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: NAME, ca }, () => {
      socket.write(bytes);
      if (o.readDelayMs) {
        socket.pause();
        setTimeout(() => socket.resume(), o.readDelayMs);
      }
    });
    let text = '';
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => finish(false), o.waitMs ?? 3000);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (o.until?.(text)) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', (e) => (settled ? undefined : reject(e)));
  });
}

const count = (text: string, needle: string) => text.split(needle).length - 1;

describe('HTTP/1.1 on the HTTPS port', () => {
  const t = tempDir();
  let pki: TestPki;
  let server: RunningServer;
  const send = (bytes: string, o?: Parameters<typeof exchange>[3]) =>
    exchange(server.httpsPort, pki.caPem, bytes, o);
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    server = await startWithPki(pki, { keepAliveTimeoutMs: 1500, headerTimeoutMs: 2000 });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  it('answers pipelined requests in order and keeps the connection until asked to close', async () => {
    const r = await send(
      'GET /ping HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n' +
        'GET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    assert.ok(r.closed, 'closed after the request that asked for it');
    const answers = r.text.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 3, r.text);
    assert.match(answers[0]!, /^HTTP\/1\.1 200 OK\r\n[^]*keep-alive: timeout=1\r\n\r\npong\n$/);
    assert.ok(answers[1]!.endsWith(`\r\n\r\n${ECHO}`), answers[1]);
    assert.match(answers[2]!, /\r\nconnection: close\r\n\r\npong\n$/);
    for (const a of answers) {
      assert.match(a, /\r\ndate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
      const body = a.slice(a.indexOf('\r\n\r\n') + 4);
      assert.match(a, new RegExp(`\\r\\ncontent-length: ${Buffer.byteLength(body)}\\r\\n`));
    }
  });

  it('closes HTTP/1.0 after the answer unless the client asks for keep-alive', async () => {
    const plain = await send('GET /ping HTTP/1.0\r\n\r\n');
    assert.ok(plain.closed);
    assert.match(plain.text, /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n[^]*pong\n$/);
    const kept = await send('GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', {
      until: (x) => x.endsWith('pong\n'),
    });
    assert.equal(kept.closed, false, 'still open after the answer');
    assert.match(kept.text, /\r\nconnection: keep-alive\r\n/);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const r = await send('HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.match(r.text, new RegExp(`\\r\\ncontent-length: ${ECHO.length}\\r\\n`));
    assert.ok(r.text.endsWith('\r\n\r\n'), 'no body after the head');
  });

  it('gives each request on a connection its own answer while repeats reuse the last one', async () => {
    // One connection: the same answer repeated, then every way an answer may differ from the last.
    const get = (extra = '') => `GET / HTTP/1.1\r\nHost: a\r\n${extra}\r\n`;
    const r = await send(
      get() +
        get() +
        get('Accept: application/json\r\n') +
        'HEAD / HTTP/1.1\r\nHost: a\r\n\r\n' +
        'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' +
        get('Connection: close\r\n'),
    );
    const answers = r.text.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 6, r.text);
    const bodyOf = (a: string) => a.slice(a.indexOf('\r\n\r\n') + 4);
    assert.equal(answers[0], answers[1], 'a repeat within the second is the same answer');
    assert.equal(bodyOf(answers[1]!), ECHO);
    assert.match(bodyOf(answers[2]!), /^\{\n {2}"message": "Client connection from/);
    assert.equal(bodyOf(answers[3]!), '', 'HEAD: no body');
    assert.match(answers[3]!, new RegExp(`\\r\\ncontent-length: ${ECHO.length}\\r\\n`));
    assert.match(answers[4]!, /\r\nconnection: keep-alive\r\n/);
    assert.equal(bodyOf(answers[4]!), ECHO);
    assert.match(answers[5]!, /\r\nconnection: close\r\n/);
    assert.doesNotMatch(answers[5]!, /keep-alive/);
  });

  it('dates each answer, also when the same answer repeats a second later', async () => {
    const dates: string[] = [];
    const socket = tls.connect({
      host: '127.0.0.1',
      port: server.httpsPort,
      servername: NAME,
      ca: pki.caPem,
    });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    for (let i = 0; i < 2; i++) {
      text = '';
      socket.write('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
      while (!text.endsWith(ECHO)) await once(socket, 'data');
      dates.push(/\r\ndate: ([^\r]+)\r\n/.exec(text)![1]!);
      if (i === 0) await new Promise((r) => setTimeout(r, 1100));
    }
    socket.destroy();
    assert.notEqual(dates[0], dates[1], 'a new second, a new date');
    assert.ok(Date.parse(dates[1]!) > Date.parse(dates[0]!));
  });

  it('answers a request with a body or an upgrade and closes, never reading on', async () => {
    const smuggled = 'GET /ping HTTP/1.1\r\nHost: a\r\n\r\n';
    const r = await send(
      `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: ${smuggled.length}\r\n\r\n${smuggled}`,
    );
    assert.ok(r.closed);
    assert.match(r.text, /^HTTP\/1\.1 405 Method Not Allowed\r\n[^]*connection: close\r\n/);
    assert.equal(count(r.text, 'HTTP/1.1 '), 1, 'one answer only: the body was not a request');
    assert.ok(!r.text.includes('pong'));
    const chunked = await send(
      'GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    );
    assert.ok(chunked.closed);
    assert.match(chunked.text, /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n/);
    const upgrade = await send(
      'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\nGET /ping HTTP/1.1\r\n\r\n',
    );
    assert.ok(upgrade.closed, 'an upgrade request is answered, not upgraded, and its connection closed');
    assert.match(upgrade.text, /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n/);
    assert.equal(count(upgrade.text, 'HTTP/1.1 '), 1);
  });

  it('rejects bad heads with the status that names the problem, then closes', async () => {
    const cases: [string, RegExp][] = [
      ['GET / HTTP/1.1\r\n\r\n', /^HTTP\/1\.1 400 Bad Request\r\n/], // no Host
      ['GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['GET / HTTP/2.0\r\nHost: a\r\n\r\n', /^HTTP\/1\.1 505 HTTP Version Not Supported\r\n/],
      ['NONSENSE\r\n\r\n', /^HTTP\/1\.1 400 /],
      ['BREW / HTTP/1.1\r\nHost: a\r\n\r\n', /^HTTP\/1\.1 400 /],
    ];
    for (const [bytes, want] of cases) {
      const r = await send(bytes);
      assert.ok(r.closed, JSON.stringify(bytes));
      assert.match(r.text, want, JSON.stringify(bytes));
      assert.match(r.text, /\r\nconnection: close\r\n/);
    }
    // A request that was answered before the bad one keeps its answer, in order.
    const mixed = await send('GET /ping HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/9.9\r\nHost: a\r\n\r\n');
    assert.match(mixed.text, /^HTTP\/1\.1 200 OK\r\n[^]*pong\nHTTP\/1\.1 505 /);
  });

  it('closes a connection idle for longer than --keep-alive-timeout', async () => {
    const start = Date.now();
    const r = await send('GET /ping HTTP/1.1\r\nHost: a\r\n\r\n', { waitMs: 5000 });
    assert.ok(r.closed, 'closed by the server');
    const elapsed = Date.now() - start;
    assert.ok(elapsed >= 1400 && elapsed < 4500, `closed after ${elapsed} ms (keep-alive timeout 1500 ms)`);
    assert.equal(count(r.text, 'pong\n'), 1);
  });

  /**
   * A client that never ends its side (allowHalfOpen): sends `request`, waits for the server's
   * end plus `waitMs`, then writes; true when a write fails within `withinMs`, i.e. the server's
   * socket is closed (EPIPE / ECONNRESET).
   */
  async function serverClosedForHalfOpenClient(request: string, waitMs: number, withinMs: number) {
    // (node:tls honours allowHalfOpen; @types/node does not list it for tls.connect)
    const options: tls.ConnectionOptions & { allowHalfOpen: boolean } = {
      host: '127.0.0.1',
      port: server.httpsPort,
      servername: NAME,
      ca: pki.caPem,
      allowHalfOpen: true,
    };
    const socket = tls.connect(options);
    socket.on('data', () => {});
    socket.write(request);
    await once(socket, 'end');
    await new Promise((r) => setTimeout(r, waitMs));
    const gone = new Promise<boolean>((resolve) => {
      socket.on('error', () => resolve(true));
      setTimeout(() => resolve(false), withinMs);
    });
    socket.write('GET /ping HTTP/1.1\r\n');
    setTimeout(() => socket.writable && socket.write('Host: a\r\n'), Math.min(200, withinMs / 2));
    const closed = await gone;
    socket.destroy();
    return closed;
  }

  it('closes the connection as soon as the answer to Connection: close is out', async () => {
    const request = 'GET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n';
    assert.ok(await serverClosedForHalfOpenClient(request, 50, 300), 'closed, not only ended');
  });

  it('lingers when bytes followed the request that asked to close', async () => {
    const request =
      'GET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\nGET /ping HTTP/1.1\r\nHost: a\r\n\r\n';
    assert.equal(
      await serverClosedForHalfOpenClient(request, 50, 300),
      false,
      'still reading after the answer',
    );
  });

  it('lingers after answering a request whose body it did not read, then cuts the client', async () => {
    const request = 'POST /ping HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello';
    // Closing with unread bytes would reset the connection, perhaps before the answer is read.
    assert.equal(
      await serverClosedForHalfOpenClient(request, 50, 300),
      false,
      'still reading after the answer',
    );
    // A client that keeps its side open is not held for long.
    assert.ok(await serverClosedForHalfOpenClient(request, 2500, 2000), 'cut after the 1 s linger');
  });

  it('answers every pipelined request of a client that does not read for a while', async () => {
    const n = 3000;
    const r = await send('GET /ping HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(n), {
      readDelayMs: 300,
      until: (x) => count(x, 'pong\n') === n,
      waitMs: 10_000,
    });
    assert.equal(count(r.text, 'pong\n'), n);
    assert.equal(count(r.text, 'HTTP/1.1 200 OK\r\n'), n);
  });
});
