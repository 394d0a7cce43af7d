// `tlsecho ca lab`: the failure lab's certificates, checked with Node's X509 and OpenSSL's own
// verifier; modes, re-runs and the missing-root error through the real CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { labIssuerPaths } from '../../src/ca/lab.js';
import { LAB_KINDS } from '../../src/lab/names.js';
import { runCli } from '../helpers/cli.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';

const DAY = 86_400_000;

describe('tlsecho ca lab', () => {
  const t = tempDir();
  let pki: TestPki;
  let lab: string;
  const cert = (kind: string) => join(lab, `${kind}.${TEST_DOMAIN}`, 'cert.pem');
  const x509 = (kind: string) => new X509Certificate(readFileSync(cert(kind)));
  /** OpenSSL's verdict on a lab leaf against the main root only: 'OK' or its error line. */
  const verify = (kind: string, extra: string[] = []) => {
    try {
      execFileSync(
        'openssl',
        [
          'verify',
          '-CAfile',
          pki.root.cert,
          '-verify_hostname',
          `${kind}.${TEST_DOMAIN}`,
          ...extra,
          cert(kind),
        ],
        {
          stdio: 'pipe',
        },
      );
      return 'OK';
    } catch (err) {
      return String((err as { stdout: Buffer }).stdout) + String((err as { stderr: Buffer }).stderr);
    }
  };
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    lab = join(pki.out, 'lab');
    const r = await runCli(['ca', 'lab', '--out', pki.out, '--domain', TEST_DOMAIN]);
    assert.equal(r.code, 0, r.stderr);
    for (const k of LAB_KINDS) assert.match(r.stdout, new RegExp(`${k}\\.${TEST_DOMAIN}\\s+created`));
  });
  after(() => t.cleanup());

  it('makes each failure, as OpenSSL sees it', () => {
    for (const ok of ['good', 'tls12', 'client-cert']) assert.equal(verify(ok), 'OK', ok);
    assert.match(verify('expired'), /certificate has expired/);
    assert.match(verify('not-yet-valid'), /certificate is not yet valid/);
    assert.match(verify('wrong-name'), /hostname mismatch/);
    assert.match(verify('untrusted'), /unable to get local issuer certificate/);
    assert.match(verify('self-signed'), /self-signed certificate/);
    assert.match(verify('incomplete-chain'), /unable to get local issuer certificate/);
  });

  it('issues from the right issuer with the right dates and names', () => {
    const root = new X509Certificate(pki.caPem);
    const now = Date.now();
    assert.ok(Date.parse(x509('expired').validTo) < now - DAY);
    assert.ok(Date.parse(x509('not-yet-valid').validFrom) > now + DAY);
    assert.equal(x509('wrong-name').subjectAltName, `DNS:another-name.${TEST_DOMAIN}`);
    const untrustedRoot = new X509Certificate(readFileSync(labIssuerPaths(lab).untrusted.cert));
    assert.ok(x509('untrusted').verify(untrustedRoot.publicKey));
    assert.notEqual(untrustedRoot.fingerprint256, root.fingerprint256);
    const self = x509('self-signed');
    assert.ok(self.verify(self.publicKey) && !self.ca);
    const intermediate = new X509Certificate(readFileSync(labIssuerPaths(lab).intermediate.cert));
    assert.ok(
      intermediate.ca && intermediate.verify(root.publicKey),
      'the intermediate is under the main root',
    );
    assert.ok(x509('incomplete-chain').verify(intermediate.publicKey));
    assert.equal(
      readFileSync(cert('incomplete-chain'), 'utf8').match(/BEGIN CERTIFICATE/g)?.length,
      1,
      'leaf only',
    );
    for (const ok of ['good', 'tls12', 'client-cert', 'expired', 'not-yet-valid', 'wrong-name'])
      assert.ok(x509(ok).verify(root.publicKey), ok);
  });

  it('keeps keys 0600 and reuses everything on a re-run', async () => {
    for (const k of LAB_KINDS)
      assert.equal(statSync(join(lab, `${k}.${TEST_DOMAIN}`, 'key.pem')).mode & 0o777, 0o600, k);
    assert.equal(statSync(labIssuerPaths(lab).untrusted.key).mode & 0o777, 0o600);
    const before = LAB_KINDS.map((k) => readFileSync(cert(k), 'utf8'));
    const r = await runCli(['ca', 'lab', '--out', pki.out, '--domain', TEST_DOMAIN]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /created/);
    assert.deepEqual(
      LAB_KINDS.map((k) => readFileSync(cert(k), 'utf8')),
      before,
    );
  });

  it('refuses without a root, in one line, writing nothing', async () => {
    const empty = join(t.dir, 'empty');
    const r = await runCli(['ca', 'lab', '--out', empty]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^tlsecho ca: no root CA at .*minica\.pem: run 'tlsecho ca --out .*' first\n$/);
    assert.throws(() => statSync(empty), { code: 'ENOENT' });
  });
});
