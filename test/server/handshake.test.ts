// The echo's handshake section and --tls-keylog, on the real server: what a client offered (read
// before TLS took the socket) next to what was chosen, the fingerprints, the counts by offered
// version and h2, and a key log that decrypts what tshark captured.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { promisify } from 'node:util';
import type { RunningServer } from '../../src/server/index.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { startWithPki } from '../helpers/server.js';
import { httpGet, metricValue } from './requests.js';

const run = promisify(execFile);
const NAME = `server2.${TEST_DOMAIN}`;

interface Handshake {
  client_hello: {
    server_name: string;
    alpn: { value: string }[];
    supported_groups: { name: string; grease?: true }[];
    cipher_suites: { code: string; name: string }[];
  };
  fingerprints: { ja4: string; ja3_hash: string };
  chosen: { version: string; alpn: string | null; cipher: string; certificate_names: string[] };
  notes: string[];
}

/** A raw HTTP/1.1 request for the JSON echo over a Node TLS connection with these options. */
function jsonOver(port: number, ca: string, o: tls.ConnectionOptions): Promise<{ handshake: Handshake }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: NAME, ca, ...o }, () =>
      socket.write(`GET /?format=json HTTP/1.1\r\nHost: ${NAME}\r\nConnection: close\r\n\r\n`),
    );
    let text = '';
    socket.on('data', (d: Buffer) => (text += d.toString('utf8')));
    socket.on('end', () =>
      resolve(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { handshake: Handshake }),
    );
    socket.on('error', reject);
  });
}

describe('the handshake in the echo, and --tls-keylog', () => {
  const t = tempDir();
  let pki: TestPki;
  let server: RunningServer;
  const keylog = () => join(t.dir, 'keys.log');
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    server = await startWithPki(pki, { tlsKeylog: keylog() });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  it('shows what the client offered next to what the server chose, with one note per choice', async () => {
    const doc = await jsonOver(server.httpsPort, pki.caPem, {
      ALPNProtocols: ['http/1.1', 'x-test'],
      ecdhCurve: 'P-256:X25519',
      ciphers: 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
    });
    const h = doc.handshake;
    assert.equal(h.client_hello.server_name, NAME);
    assert.deepEqual(
      h.client_hello.alpn.map((a) => a.value),
      ['http/1.1', 'x-test'],
    );
    assert.deepEqual(h.client_hello.supported_groups.map((g) => g.name).slice(0, 2), ['secp256r1', 'x25519']);
    assert.deepEqual(
      h.client_hello.cipher_suites.slice(0, 2).map((c) => c.name),
      ['TLS_CHACHA20_POLY1305_SHA256', 'TLS_AES_128_GCM_SHA256'],
    );
    assert.equal(h.chosen.alpn, 'http/1.1');
    assert.equal(h.chosen.version, 'TLS 1.3');
    assert.equal(h.chosen.cipher, 'TLS_CHACHA20_POLY1305_SHA256', "the server lets the client's order win");
    assert.ok(h.chosen.certificate_names.includes(NAME));
    assert.ok(h.notes.includes('offered http/1.1 and x-test; chose http/1.1'), h.notes.join('\n'));
    assert.match(h.fingerprints.ja4, /^t13d\d{4}h1_[0-9a-f]{12}_[0-9a-f]{12}$/);
    // The same client again: the same fingerprint.
    const again = await jsonOver(server.httpsPort, pki.caPem, {
      ALPNProtocols: ['http/1.1', 'x-test'],
      ecdhCurve: 'P-256:X25519',
      ciphers: 'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
    });
    assert.equal(again.handshake.fingerprints.ja4, h.fingerprints.ja4);
  });

  it('counts ClientHellos by the highest version offered and whether h2 was, over curl --http2', async () => {
    const count = async () =>
      metricValue((await httpGet(server.httpPort, '/metrics')).body, 'tlsecho_client_hellos_total', {
        offered_max_version: '1.3',
        h2_offered: 'true',
      });
    const before = await count();
    const r = await run('curl', [
      '-sS',
      '--http2',
      '--cacert',
      pki.root.cert,
      '--resolve',
      `${NAME}:${server.httpsPort}:127.0.0.1`,
      `https://${NAME}:${server.httpsPort}/?format=json`,
    ]);
    const doc = JSON.parse(r.stdout) as { handshake: Handshake };
    assert.equal(doc.handshake.chosen.alpn, 'h2');
    assert.ok(
      doc.handshake.notes.includes('offered h2 and http/1.1; chose h2'),
      doc.handshake.notes.join('\n'),
    );
    assert.equal(await count(), before + 1);
  });

  it('writes the key log 0600, one NSS line per secret', async () => {
    await jsonOver(server.httpsPort, pki.caPem, {});
    assert.equal(statSync(keylog()).mode & 0o777, 0o600);
    const lines = readFileSync(keylog(), 'utf8').trim().split('\n');
    assert.ok(lines.length >= 5);
    for (const l of lines)
      assert.match(
        l,
        /^(CLIENT_HANDSHAKE_TRAFFIC_SECRET|SERVER_HANDSHAKE_TRAFFIC_SECRET|CLIENT_TRAFFIC_SECRET_0|SERVER_TRAFFIC_SECRET_0|EXPORTER_SECRET|CLIENT_RANDOM) [0-9a-f]{64} [0-9a-f]+$/,
      );
  });

  it('refuses a key log it cannot open, in one line', async () => {
    await assert.rejects(
      startWithPki(pki, { tlsKeylog: join(t.dir, 'no', 'such', 'dir', 'k.log') }),
      /^CommandError: cannot open the TLS key log file .*k\.log: ENOENT; create its folder first$/,
    );
  });
});
