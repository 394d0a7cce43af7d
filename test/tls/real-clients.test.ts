// Real clients on this machine against the capture fixture: what each was told to offer
// (openssl's -groups/-ciphersuites/-alpn/-sigalgs, curl's --curves/--tls13-ciphers, Node's
// options) is found back exactly in the parsed ClientHello, with verification on, and each
// client's JA4 stays the same from one connection to the next.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { connect } from 'node:tls';
import type { ClientHello } from '../../src/tls/client-hello.js';
import { ja4 } from '../../src/tls/ja4.js';
import { runProcess } from '../helpers/cli.js';
import { skipUnless } from '../helpers/requirements.js';
import { makePki, tempDir, type TestPki } from '../helpers/pki.js';
import { helloOf, startHelloServer, type HelloServer, type Seen } from './fixture.js';

const has = (tool: string) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== null;
// openssl and curl are in every image the project builds; a machine without them says so.
const noOpenssl =
  spawnSync('openssl', ['version'], { stdio: 'ignore' }).status === 0
    ? undefined
    : 'openssl is not installed';
const noCurl = has('curl') ? undefined : 'curl is not installed (Debian package curl)';

const alpnText = (h: ClientHello) => h.alpn?.map((p) => Buffer.from(p).toString());

describe('real clients through captureClientHello', () => {
  const t = tempDir('tlsecho-clients-');
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

  /** Runs `connectOnce` `times` times; returns the connections it made, each settled. */
  async function connections(times: number, connectOnce: () => Promise<void>): Promise<Seen[]> {
    const out: Seen[] = [];
    for (let i = 0; i < times; i++) {
      const n = server.seen.length;
      await connectOnce();
      const seen = await server.connection(n);
      await seen.settled;
      out.push(seen);
    }
    return out;
  }

  /** openssl s_client to the server as localhost, verifying against the test root, plus `extra`. */
  const sClient = (extra: string[]) =>
    runProcess('openssl', [
      's_client',
      '-connect',
      `127.0.0.1:${server.port}`,
      '-servername',
      'localhost',
      '-CAfile',
      pki.root.cert,
      '-verify_return_error',
      ...extra,
    ]);

  it(
    'openssl s_client: -groups, -ciphersuites, -cipher, -sigalgs and -alpn found back exactly',
    { skip: skipUnless('TOOLS', noOpenssl) },
    async () => {
      const seen = await connections(2, async () => {
        const r = await sClient([
          '-groups',
          'P-384:X25519:P-256',
          '-ciphersuites',
          'TLS_CHACHA20_POLY1305_SHA256:TLS_AES_128_GCM_SHA256',
          '-cipher',
          'ECDHE-ECDSA-AES256-GCM-SHA384',
          '-sigalgs',
          'ecdsa_secp256r1_sha256:ed25519:rsa_pss_rsae_sha256',
          '-alpn',
          'h2,http/1.1',
          '-no_tls1',
          '-no_tls1_1',
          '-brief',
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stderr, /Verification: OK/);
        assert.match(r.stderr, /Protocol version: TLSv1\.3/);
      });
      for (const s of seen) {
        const h = helloOf(s);
        assert.equal(h.serverName, 'localhost');
        assert.deepEqual(alpnText(h), ['h2', 'http/1.1']);
        assert.deepEqual(h.supportedGroups, [0x0018, 0x001d, 0x0017]);
        assert.deepEqual(
          h.keyShares?.map((k) => k.group),
          [0x0018],
          'OpenSSL 3.0 sends a share for its first group',
        );
        const scsv = h.cipherSuites.includes(0x00ff);
        assert.deepEqual(h.cipherSuites, [0x1303, 0x1301, 0xc02c, ...(scsv ? [0x00ff] : [])]);
        assert.deepEqual(h.signatureAlgorithms, [0x0403, 0x0807, 0x0804]);
        assert.deepEqual(h.supportedVersions, [0x0304, 0x0303]);
        assert.equal((await s.settled).negotiated?.alpn, 'h2');
      }
      assert.equal(ja4(helloOf(seen[0]!)).ja4, ja4(helloOf(seen[1]!)).ja4);
      assert.match(ja4(helloOf(seen[0]!)).ja4, /^t13d0\d\d\dh2_/);
    },
  );

  it(
    'openssl s_client -max_send_frag 512: a ClientHello in several records, reassembled',
    { skip: skipUnless('TOOLS', noOpenssl) },
    async () => {
      const [s] = await connections(1, async () => {
        const r = await sClient([
          '-max_send_frag',
          '512',
          // Forty ALPN names make the ClientHello longer than one 512-byte record.
          '-alpn',
          [...Array.from({ length: 40 }, (_, i) => `x-protocol-${i}`), 'http/1.1'].join(','),
          '-brief',
        ]);
        assert.equal(r.code, 0, r.stderr);
      });
      const h = helloOf(s!);
      assert.ok(h.records > 1, `${h.records} record(s) for ${h.handshakeLength} bytes`);
      assert.equal((await s!.settled).negotiated?.version, 'TLSv1.3');
    },
  );

  it(
    'curl: --curves, --tls13-ciphers and HTTP/2 found back; JA4 stable over connections',
    { skip: skipUnless('TOOLS', noCurl) },
    async () => {
      const seen = await connections(3, async () => {
        const r = await runProcess('curl', [
          '--silent',
          '--show-error',
          '--cacert',
          pki.root.cert,
          '--resolve',
          `localhost:${server.port}:127.0.0.1`,
          '--http2',
          '--curves',
          'X25519:P-256',
          '--tls13-ciphers',
          'TLS_AES_256_GCM_SHA384',
          `https://localhost:${server.port}/`,
        ]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, 'hello over 2.0\n');
      });
      for (const s of seen) {
        const h = helloOf(s);
        assert.equal(h.serverName, 'localhost');
        assert.deepEqual(alpnText(h), ['h2', 'http/1.1']);
        assert.deepEqual(h.supportedGroups, [0x001d, 0x0017]);
        assert.equal(h.cipherSuites[0], 0x1302);
        assert.ok(
          !h.cipherSuites.includes(0x1301) && !h.cipherSuites.includes(0x1303),
          'only the one TLS 1.3 suite',
        );
        assert.equal((await s.settled).negotiated?.cipher, 'TLS_AES_256_GCM_SHA384');
      }
      const prints = seen.map((s) => ja4(helloOf(s)).ja4);
      assert.equal(new Set(prints).size, 1, prints.join(' '));
    },
  );

  it('Node tls: the options given are what is offered, JA4 stable, a resumed session offers its PSK', async () => {
    let session: Buffer | undefined;
    const once = () =>
      new Promise<void>((resolve, reject) => {
        const s = connect(
          {
            port: server.port,
            host: '127.0.0.1',
            servername: 'localhost',
            ca: pki.caPem,
            ALPNProtocols: ['h2'],
            ecdhCurve: 'X25519',
            ...(session ? { session } : {}),
          },
          () => s.end(),
        );
        s.on('session', (sess: Buffer) => (session = sess));
        s.on('close', () => resolve());
        s.on('error', reject);
        s.resume();
      });
    const seen = await connections(3, once);
    const hellos = seen.map(helloOf);
    for (const h of hellos) {
      assert.deepEqual(alpnText(h), ['h2']);
      assert.deepEqual(h.supportedGroups, [0x001d]);
    }
    assert.equal(hellos[0]!.pskIdentities, undefined, 'the first connection has no session to offer');
    assert.equal(hellos[2]!.pskIdentities, 1, 'a later one offers the ticket it got');
    assert.equal((await seen[2]!.settled).negotiated?.resumed, true);
    // A PSK adds extensions: JA4 counts them, so compare like with like.
    assert.equal(ja4(hellos[1]!).ja4, ja4(hellos[2]!).ja4);
  });
});
