// The HTTPS echo, /ping and the plain-HTTP port, over real verified TLS connections to a server
// started in this process with certificates from tlsecho's own CA.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { startWithPki } from '../helpers/server.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { h2Session, httpGet, httpsGet, metricValue, rawExchange } from './requests.js';

const NAMES = [1, 2, 3].map((i) => `server${i}.${TEST_DOMAIN}`);

/** One HTTP/2 GET / with the given :authority on a verified session; its status and body. */
async function h2Get(port: number, ca: string, servername: string, authority: string) {
  const { session } = h2Session(port, ca, servername);
  try {
    return await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = session.request({ ':path': '/', ':authority': authority });
      let status = 0;
      let body = '';
      req.on('response', (h) => (status = Number(h[':status'])));
      req.setEncoding('utf8');
      req.on('data', (d: string) => (body += d));
      req.on('end', () => resolve({ status, body }));
      req.on('error', reject);
    });
  } finally {
    session.close();
  }
}

describe('tlsecho server: echo, ping and the plain-HTTP port', () => {
  const t = tempDir();
  let pki: TestPki;
  let server: RunningServer;
  let ca: string;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    ca = pki.caPem;
    server = await startWithPki(pki, { handshakeTimeoutMs: 1000, headerTimeoutMs: 1000 });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  for (const name of NAMES)
    it(`answers the seed's exact line for SNI ${name}`, async () => {
      const r = await httpsGet({ port: server.httpsPort, ca, servername: name });
      assert.equal(r.status, 200);
      assert.match(r.headers['content-type']!, /^text\/plain/);
      assert.equal(r.body, `Client connection from 127.0.0.1 to server ${name}\n`);
    });

  it('says so explicitly when the client sent no SNI', async () => {
    const r = await httpsGet({ port: server.httpsPort, ca });
    assert.equal(
      r.body,
      `Client connection from 127.0.0.1 with no SNI (the client sent no server name; it connected to 127.0.0.1:${server.httpsPort})\n`,
    );
  });

  it('answers JSON with the connection facts, and resumes sessions', async () => {
    const headers = { accept: 'application/json' };
    const first = await httpsGet({ port: server.httpsPort, ca, servername: NAMES[1], headers });
    assert.match(first.headers['content-type']!, /^application\/json/);
    const d = JSON.parse(first.body) as Record<string, unknown>;
    assert.equal(d.message, `Client connection from 127.0.0.1 to server ${NAMES[1]}`);
    assert.equal(d.client_ip, '127.0.0.1');
    assert.equal(typeof d.client_port, 'number');
    assert.equal(d.server_name, NAMES[1]);
    assert.equal(d.sni_sent, true);
    assert.equal(d.host, `${NAMES[1]}:${server.httpsPort}`);
    assert.equal(d.local_address, '127.0.0.1');
    assert.equal(d.local_port, server.httpsPort);
    assert.equal(d.tls_version, 'TLSv1.3');
    assert.match(String(d.cipher), /^TLS_(AES_(128|256)_GCM|CHACHA20_POLY1305)_SHA(256|384)$/);
    assert.equal(d.alpn, 'http/1.1');
    assert.equal(d.session_resumed, false);
    assert.equal(d.client_certificate, null);
    assert.equal(typeof d.served_by, 'string');
    assert.equal(d.root_ca_fingerprint_sha256, pki.root.fingerprint.colon);

    assert.ok(first.session, 'the server issued a session ticket');
    const resumedWith = async (session: Buffer) => {
      const r = await httpsGet({ port: server.httpsPort, ca, servername: NAMES[1], headers, session });
      assert.equal((JSON.parse(r.body) as { session_resumed: boolean }).session_resumed, true);
      return r;
    };
    const again = await resumedWith(first.session);
    // TLS 1.3 tickets are single-use: the resumed connection must bring a fresh one (as nginx
    // does), or the client's next reconnect is a full handshake.
    assert.ok(again.session, 'a resumed connection brings a new ticket');
    await resumedWith(again.session);
  });

  it('negotiates TLS 1.2 with an intermediate cipher and refuses TLS 1.1', async () => {
    const { default: tls } = await import('node:tls');
    const connect = (opts: object) =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect(
          { host: '127.0.0.1', port: server.httpsPort, servername: NAMES[0], ca, ...opts },
          () => {
            resolve(`${s.getProtocol()} ${s.getCipher().name}`);
            s.destroy();
          },
        );
        s.on('error', reject);
      });
    assert.match(
      await connect({ maxVersion: 'TLSv1.2' }),
      /^TLSv1\.2 ECDHE-ECDSA-(AES(128|256)-GCM-SHA(256|384)|CHACHA20-POLY1305)$/,
    );
    const refused = async () =>
      metricValue((await httpGet(server.httpPort, '/metrics')).body, 'tlsecho_tls_handshake_failures_total', {
        reason: 'unsupported_protocol',
      });
    const before = await refused();
    await assert.rejects(
      connect({ minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }),
      { code: 'ERR_SSL_TLSV1_ALERT_PROTOCOL_VERSION' }, // the server's protocol_version alert
    );
    assert.equal(await refused(), before + 1);
  });

  it('serves a self-contained HTML page under a strict CSP, escaping what the client sent', async () => {
    const r = await httpsGet({
      port: server.httpsPort,
      ca,
      servername: NAMES[2],
      headers: { accept: 'text/html,application/xhtml+xml', 'user-agent': '<b>x</b>' },
    });
    assert.match(r.headers['content-type']!, /^text\/html/);
    const csp = String(r.headers['content-security-policy']);
    assert.match(csp, /default-src 'none'/);
    const style = /<style>([\s\S]*?)<\/style>/.exec(r.body)![1]!;
    const hash = createHash('sha256').update(style).digest('base64');
    assert.ok(
      csp.includes(`style-src 'sha256-${hash}'`),
      'the inline style is allowed by its hash, nothing else',
    );
    assert.doesNotMatch(r.body, /<script|src=|https?:\/\//, 'no scripts or external assets');
    assert.match(r.body, /prefers-color-scheme:dark/);
    assert.match(r.body, /<html lang="en">/);
    assert.ok(r.body.includes(`Client connection from 127.0.0.1 to server ${NAMES[2]}`));
    assert.ok(r.body.includes(pki.root.fingerprint.colon));
    assert.ok(r.body.includes('href="/?format=json"'));
    assert.ok(r.body.includes('&lt;b&gt;x&lt;/b&gt;') && !r.body.includes('<b>x</b>'));
    const json = await httpsGet({ port: server.httpsPort, ca, servername: NAMES[2], path: '/?format=json' });
    assert.equal((JSON.parse(json.body) as { server_name: string }).server_name, NAMES[2]);
  });

  it('answers GET /ping with pong', async () => {
    const r = await httpsGet({ port: server.httpsPort, ca, servername: NAMES[0], path: '/ping' });
    assert.equal(r.status, 200);
    assert.equal(r.body, 'pong\n');
  });

  it('serves the exact CA file at /root_ca and probes on the plain-HTTP port', async () => {
    const r = await httpGet(server.httpPort, '/root_ca');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/x-pem-file');
    assert.equal(r.body, readFileSync(pki.root.cert, 'utf8'));
    assert.equal((await httpGet(server.httpPort, '/healthz')).status, 200);
    assert.equal((await httpGet(server.httpPort, '/readyz')).body, 'ready\n');
  });

  it('never echoes over plain HTTP: redirects / to HTTPS, 404 names the routes', async () => {
    const r = await httpGet(server.httpPort, '/', { host: `${NAMES[0]}:${server.httpPort}` });
    assert.equal(r.status, 308);
    assert.equal(r.headers.location, `https://${NAMES[0]}:${server.httpsPort}/`);
    const standard = await httpGet(server.httpPort, '/ping', { host: NAMES[0] });
    assert.equal(standard.headers.location, `https://${NAMES[0]}/ping`, 'no port in Host: standard ports');
    const other = await httpGet(server.httpPort, '/nope');
    assert.equal(other.status, 404);
    assert.match(other.body, /\/root_ca/);
    assert.doesNotMatch(other.body, /Client connection/);
  });

  it('answers plain HTTP on the HTTPS port with a clear 400', async () => {
    const r = await httpGet(server.httpsPort, '/');
    assert.equal(r.status, 400);
    assert.match(r.body, /plain HTTP request was sent to the HTTPS port/);
    assert.ok(r.body.includes(`port ${server.httpPort} at /root_ca`));
  });

  it('counts a connection closed before sending a byte as no_data, not as a failed handshake', async () => {
    const before = (await httpGet(server.httpPort, '/metrics')).body;
    const count = (text: string, reason: string) =>
      metricValue(text, 'tlsecho_tls_handshake_failures_total', { reason });
    await new Promise<void>((resolve, reject) => {
      const s = connect(server.httpsPort, '127.0.0.1', () => s.end());
      s.on('close', () => resolve());
      s.on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 200));
    const after = (await httpGet(server.httpPort, '/metrics')).body;
    assert.equal(count(after, 'no_data'), count(before, 'no_data') + 1);
    assert.equal(count(after, 'connection_reset'), count(before, 'connection_reset'));
  });

  it('drops garbage and a truncated ClientHello while serving others', async () => {
    const garbage = await rawExchange(server.httpsPort, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a]));
    assert.ok(garbage.closedByServer, 'garbage: connection closed');
    // A handshake record header announcing 512 bytes, then 10 of them, then silence.
    const truncated = rawExchange(
      server.httpsPort,
      Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), Buffer.alloc(10, 1)]),
      {
        keepOpen: true,
        waitMs: 6000,
      },
    );
    const meanwhile = await httpsGet({ port: server.httpsPort, ca, servername: NAMES[0] });
    assert.equal(meanwhile.status, 200, 'others are served while the truncated handshake hangs');
    const t = await truncated;
    assert.ok(t.closedByServer, 'the truncated handshake is cut at the handshake timeout');
    assert.ok(t.elapsedMs < 5000, `cut after ${t.elapsedMs} ms (handshake timeout 1000 ms)`);
    assert.equal(
      (await httpsGet({ port: server.httpsPort, ca, servername: NAMES[0], path: '/ping' })).body,
      'pong\n',
    );
  });

  it(
    'takes an SNI, Host or :authority naming an IPv6 address with a zone (fe80::1%eth0) in its stride',
    { timeout: 20_000 },
    async () => {
      // Such an SNI once threw inside the connection's set-up and ended the process.
      await assert.rejects(
        httpsGet({ port: server.httpsPort, ca, servername: 'fe80::1%eth0' }),
        /ERR_TLS_CERT_ALTNAME_INVALID|does not match certificate's altnames/,
      );
      for (const host of ['[fe80::1%eth0]', '[fe80::1%25eth0]:8443']) {
        const r = await httpsGet({ port: server.httpsPort, ca, servername: NAMES[0], headers: { host } });
        assert.equal(r.status, 400, `Host ${host}: ${r.body}`);
      }
      const h2 = await h2Get(server.httpsPort, ca, NAMES[0]!, '[fe80::1%eth0]');
      assert.equal(h2.status, 421, h2.body);
      assert.equal(
        (await httpsGet({ port: server.httpsPort, ca, servername: NAMES[0], path: '/ping' })).body,
        'pong\n',
      );
    },
  );

  it('answers an oversized header with 431', async () => {
    const r = await httpsGet({
      port: server.httpsPort,
      ca,
      servername: NAMES[0],
      headers: { 'x-big': 'a'.repeat(20_000) },
    }).catch((e: Error) => e);
    assert.ok(!(r instanceof Error), `got an answer, not ${String(r)}`);
    assert.equal(r.status, 431);
  });

  it('cuts off a client that sends its headers too slowly', async () => {
    const { default: tls } = await import('node:tls');
    const start = Date.now();
    const result = await new Promise<{ text: string; closed: boolean }>((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port: server.httpsPort, servername: NAMES[0], ca }, () => {
        s.write('GET / HTTP/1.1\r\nHost: x\r\n'); // ...and never the end of the headers
        const drip = setInterval(() => s.writable && s.write('X-Slow: 1\r\n'), 200);
        const giveUp = setTimeout(() => s.destroy(), 8000);
        let text = '';
        s.on('data', (d: Buffer) => (text += d));
        s.on('close', () => {
          clearInterval(drip);
          clearTimeout(giveUp);
          resolve({ text, closed: Date.now() - start < 8000 });
        });
      });
      s.on('error', reject);
    });
    assert.ok(result.closed, 'the server closed the connection');
    assert.match(result.text, /^HTTP\/1\.1 408/);
    assert.ok(Date.now() - start < 4000, `cut after ${Date.now() - start} ms with a 1000 ms header timeout`);
  });

  it('counts requests and handshake failures in /metrics without client IPs', async () => {
    // Deltas over what this test does itself, so the figures hold whatever ran before it.
    const read = async () => (await httpGet(server.httpPort, '/metrics')).body;
    const failures = (text: string, reason: string) =>
      metricValue(text, 'tlsecho_tls_handshake_failures_total', { reason });
    const counts = (text: string) => ({
      echo: NAMES.map((name) =>
        metricValue(text, 'tlsecho_requests_total', { route: '/', status: '200', server_name: name }),
      ),
      ping: metricValue(text, 'tlsecho_requests_total', { route: '/ping', status: '200' }),
      tooLarge: metricValue(text, 'tlsecho_requests_total', { status: '431' }),
      plainHttp: failures(text, 'plain_http'),
      notTls: failures(text, 'not_tls'),
      timeout: failures(text, 'timeout'),
      resumed: metricValue(text, 'tlsecho_tls_handshakes_total', { resumed: 'true' }),
      echoDurations: metricValue(text, 'tlsecho_request_duration_seconds_count', { route: '/' }),
      rootCa: metricValue(text, 'tlsecho_http_requests_total', { route: '/root_ca', status: '200' }),
    });
    const before = counts(await read());

    let session: Buffer | undefined;
    for (const name of NAMES) {
      const r = await httpsGet({ port: server.httpsPort, ca, servername: name });
      session ??= r.session;
    }
    const ping = { port: server.httpsPort, ca, servername: NAMES[0], path: '/ping' };
    assert.equal((await httpsGet({ ...ping, session })).body, 'pong\n'); // a resumed handshake
    const big = await httpsGet({ ...ping, path: '/', headers: { 'x-big': 'a'.repeat(20_000) } });
    assert.equal(big.status, 431);
    assert.equal((await httpGet(server.httpsPort, '/')).status, 400);
    assert.ok(
      (await rawExchange(server.httpsPort, Buffer.from([0x00, 0xff, 0x13, 0x37, 0x0a]))).closedByServer,
    );
    const truncatedHello = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), Buffer.alloc(10, 1)]);
    assert.ok((await rawExchange(server.httpsPort, truncatedHello, { keepOpen: true })).closedByServer);
    assert.equal((await httpGet(server.httpPort, '/root_ca')).status, 200);

    const text = await read();
    const plus = (n: number) => (was: number) => was + n;
    assert.deepEqual(counts(text), {
      echo: before.echo.map(plus(1)),
      ping: before.ping + 1,
      tooLarge: before.tooLarge + 1,
      plainHttp: before.plainHttp + 1,
      notTls: before.notTls + 1,
      timeout: before.timeout + 1,
      resumed: before.resumed + 1,
      echoDurations: before.echoDurations + 3,
      rootCa: before.rootCa + 1,
    });
    assert.doesNotMatch(
      text
        .split('\n')
        .filter((l) => l.startsWith('tlsecho_'))
        .join('\n'),
      /127\.0\.0\.1/,
    );
  });
});
