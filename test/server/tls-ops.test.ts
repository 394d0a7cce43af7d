// Certificate rotation without restart (including a Kubernetes-style `..data` symlink swap) and
// mutual TLS, with real handshakes against a server started in this process.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueCertificates } from '../../src/ca/api.js';
import { fingerprintOfPem } from '../../src/ca/fingerprint.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { startWithPki } from '../helpers/server.js';
import { makePki, reissueServer, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { httpGet, httpsGet, metricValue } from './requests.js';

const NAME = `server1.${TEST_DOMAIN}`;

/** Polls until `check` holds (bounded: 40 tries, 100 ms apart). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('certificate rotation', () => {
  const t = tempDir();
  let pki: TestPki;
  let server: RunningServer;
  const served = async () =>
    (await httpsGet({ port: server.httpsPort, ca: pki.caPem, servername: NAME })).peerFingerprint;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    server = await startWithPki(pki, { reloadIntervalMs: 100 });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  const reloads = async () => {
    const text = (await httpGet(server.httpPort, '/metrics')).body;
    const count = (result: string) => metricValue(text, 'tlsecho_certificate_reloads_total', { result });
    return { applied: count('applied'), rejected: count('rejected') };
  };

  it('serves a re-issued certificate on new connections, without restart', async () => {
    const applied = (await reloads()).applied;
    const before = await served();
    assert.equal(before, fingerprintOfPem(pki.certPem).colon);
    // What `tlsecho ca --force` does: new leaf and key into the same files.
    const renewed = await reissueServer(pki, [NAME, 'localhost']);
    assert.notEqual(renewed, before);
    await eventually(async () => (await served()) === renewed, 'the renewed certificate');
    assert.equal((await reloads()).applied, applied + 1);
    // The rotated context still renews TLS 1.3 tickets on resumption (the hook is per context).
    const get = (session?: Buffer) =>
      httpsGet({ port: server.httpsPort, ca: pki.caPem, servername: NAME, session, path: '/?format=json' });
    const resumedOnce = await get((await get()).session);
    assert.equal((JSON.parse(resumedOnce.body) as { session_resumed: boolean }).session_resumed, true);
    assert.ok(resumedOnce.session, 'the resumed connection brought a new ticket');
  });

  it('rejects a key that does not match and keeps serving the current pair', async () => {
    const current = await served();
    const before = await reloads();
    const other = await makePki(join(t.dir, 'other'));
    writeFileSync(pki.server!.key, other.keyPem, { mode: 0o600 });
    assert.equal(server.reload(), 'rejected');
    assert.equal(await served(), current);
    // One rejection counted, whether the poll or reload() saw the bad pair first (a rejection
    // is counted once per reason), and nothing applied.
    assert.deepEqual(await reloads(), { applied: before.applied, rejected: before.rejected + 1 });
  });
});

describe('certificate rotation through a Kubernetes secret volume', () => {
  const t = tempDir();
  let server: RunningServer;
  let ca: string;
  // A secret volume: <dir>/tls.crt -> ..data/tls.crt, ..data -> ..<timestamp>/ (swapped atomically).
  const mount = join(t.dir, 'secret');
  const publish = (version: string, cert: string, key: string) => {
    const dir = join(mount, `..${version}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'tls.crt'), cert);
    writeFileSync(join(dir, 'tls.key'), key, { mode: 0o600 });
    symlinkSync(`..${version}`, join(mount, '..data_tmp'));
    renameSync(join(mount, '..data_tmp'), join(mount, '..data'));
  };
  before(async () => {
    const pki = await makePki(join(t.dir, 'certs'));
    ca = pki.caPem;
    mkdirSync(mount);
    publish('v1', pki.certPem, pki.keyPem);
    for (const f of ['tls.crt', 'tls.key']) symlinkSync(join('..data', f), join(mount, f));
    server = await startServer({
      certFile: join(mount, 'tls.crt'),
      keyFile: join(mount, 'tls.key'),
      caFile: pki.root.cert,
      httpsPort: 0,
      httpPort: 0,
      reloadIntervalMs: 100,
    });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  it('follows the ..data symlink swap', async () => {
    const out = join(t.dir, 'certs');
    await issueCertificates({ out, dnsNames: [NAME], ipAddresses: [], force: true });
    const cert = readFileSync(join(out, NAME, 'cert.pem'), 'utf8');
    publish('v2', cert, readFileSync(join(out, NAME, 'key.pem'), 'utf8'));
    const want = fingerprintOfPem(cert).colon;
    await eventually(
      async () => (await httpsGet({ port: server.httpsPort, ca, servername: NAME })).peerFingerprint === want,
      'the certificate of the new secret version',
    );
  });
});

describe('mutual TLS (--client-ca)', () => {
  const t = tempDir();
  let pki: TestPki;
  let foreign: TestPki;
  let server: RunningServer;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'), { client: 'client1' });
    foreign = await makePki(join(t.dir, 'foreign'), { client: 'client1' });
    server = await startWithPki(pki, { clientCaFile: pki.root.cert });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });
  const request = (client?: TestPki) =>
    httpsGet({
      port: server.httpsPort,
      ca: pki.caPem,
      servername: NAME,
      headers: { accept: 'application/json' },
      ...(client
        ? { cert: readFileSync(client.client!.cert, 'utf8'), key: readFileSync(client.client!.key, 'utf8') }
        : {}),
    });

  it('accepts a client certificate from the trusted CA and shows it', async () => {
    const r = await request(pki);
    assert.equal(r.status, 200);
    const cc = (
      JSON.parse(r.body) as {
        client_certificate: { subject: string; issuer: string; fingerprint_sha256: string };
      }
    ).client_certificate;
    assert.match(cc.subject, /CN=client1/);
    assert.equal(cc.fingerprint_sha256, fingerprintOfPem(readFileSync(pki.client!.cert, 'utf8')).colon);
  });

  const failures = async (reason: string) =>
    metricValue((await httpGet(server.httpPort, '/metrics')).body, 'tlsecho_tls_handshake_failures_total', {
      reason,
    });

  it('rejects a connection without a client certificate', async () => {
    const before = await failures('client_cert_missing');
    await assert.rejects(request(), { code: 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED' });
    assert.equal(await failures('client_cert_missing'), before + 1);
  });

  it('rejects a client certificate from another CA', async () => {
    const before = await failures('client_cert_rejected');
    // In TLS 1.3 the client has finished its handshake when the server checks its certificate,
    // so the client sees its request cut off (or, if it reads the alert first, the alert).
    await assert.rejects(request(foreign), (err: NodeJS.ErrnoException) =>
      ['ECONNRESET', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'].includes(err.code ?? ''),
    );
    assert.equal(await failures('client_cert_rejected'), before + 1);
  });
});
