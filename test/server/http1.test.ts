// HTTP/1.1 on the HTTPS port (node:http's llhttp plus src/server/h1.ts), spoken byte by byte over
// real verified TLS connections: the hostile-input table of docs/server.md (each row the status
// llhttp and nginx give the same bytes), pipelining, keep-alive, bodies, 100-continue, timeouts
// that empty lines cannot stretch, and back-pressure.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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
  elapsedMs: number;
}

interface ExchangeOptions {
  until?: (text: string) => boolean;
  waitMs?: number;
  readDelayMs?: number;
  /** Further writes, each after a delay from the previous one. */
  then?: [number, string | Buffer][];
}

/** Writes raw request bytes on a verified TLS connection (ALPN http/1.1); collects what comes back. */
function exchange(
  port: number,
  ca: string,
  bytes: string | Buffer,
  o: ExchangeOptions = {},
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const timers: NodeJS.Timeout[] = [];
    const socket = tls.connect(
      { host: '127.0.0.1', port, servername: NAME, ca, ALPNProtocols: ['http/1.1'] },
      () => {
        socket.write(bytes);
        let at = 0;
        for (const [delay, more] of o.then ?? []) {
          at += delay;
          timers.push(setTimeout(() => socket.writable && socket.write(more), at));
        }
        if (o.readDelayMs) {
          socket.pause();
          setTimeout(() => socket.resume(), o.readDelayMs);
        }
      },
    );
    let text = '';
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      timers.forEach(clearTimeout);
      socket.destroy();
      resolve({ text, closed, elapsedMs: Date.now() - start });
    };
    const timer = setTimeout(() => finish(false), o.waitMs ?? 3000);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (o.until?.(text)) finish(false);
    });
    socket.on('close', () => finish(true));
    socket.on('error', (e: NodeJS.ErrnoException) =>
      settled || e.code === 'ECONNRESET' ? undefined : reject(e),
    );
  });
}

const count = (text: string, needle: string) => text.split(needle).length - 1;
const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
const bodyOf = (a: string) => a.slice(a.indexOf('\r\n\r\n') + 4);

describe('HTTP/1.1 on the HTTPS port', () => {
  const t = tempDir();
  let pki: TestPki;
  let server: RunningServer;
  const send = (bytes: string | Buffer, o?: ExchangeOptions) =>
    exchange(server.httpsPort, pki.caPem, bytes, o);
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    server = await startWithPki(pki, {
      keepAliveTimeoutMs: 1500,
      headerTimeoutMs: 2000,
      maxHeaderSize: 16_384,
      maxBodySize: 4096,
      echoBodyLimit: 64,
    });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  // The hostile-input table (docs/server.md): bytes llhttp and nginx refuse, refused the same way.
  const refused: [string, string | Buffer, number][] = [
    [
      'a space before the colon of Content-Length, with a request smuggled in the body',
      'POST /x HTTP/1.1\r\nHost: a.test\r\nContent-Length : 34\r\n\r\nGET /ping HTTP/1.1\r\nHost: a.test\r\n\r\n',
      400,
    ],
    ['a header line without a colon', 'GET / HTTP/1.1\r\nHost: a\r\nX-Foo bar\r\n\r\n', 400],
    ['Transfer-Encoding: xchunked', 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n', 501],
    [
      'Transfer-Encoding: chunked, identity',
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
      501,
    ],
    [
      'Content-Length and Transfer-Encoding together',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      400,
    ],
    [
      'two Content-Length values',
      'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
      400,
    ],
    [
      'a non-ASCII byte in the method',
      Buffer.from('G\xC5T /ping HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1'),
      400,
    ],
    ['a non-ASCII byte in the path', Buffer.from('GET /\xF0ing HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1'), 400],
    [
      'C1 controls in the path (a forged log line)',
      Buffer.from('GET /x\x8AFORGED-ENTRY\x89status=200 HTTP/1.1\r\nHost: a\r\n\r\n', 'latin1'),
      400,
    ],
    ['NUL in Host', 'GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n', 400],
    ['a space in Host', 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', 400],
    ['two Host headers', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
    ['HTTP/1.1 without Host', 'GET / HTTP/1.1\r\n\r\n', 400],
    ['an unknown method', 'BREW / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
    ['no request line at all', 'NONSENSE\r\n\r\n', 400],
    ['HTTP/2.0 in an HTTP/1 request line', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
    ['HTTP/9.9', 'GET / HTTP/9.9\r\nHost: a\r\n\r\n', 505],
  ];
  for (const [what, bytes, status] of refused)
    it(`answers ${status} and closes for ${what}`, async () => {
      const r = await send(bytes);
      assert.ok(r.closed, 'the server closed the connection');
      assert.deepEqual(statuses(r.text), [status], r.text);
      assert.match(r.text, /\r\nconnection: close\r\n/i);
      assert.ok(!r.text.includes('pong'), 'nothing after the refusal was served');
    });

  it('answers 431 at once for an oversized head that is the second request of a connection', async () => {
    const r = await send(
      `GET /ping HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nX-Big: ${'a'.repeat(20_000)}`,
      {
        waitMs: 1500,
      },
    );
    assert.deepEqual(statuses(r.text), [200, 431], r.text);
    assert.ok(r.closed && r.elapsedMs < 1500, `closed after ${r.elapsedMs} ms, not at the header timeout`);
  });

  it('serves an absolute-form target as its path (RFC 9112 §3.2.2)', async () => {
    const r = await send(
      'GET https://a.test:8443/ping HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n',
    );
    assert.deepEqual(statuses(r.text), [200]);
    assert.equal(bodyOf(r.text), 'pong\n');
  });

  it('answers Expect: 100-continue with 100, then the answer to the body', async () => {
    const body = 'hello after 100';
    const r = await send(
      `POST / HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
      {
        until: (x) => x.includes('HTTP/1.1 100 Continue\r\n\r\n') && !x.includes('HTTP/1.1 200'),
      },
    );
    assert.match(r.text, /^HTTP\/1\.1 100 Continue\r\n\r\n$/, 'the 100 comes before the body is sent');
    const socket = await new Promise<tls.TLSSocket>((resolve) => {
      const s = tls.connect(
        {
          host: '127.0.0.1',
          port: server.httpsPort,
          servername: NAME,
          ca: pki.caPem,
          ALPNProtocols: ['http/1.1'],
        },
        () => resolve(s),
      );
    });
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.write(
      `POST / HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    );
    while (!text.includes('100 Continue\r\n\r\n')) await once(socket, 'data');
    socket.write(body);
    await once(socket, 'close');
    assert.deepEqual(statuses(text), [100, 200], text);
    const doc = JSON.parse(bodyOf(text.slice(text.indexOf('HTTP/1.1 200')))) as {
      request: { body: { content: string } };
    };
    assert.equal(doc.request.body.content, body);
  });

  it('refuses a body over --max-body-size with 413 before asking for it or reading it', async () => {
    const withExpect = await send(
      'PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n',
    );
    assert.deepEqual(statuses(withExpect.text), [413], 'no 100 Continue for a body too large');
    assert.ok(withExpect.closed);
    assert.match(bodyOf(withExpect.text), /--max-body-size/);
    const declared = await send(
      `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5000\r\n\r\n${'x'.repeat(5000)}`,
    );
    assert.deepEqual(statuses(declared.text), [413]);
    assert.ok(declared.closed);
    // Chunked: no length to check first; the body is read up to the limit, then refused.
    const chunk = 'y'.repeat(1000);
    const chunked = await send(
      'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' +
        `3e8\r\n${chunk}\r\n`.repeat(6) +
        '0\r\n\r\nGET /ping HTTP/1.1\r\nHost: a\r\n\r\n',
    );
    assert.deepEqual(statuses(chunked.text), [413], chunked.text);
    assert.ok(chunked.closed && !chunked.text.includes('pong'));
  });

  it('echoes a chunked upload with its size, SHA-256 and content', async () => {
    const parts = ['hello, ', 'chunked ', 'world'];
    const whole = parts.join('');
    const r = await send(
      'POST /?x=1 HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n' +
        parts.map((p) => `${p.length.toString(16)}\r\n${p}\r\n`).join('') +
        '0\r\n\r\n',
    );
    assert.deepEqual(statuses(r.text), [200]);
    const doc = JSON.parse(bodyOf(r.text)) as {
      message: string;
      request: {
        method: string;
        http_version: string;
        query: Record<string, string[]>;
        headers: [string, string][];
        body: Record<string, unknown>;
      };
    };
    assert.equal(doc.message, ECHO.trim());
    assert.equal(doc.request.method, 'POST');
    assert.equal(doc.request.http_version, '1.1');
    assert.deepEqual(doc.request.query, { x: ['1'] });
    assert.deepEqual(
      doc.request.headers.map(([n]) => n),
      ['Host', 'Accept', 'Content-Type', 'Transfer-Encoding', 'Connection'],
      'in order, names as sent',
    );
    assert.deepEqual(doc.request.body, {
      size: whole.length,
      sha256: createHash('sha256').update(whole).digest('hex'),
      content_type: 'text/plain',
      encoding: 'utf-8',
      content: whole,
      truncated: false,
    });
  });

  it('shows a binary body as base64, and only its first --echo-body-limit bytes', async () => {
    const binary = Buffer.from([0xff, 0x00, 0xfe, 0x01]);
    const a = await send(
      Buffer.concat([
        Buffer.from(
          `POST / HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\nContent-Length: 4\r\nConnection: close\r\n\r\n`,
        ),
        binary,
      ]),
    );
    const body = (JSON.parse(bodyOf(a.text)) as { request: { body: Record<string, unknown> } }).request.body;
    assert.equal(body.encoding, 'base64');
    assert.equal(body.content, binary.toString('base64'));
    const long = 'é'.repeat(100); // 200 bytes of UTF-8; the limit (64) falls inside no character
    const b = await send(
      `POST / HTTP/1.1\r\nHost: a\r\nAccept: application/json\r\nContent-Length: ${Buffer.byteLength(long)}\r\nConnection: close\r\n\r\n${long}`,
      {},
    );
    const cut = (
      JSON.parse(Buffer.from(bodyOf(b.text), 'latin1').toString('utf8')) as {
        request: { body: Record<string, unknown> };
      }
    ).request.body;
    assert.equal(cut.size, 200);
    assert.equal(cut.truncated, true);
    assert.equal(cut.encoding, 'utf-8');
    assert.equal(cut.content, 'é'.repeat(32));
  });

  it('answers the seed line for every method on /, and 405 with Allow for POST /ping', async () => {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) {
      const r = await send(
        `${method} / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`,
      );
      assert.equal(bodyOf(r.text), ECHO, method);
    }
    const ping = await send(
      'POST /ping HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nConnection: close\r\n\r\n',
    );
    assert.deepEqual(statuses(ping.text), [405]);
    assert.match(ping.text, /\r\nallow: GET, HEAD\r\n/i);
  });

  it('answers pipelined requests in order and keeps the connection until asked to close', async () => {
    const r = await send(
      'GET /ping HTTP/1.1\r\nHost: a\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n' +
        'GET /ping HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
    );
    assert.ok(r.closed, 'closed after the request that asked for it');
    const answers = r.text.split(/(?=HTTP\/1\.1 )/);
    assert.equal(answers.length, 3, r.text);
    assert.match(answers[0]!, /^HTTP\/1\.1 200 OK\r\n[^]*\r\nkeep-alive: timeout=1\r\n[^]*\r\n\r\npong\n$/i);
    assert.match(answers[0]!, /\r\nconnection: keep-alive\r\n/i);
    assert.ok(answers[1]!.endsWith(`\r\n\r\n${ECHO}`), answers[1]);
    assert.match(answers[2]!, /\r\nconnection: close\r\n\r\npong\n$/i);
    // (a connection about to close announces no keep-alive timeout)
    assert.doesNotMatch(answers[2]!, /\r\nkeep-alive:/i);
    for (const a of answers) {
      assert.match(a, /\r\ndate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/i);
      assert.match(a, new RegExp(`\\r\\ncontent-length: ${Buffer.byteLength(bodyOf(a))}\\r\\n`));
    }
  });

  it('closes HTTP/1.0 after the answer unless the client asks for keep-alive', async () => {
    const plain = await send('GET /ping HTTP/1.0\r\n\r\n');
    assert.ok(plain.closed);
    assert.match(plain.text, /^HTTP\/1\.1 200 OK\r\n[^]*connection: close\r\n[^]*pong\n$/i);
    const kept = await send('GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n', {
      until: (x) => x.endsWith('pong\n'),
    });
    assert.equal(kept.closed, false, 'still open after the answer');
    assert.match(kept.text, /\r\nconnection: keep-alive\r\n/i);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const r = await send('HEAD / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    assert.match(r.text, new RegExp(`\\r\\ncontent-length: ${ECHO.length}\\r\\n`));
    assert.ok(r.text.endsWith('\r\n\r\n'), 'no body after the head');
  });

  it('answers CONNECT with 405: this is not a proxy', async () => {
    const r = await send('CONNECT a.test:443 HTTP/1.1\r\nHost: a.test:443\r\n\r\n');
    assert.deepEqual(statuses(r.text), [405]);
    assert.ok(r.closed);
  });

  it('cuts a new connection at --header-timeout however many empty lines it sends', async () => {
    const r = await send('\r\n', {
      waitMs: 6000,
      then: Array.from({ length: 20 }, () => [250, '\r\n'] as [number, string]),
    });
    assert.ok(r.closed, 'closed by the server');
    assert.ok(
      r.elapsedMs >= 1900 && r.elapsedMs < 4500,
      `closed after ${r.elapsedMs} ms (header timeout 2000 ms)`,
    );
  });

  it('cuts a head that arrives too slowly at --header-timeout, with 408', async () => {
    const r = await send('GET /ping HTTP/1.1\r\n', {
      waitMs: 6000,
      then: Array.from({ length: 20 }, (_, i) => [250, `X-${i}: y\r\n`] as [number, string]),
    });
    assert.ok(r.closed);
    assert.deepEqual(statuses(r.text), [408]);
    assert.ok(r.elapsedMs < 4500, `closed after ${r.elapsedMs} ms`);
  });

  it('closes an idle keep-alive connection at --keep-alive-timeout, empty lines or not', async () => {
    const quiet = await send('GET /ping HTTP/1.1\r\nHost: a\r\n\r\n', { waitMs: 5000 });
    assert.ok(quiet.closed, 'closed by the server');
    assert.ok(
      quiet.elapsedMs >= 1400 && quiet.elapsedMs < 3500,
      `closed after ${quiet.elapsedMs} ms (keep-alive timeout 1500 ms)`,
    );
    assert.equal(count(quiet.text, 'pong\n'), 1);
    const chatty = await send('GET /ping HTTP/1.1\r\nHost: a\r\n\r\n', {
      waitMs: 6000,
      then: Array.from({ length: 20 }, () => [250, '\r\n'] as [number, string]),
    });
    assert.ok(chatty.closed, 'empty lines do not keep it open');
    assert.ok(chatty.elapsedMs < 3500, `closed after ${chatty.elapsedMs} ms (keep-alive timeout 1500 ms)`);
  });

  it('applies --max-header-size to every request of a connection', async () => {
    const big = 'a'.repeat(17_000);
    const r = await send(
      `GET /ping HTTP/1.1\r\nHost: a\r\n\r\nGET /ping HTTP/1.1\r\nHost: a\r\n\r\nGET /ping HTTP/1.1\r\nHost: a\r\nX-Big: ${big}\r\n\r\n`,
    );
    assert.deepEqual(statuses(r.text), [200, 200, 431]);
    const small = await send(
      `GET /ping HTTP/1.1\r\nHost: a\r\n\r\nGET /ping HTTP/1.1\r\nHost: a\r\nX-Ok: ${'a'.repeat(8000)}\r\nConnection: close\r\n\r\n`,
    );
    assert.deepEqual(statuses(small.text), [200, 200], 'under the limit on a later request: served');
  });

  // Node's consumed-TLS read path turns a paused parser into HPE_PAUSED once a non-reading client
  // has pipelined several hundred requests (docs/server.md); below that, back-pressure holds.
  it('answers every pipelined request of a client that does not read for a while', async () => {
    const n = 300;
    const r = await send('GET /ping HTTP/1.1\r\nHost: a\r\n\r\n'.repeat(n), {
      readDelayMs: 300,
      until: (x) => count(x, 'pong\n') === n,
      waitMs: 15_000,
    });
    assert.equal(count(r.text, 'pong\n'), n);
    assert.equal(count(r.text, 'HTTP/1.1 200 OK\r\n'), n);
  });
});
