// HTTP/2 on the HTTPS port (node:http2's nghttp2 plus src/server/h2.ts), with real clients: Node's
// http2 client and curl --http2, verified TLS throughout. The echo over h2, connection
// coalescing and 421, bodies, limits, a rapid-reset burst (CVE-2023-44487), and --alpn.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http2 from 'node:http2';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { RunningServer } from '../../src/server/index.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { startWithPki } from '../helpers/server.js';
import { h2Session } from './requests.js';

const run = promisify(execFile);
const NAMES = ['server1', 'server2', 'server3'].map((n) => `${n}.${TEST_DOMAIN}`);

interface H2Reply {
  status: number;
  headers: http2.IncomingHttpHeaders;
  /** The response's header list as received ([name, value, …]): repeats are not folded. */
  raw: string[];
  body: string;
}

/** A verified h2 session to 127.0.0.1 with `servername` as SNI. */
async function connect(port: number, ca: string, servername: string): Promise<http2.ClientHttp2Session> {
  const { session } = h2Session(port, ca, servername);
  await once(session, 'connect');
  return session;
}

function request(
  session: http2.ClientHttp2Session,
  headers: http2.OutgoingHttpHeaders,
  body?: Buffer | string,
): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    let status = 0;
    let replyHeaders: http2.IncomingHttpHeaders = {};
    let raw: string[] = [];
    let text = '';
    stream.setEncoding('utf8');
    // (node:http2 passes the raw list as a third argument; its types know two)
    const onResponse = (h: http2.IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
      status = Number(h[':status']);
      replyHeaders = h;
      raw = rawHeaders;
    };
    stream.on('response', onResponse as (h: http2.IncomingHttpHeaders, flags: number) => void);
    stream.on('data', (d: string) => (text += d));
    stream.on('end', () => resolve({ status, headers: replyHeaders, raw, body: text }));
    stream.on('error', reject);
    if (body !== undefined) stream.end(body);
  });
}

interface EchoJson {
  alpn: string;
  server_name: string;
  host: string;
  http2: { stream_id: number; authority: string; authority_matches_sni: boolean } | null;
  request: {
    method: string;
    http_version: string;
    headers: [string, string][];
    body: { size: number; sha256: string; content: string } | null;
  };
}

describe('HTTP/2 on the HTTPS port', () => {
  const t = tempDir();
  let pki: TestPki;
  let server: RunningServer;
  let h1only: RunningServer;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    server = await startWithPki(pki, { maxBodySize: 4096, maxConcurrentStreams: 50 });
    h1only = await startWithPki(pki, { alpn: ['http/1.1'] });
  });
  after(async () => {
    await server?.close();
    await h1only?.close();
    t.cleanup();
  });

  it('echoes over h2 with the ALPN, the stream id and the headers without pseudo-headers', async () => {
    const session = await connect(server.httpsPort, pki.caPem, NAMES[0]!);
    try {
      const text = await request(session, { ':path': '/' });
      assert.equal(text.status, 200);
      assert.equal(text.body, `Client connection from 127.0.0.1 to server ${NAMES[0]}\n`);
      const r = await request(session, { ':path': '/?format=json', 'x-first': 'a', 'X-Second': 'b' });
      const doc = JSON.parse(r.body) as EchoJson;
      assert.equal(doc.alpn, 'h2');
      assert.equal(doc.request.http_version, '2');
      assert.equal(doc.http2?.stream_id, 3, 'the second stream of the session');
      assert.equal(doc.http2?.authority, `${NAMES[0]}:${server.httpsPort}`);
      assert.equal(doc.http2?.authority_matches_sni, true);
      assert.deepEqual(
        doc.request.headers.map(([n]) => n),
        ['x-first', 'x-second'],
        'HTTP/2 header names are lowercase, pseudo-headers apart',
      );
      const ping = await request(session, { ':path': '/ping' });
      assert.equal(ping.body, 'pong\n');
      const post = await request(session, { ':path': '/ping', ':method': 'POST' }, '');
      assert.equal(post.status, 405);
      assert.equal(post.headers.allow, 'GET, HEAD');
    } finally {
      session.close();
    }
  });

  it('answers with the same headers every time: type, length, date, no-store, nosniff; HEAD without a body', async () => {
    const session = await connect(server.httpsPort, pki.caPem, NAMES[0]!);
    try {
      // Three times each: an answer's header list is built once and reused (h2.ts responseHead).
      for (let i = 0; i < 3; i++) {
        for (const [path, type] of [
          ['/', 'text/plain; charset=utf-8'],
          ['/ping', 'text/plain; charset=utf-8'],
          ['/?format=json', 'application/json; charset=utf-8'],
          ['/?format=html', 'text/html; charset=utf-8'],
        ] as const) {
          const r = await request(session, { ':path': path });
          assert.equal(r.status, 200, path);
          assert.equal(r.headers['content-type'], type, path);
          assert.equal(r.headers['content-length'], String(Buffer.byteLength(r.body)), path);
          assert.equal(r.headers['cache-control'], 'no-store', path);
          assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
          assert.match(String(r.headers.date), /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/, path);
          if (type.startsWith('text/html'))
            assert.match(String(r.headers['content-security-policy']), /default-src/);
          const names = r.raw.filter((_, i) => i % 2 === 0);
          assert.ok(names.length >= 6, `the header list as received: ${names.join(' ')}`);
          assert.equal(new Set(names).size, names.length, `no header twice on ${path}: ${names.join(' ')}`);
        }
        const head = await request(session, { ':path': '/', ':method': 'HEAD' });
        assert.equal(head.status, 200);
        assert.equal(head.body, '');
        assert.equal(
          head.headers['content-length'],
          String(`Client connection from 127.0.0.1 to server ${NAMES[0]}\n`.length),
        );
      }
      // The date is each response's own, not one kept with the reused header list.
      const first = (await request(session, { ':path': '/ping' })).headers.date;
      await new Promise((r) => setTimeout(r, 1100));
      const later = (await request(session, { ':path': '/ping' })).headers.date;
      assert.notEqual(later, first, 'a second later, another date');
    } finally {
      session.close();
    }
  });

  it('shows a coalesced request (another name of the certificate) and refuses a foreign :authority with 421', async () => {
    const session = await connect(server.httpsPort, pki.caPem, NAMES[0]!);
    try {
      const other = await request(session, {
        ':path': '/?format=json',
        ':authority': `${NAMES[1]}:${server.httpsPort}`,
      });
      assert.equal(other.status, 200);
      const doc = JSON.parse(other.body) as EchoJson;
      assert.equal(doc.server_name, NAMES[0], 'the SNI stays that of the connection');
      assert.equal(doc.http2?.authority, `${NAMES[1]}:${server.httpsPort}`);
      assert.equal(doc.http2?.authority_matches_sni, false);
      const page = await request(session, { ':path': '/', ':authority': NAMES[1]!, accept: 'text/html' });
      assert.match(page.body, /connection coalescing/);
      const foreign = await request(session, { ':path': '/', ':authority': 'bank.example:443' });
      assert.equal(foreign.status, 421);
      assert.match(foreign.body, /does not cover bank\.example/);
      const ipv6 = await request(session, { ':path': '/ping', ':authority': `[::1]:${server.httpsPort}` });
      assert.equal(ipv6.status, 200, '::1 is in the certificate (written 0:0:…:1 by OpenSSL)');
    } finally {
      session.close();
    }
  });

  it('answers 421 before a body and ends the stream, so no upload can hold the session', async () => {
    const session = await connect(server.httpsPort, pki.caPem, NAMES[0]!);
    try {
      // HEADERS without END_STREAM, and no body ever: the 421 must not wait for one.
      const stream = session.request(
        { ':path': '/', ':method': 'POST', ':authority': 'bank.example:443' },
        { endStream: false },
      );
      let status = 0;
      stream.on('response', (h) => (status = Number(h[':status'])));
      stream.resume();
      const closed = await Promise.race([
        once(stream, 'close').then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 5000)),
      ]);
      assert.equal(status, 421);
      assert.ok(closed, 'the server ended the stream without waiting for the body');
      assert.equal(stream.rstCode, http2.constants.NGHTTP2_NO_ERROR);
      // The session itself stays usable.
      assert.equal((await request(session, { ':path': '/ping' })).status, 200);
    } finally {
      session.close();
    }
  });

  it('echoes a request body with its SHA-256 and refuses one over --max-body-size with 413', async () => {
    const session = await connect(server.httpsPort, pki.caPem, NAMES[2]!);
    try {
      const body = Buffer.from('h2 body '.repeat(100));
      const r = await request(session, { ':path': '/', ':method': 'PUT', accept: 'application/json' }, body);
      const doc = JSON.parse(r.body) as EchoJson;
      assert.equal(doc.request.method, 'PUT');
      assert.equal(doc.request.body?.size, body.length);
      assert.equal(doc.request.body?.sha256, createHash('sha256').update(body).digest('hex'));
      const big = await request(session, { ':path': '/', ':method': 'POST' }, Buffer.alloc(10_000, 'z'));
      assert.equal(big.status, 413);
      // The session survives a refused stream.
      assert.equal((await request(session, { ':path': '/ping' })).body, 'pong\n');
    } finally {
      session.close();
    }
  });

  it('announces its stream limit and header list size in SETTINGS', async () => {
    const session = await connect(server.httpsPort, pki.caPem, NAMES[0]!);
    try {
      await request(session, { ':path': '/ping' }); // SETTINGS were exchanged by then
      assert.equal(session.remoteSettings.maxConcurrentStreams, 50);
      assert.equal(session.remoteSettings.maxHeaderListSize, 16_384);
    } finally {
      session.close();
    }
  });

  it('answers curl --http2 over h2, and HTTP/1.1 only with --alpn http/1.1', async () => {
    const curl = async (port: number) =>
      run('curl', [
        '-sS',
        '--http2',
        '--cacert',
        pki.root.cert,
        '--resolve',
        `${NAMES[1]}:${port}:127.0.0.1`,
        '-w',
        '\n%{http_version}',
        `https://${NAMES[1]}:${port}/`,
      ]);
    const h2 = await curl(server.httpsPort);
    assert.equal(h2.stdout, `Client connection from 127.0.0.1 to server ${NAMES[1]}\n\n2`);
    const h1 = await curl(h1only.httpsPort);
    assert.equal(h1.stdout, `Client connection from 127.0.0.1 to server ${NAMES[1]}\n\n1.1`);
  });

  it('keeps serving other clients through a rapid-reset burst (CVE-2023-44487)', async () => {
    const attacker = await connect(server.httpsPort, pki.caPem, NAMES[0]!);
    const victim = await connect(server.httpsPort, pki.caPem, NAMES[1]!);
    let goaway: number | undefined;
    attacker.on('goaway', (code: number) => (goaway = code));
    // (not events.once: the GOAWAY arrives as an 'error', which would reject it)
    const closed = new Promise((resolve) => attacker.once('close', resolve));
    // Open and cancel streams as fast as the client can: bounded to 20,000 streams.
    let sent = 0;
    const burst = (async () => {
      for (; sent < 20_000 && !attacker.closed && !attacker.destroyed; sent++) {
        try {
          const stream = attacker.request({ ':path': '/' });
          stream.on('error', () => {}); // the session going away fails its open streams
          stream.close(http2.constants.NGHTTP2_CANCEL);
        } catch {
          break; // the session is going away
        }
        if (sent % 500 === 499) await new Promise((r) => setImmediate(r));
      }
    })();
    try {
      const answers: number[] = [];
      for (let i = 0; i < 20; i++) answers.push((await request(victim, { ':path': '/ping' })).status);
      assert.deepEqual(answers, new Array(20).fill(200), 'every request of the other client answered');
      await burst;
      await Promise.race([closed, new Promise((r) => setTimeout(r, 5000))]);
      assert.ok(
        attacker.destroyed || attacker.closed,
        `the resetting session was ended (sent ${sent} streams)`,
      );
      assert.ok(
        goaway !== undefined && goaway !== http2.constants.NGHTTP2_NO_ERROR,
        `GOAWAY with an error (${goaway})`,
      );
      // The server itself is fine: a new session is served.
      const after = await connect(server.httpsPort, pki.caPem, NAMES[2]!);
      assert.equal((await request(after, { ':path': '/ping' })).status, 200);
      after.close();
    } finally {
      attacker.destroy();
      victim.close();
    }
  });
});

describe('HTTP/2 idle sessions and --keep-alive-timeout', () => {
  const t = tempDir();
  let pki: TestPki;
  let server: RunningServer;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    server = await startWithPki(pki, { keepAliveTimeoutMs: 1000, requestTimeoutMs: 20_000 });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  /** ms after `since` to the session's GOAWAY (any code) or close; Infinity if none in 6 s. */
  const goneAfter = (session: http2.ClientHttp2Session, since: number) =>
    new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(Infinity), 6000);
      const gone = () => {
        clearTimeout(timer);
        resolve(Date.now() - since);
      };
      session.once('goaway', gone);
      session.once('close', gone);
    });

  it('ends a session idle after its last answer with GOAWAY, about the timeout later', async () => {
    const session = await connect(server.httpsPort, pki.caPem, NAMES[0]!);
    try {
      assert.equal((await request(session, { ':path': '/ping' })).status, 200);
      const elapsed = await goneAfter(session, Date.now());
      assert.ok(elapsed >= 900 && elapsed < 4000, `GOAWAY ${elapsed} ms after the answer (timeout 1000 ms)`);
    } finally {
      session.destroy();
    }
  });

  it('keeps a session that goes on asking, and one whose stream is still open', async () => {
    const busy = await connect(server.httpsPort, pki.caPem, NAMES[0]!);
    const uploading = await connect(server.httpsPort, pki.caPem, NAMES[1]!);
    let ended = '';
    busy.once('goaway', () => (ended += 'busy '));
    uploading.once('goaway', () => (ended += 'uploading '));
    try {
      // An upload whose body takes 2.5 s: its session has a stream open the whole time.
      const stream = uploading.request({ ':path': '/?format=json', ':method': 'POST' }, { endStream: false });
      let text = '';
      stream.setEncoding('utf8');
      stream.on('data', (d: string) => (text += d));
      stream.write('first half, ');
      const started = Date.now();
      while (Date.now() - started < 2500) {
        assert.equal((await request(busy, { ':path': '/ping' })).status, 200);
        await new Promise((r) => setTimeout(r, 300));
      }
      stream.end('second half');
      await once(stream, 'end');
      const doc = JSON.parse(text) as EchoJson;
      assert.equal(doc.request.body?.content, 'first half, second half');
      assert.equal(ended, '', 'neither session got a GOAWAY while in use');
      // Once both are idle, both go.
      const [a, b] = await Promise.all([goneAfter(busy, Date.now()), goneAfter(uploading, Date.now())]);
      assert.ok(a < 4000 && b < 4000, `idle sessions ended after ${a} and ${b} ms`);
    } finally {
      busy.destroy();
      uploading.destroy();
    }
  });
});
