// captureClientHello on real sockets: the ClientHello is read before node:tls takes the
// connection, every byte is handed back, and the handshake then completes with verification on,
// on Node 20 and 24 alike. Plain HTTP, silence, early close and garbage are reported, not hung on.
import assert from 'node:assert/strict';
import { connect as netConnect, createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ConnectionOptions } from 'node:tls';
import { makePki, tempDir, type TestPki } from '../helpers/pki.js';
import { httpsGet, rawExchange } from '../server/requests.js';
import { helloOf, startHelloServer, type HelloServer } from './fixture.js';

/** A verified HTTPS GET for localhost, trusting only the test root; `extra` adds TLS options. */
const tlsGet = (port: number, pki: TestPki, extra: ConnectionOptions = {}) =>
  httpsGet({ port, ca: pki.caPem, servername: 'localhost', tls: extra });

/**
 * A TCP relay that forwards the client's bytes in `size`-byte pieces, each its own write with a
 * pause, so the server reads the ClientHello in many TCP reads; `holdAfter` bytes in, it stops
 * for `holdMs` (longer than the capture's timeout, to test the timeout path).
 */
async function slowRelay(target: number, size: number, holdAfter = Infinity, holdMs = 0): Promise<Server> {
  const relay = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = netConnect(target, '127.0.0.1');
    upstream.setNoDelay(true);
    upstream.pipe(client);
    let sent = 0;
    let queue = Promise.resolve();
    client.on('data', (d: Buffer) => {
      queue = queue.then(async () => {
        for (let at = 0; at < d.length; at += size) {
          if (sent < holdAfter && sent + size >= holdAfter) await new Promise((r) => setTimeout(r, holdMs));
          upstream.write(d.subarray(at, at + size));
          sent += Math.min(size, d.length - at);
          await new Promise((r) => setTimeout(r, 2));
        }
      });
    });
    client.on('end', () => void queue.then(() => upstream.end()));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  return relay;
}

describe('captureClientHello in front of a node:tls server', () => {
  const t = tempDir('tlsecho-capture-');
  let pki: TestPki;
  let server: HelloServer;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    server = await startHelloServer(pki);
  });
  after(async () => {
    await server.close();
    t.cleanup();
  });

  it('a verified Node tls handshake completes, and the capture holds its exact ClientHello', async () => {
    const n = server.seen.length;
    const reply = await tlsGet(server.port, pki, {
      ciphers: 'TLS_AES_256_GCM_SHA384:ECDHE-ECDSA-AES128-GCM-SHA256',
      ecdhCurve: 'P-384:X25519',
      sigalgs: 'ecdsa_secp256r1_sha256:rsa_pss_rsae_sha256',
      ALPNProtocols: ['x-unknown', 'http/1.1'],
    });
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'hello over 1.1\n');
    const seen = await server.connection(n);
    assert.equal(seen.capture.status, 'complete');
    const { negotiated, lookedUp } = await seen.settled;
    assert.equal(lookedUp, seen.capture, 'captureOf() finds the capture from the TLS socket');
    assert.equal(negotiated?.version, 'TLSv1.3');
    assert.equal(negotiated?.cipher, 'TLS_AES_256_GCM_SHA384');
    const h = helloOf(seen);
    assert.equal(h.serverName, 'localhost');
    assert.deepEqual(
      h.alpn?.map((p) => Buffer.from(p).toString()),
      ['x-unknown', 'http/1.1'],
    );
    // TLS 1.3 suites first, then TLS 1.2's; secure renegotiation is signalled by the SCSV
    // (OpenSSL 3.0, Node 20) or by the renegotiation_info extension (OpenSSL 3.5, Node 24).
    const scsv = h.cipherSuites.includes(0x00ff);
    assert.deepEqual(h.cipherSuites, scsv ? [0x1302, 0xc02b, 0x00ff] : [0x1302, 0xc02b]);
    assert.equal(
      h.extensions.some((e) => e.type === 0xff01),
      !scsv,
    );
    assert.deepEqual(h.supportedGroups, [0x0018, 0x001d]);
    assert.deepEqual(h.signatureAlgorithms, [0x0403, 0x0804]);
    assert.deepEqual(
      h.keyShares?.map((k) => [k.group, k.keyLength]),
      [[0x0018, 97]],
    );
    assert.deepEqual(h.supportedVersions, [0x0304, 0x0303]);
    assert.equal(h.records, 1);
    assert.equal(h.trailingBytes, 0);
  });

  it('a ClientHello read in 7-byte TCP pieces is reassembled and the handshake still completes', async () => {
    const relay = await slowRelay(server.port, 7);
    try {
      const n = server.seen.length;
      const reply = await tlsGet((relay.address() as AddressInfo).port, pki);
      assert.equal(reply.status, 200);
      const seen = await server.connection(n);
      assert.equal(seen.capture.status, 'complete');
      helloOf(seen);
    } finally {
      relay.close();
    }
  });

  it('a client stalled mid-hello past the timeout: "timeout", the bytes go on and the handshake completes', async () => {
    const impatient = await startHelloServer(pki, 400);
    const relay = await slowRelay(impatient.port, 50, 100, 700);
    try {
      const reply = await tlsGet((relay.address() as AddressInfo).port, pki);
      assert.equal(reply.status, 200);
      const seen = await impatient.connection(0);
      assert.equal(seen.capture.status, 'timeout');
      assert.match(seen.capture.reason ?? '', /^no complete ClientHello within 400 ms \(\d+ bytes read\)$/);
      assert.ok(seen.capture.handedBack);
      assert.deepEqual(seen.capture.hello(), { unparsed: seen.capture.reason });
      assert.equal((await seen.settled).negotiated?.version, 'TLSv1.3');
    } finally {
      relay.close();
      await impatient.close();
    }
  });

  it('plain HTTP: "not_tls", the bytes handed back intact, OpenSSL sees the request and the 400 goes out', async () => {
    const n = server.seen.length;
    const request = 'GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n';
    const { received } = await rawExchange(server.port, request, { keepOpen: true });
    assert.match(
      received,
      /^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*plain HTTP request was sent to the HTTPS port/,
    );
    const seen = await server.connection(n);
    assert.equal(seen.capture.status, 'not_tls');
    assert.match(seen.capture.reason ?? '', /plain text where a TLS record should start/);
    assert.equal(seen.capture.bytes.toString(), request);
    const settled = await seen.settled;
    assert.equal(settled.tlsError, 'ERR_SSL_HTTP_REQUEST');
    assert.equal(settled.notTls, 'plain_http');
  });

  it('a connection closed without a byte: "closed", nothing handed on', async () => {
    const n = server.seen.length;
    await rawExchange(server.port, '');
    const seen = await server.connection(n);
    assert.equal(seen.capture.status, 'closed');
    assert.equal(seen.capture.handedBack, false);
    assert.equal(seen.capture.bytes.length, 0);
    assert.match(seen.capture.reason ?? '', /^the client closed after 0 bytes/);
  });

  it('a record announcing a 1 MiB ClientHello: "too_large" at once, and OpenSSL then refuses it', async () => {
    const n = server.seen.length;
    const head = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0x10, 0x00, 0x00]);
    await rawExchange(server.port, head, { keepOpen: true });
    const seen = await server.connection(n);
    assert.equal(seen.capture.status, 'too_large');
    assert.match(seen.capture.reason ?? '', /^ClientHello of 1048580 bytes, over the 65536 read$/);
    assert.ok((await seen.settled).tlsError, 'the TLS server saw the same bytes and failed the handshake');
  });

  it('a non-handshake record first: "not_tls"; a record of the wrong type mid-hello: "malformed"', async () => {
    const n = server.seen.length;
    await rawExchange(server.port, Buffer.from([0x17, 0x03, 0x03, 0x00, 0x01, 0x00]), { keepOpen: true });
    assert.equal((await server.connection(n)).capture.status, 'not_tls');
    const split = Buffer.from([
      0x16, 0x03, 0x01, 0x00, 0x02, 0x01, 0x00, 0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28,
    ]);
    await rawExchange(server.port, split, { keepOpen: true });
    const seen = await server.connection(n + 1);
    assert.equal(seen.capture.status, 'malformed');
    assert.equal(seen.capture.reason, 'record of type 21 inside the ClientHello');
  });
});
