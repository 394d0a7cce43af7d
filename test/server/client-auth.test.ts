// --client-auth request: the handshake asks for a client certificate, accepts none or a bad one,
// and the echo reports what Node's verification found; require refuses; bad combinations are
// refused at start. Real TLS handshakes against a server started in this process.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClientAuthFacts } from '../../src/server/facts.js';
import type { RunningServer } from '../../src/server/index.js';
import { runCli } from '../helpers/cli.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { startWithPki } from '../helpers/server.js';
import { httpsGet } from './requests.js';

const NAME = `server1.${TEST_DOMAIN}`;

describe('--client-auth request', () => {
  const t = tempDir();
  let pki: TestPki;
  let foreign: TestPki;
  let server: RunningServer;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'), { client: 'client1' });
    foreign = await makePki(join(t.dir, 'foreign'), { client: 'intruder' });
    server = await startWithPki(pki, { clientCaFile: pki.root.cert, clientAuth: 'request' });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });
  const echo = async (client?: TestPki, accept = 'application/json') => {
    const r = await httpsGet({
      port: server.httpsPort,
      ca: pki.caPem,
      servername: NAME,
      headers: { accept },
      ...(client
        ? { cert: readFileSync(client.client!.cert, 'utf8'), key: readFileSync(client.client!.key, 'utf8') }
        : {}),
    });
    assert.equal(r.status, 200);
    return r;
  };
  const doc = async (client?: TestPki) =>
    JSON.parse((await echo(client)).body) as { client_auth: ClientAuthFacts; client_certificate: unknown };

  it('serves a client with no certificate and says none was presented', async () => {
    const d = await doc();
    assert.equal(d.client_auth.presented, false);
    assert.equal(d.client_auth.verified, false);
    assert.equal(d.client_auth.error, 'NO_CERTIFICATE_PRESENTED');
    assert.equal(d.client_certificate, null);
  });

  it('verifies a certificate from the trusted CA', async () => {
    const d = await doc(pki);
    assert.deepEqual(
      { ...d.client_auth, issuer: undefined },
      { presented: true, verified: true, error: null, subject: 'CN=client1', issuer: undefined },
    );
    assert.match(JSON.stringify(d.client_certificate), /CN=client1/);
  });

  it('serves a certificate from another CA and reports why it was not accepted', async () => {
    const d = await doc(foreign);
    assert.equal(d.client_auth.presented, true);
    assert.equal(d.client_auth.verified, false);
    assert.equal(d.client_auth.subject, 'CN=intruder');
    assert.equal(d.client_auth.error, 'UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    assert.equal(d.client_certificate, null, 'an unverified certificate is not shown as the client');
  });

  it('says so on the HTML page', async () => {
    const page = (await echo(foreign, 'text/html')).body;
    assert.match(page, /presented \(CN=intruder.*not verified: UNABLE_TO_VERIFY_LEAF_SIGNATURE/);
    assert.match((await echo(undefined, 'text/html')).body, /none presented \(NO_CERTIFICATE_PRESENTED\)/);
  });
});

describe('--client-auth checks', () => {
  const t = tempDir();
  let pki: TestPki;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
  });
  after(() => t.cleanup());
  const serve = (args: string[]) =>
    runCli([
      'server',
      '--certs-path',
      pki.out,
      '--domain',
      TEST_DOMAIN,
      '--https-port',
      '0',
      '--http-port',
      '0',
      ...args,
    ]);

  it('refuses request or require without --client-ca', async () => {
    for (const mode of ['request', 'require']) {
      const r = await serve(['--client-auth', mode]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`--client-auth ${mode} needs --client-ca`));
    }
  });

  it('refuses none with --client-ca', async () => {
    const r = await serve(['--client-auth', 'none', '--client-ca', pki.root.cert]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--client-auth none contradicts --client-ca/);
  });
});
