// `tlsecho ca lab`: the failure lab's certificates, checked with Node's X509 and OpenSSL's own
// verifier; modes, re-runs and the missing-root error through the real CLI.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueLab, labIssuerPaths } from '../../src/ca/lab.js';
import { pathLengthOf } from '../../src/ca/issue.js';
import { intermediatePaths } from '../../src/ca/store.js';
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
    // A two-tier CA (tlsecho ca --intermediate): incomplete-chain is signed by its intermediate.
    pki = await makePki(join(t.dir, 'certs'), { intermediate: true });
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
    const intermediate = new X509Certificate(readFileSync(intermediatePaths(pki.out).cert));
    assert.ok(x509('incomplete-chain').verify(intermediate.publicKey), "signed by the CA's intermediate");
    assert.equal(existsSync(labIssuerPaths(lab).intermediate.cert), false, 'no intermediate of its own');
    assert.equal(
      readFileSync(cert('incomplete-chain'), 'utf8').match(/BEGIN CERTIFICATE/g)?.length,
      1,
      'leaf only',
    );
    for (const ok of ['good', 'tls12', 'client-cert', 'expired', 'not-yet-valid', 'wrong-name'])
      assert.ok(x509(ok).verify(root.publicKey), ok);
  });

  it('incomplete-chain fails only for want of its intermediate: with it, OpenSSL verifies the chain', () => {
    const untrusted = ['-untrusted', intermediatePaths(pki.out).cert];
    assert.equal(verify('incomplete-chain', untrusted), 'OK');
    assert.match(verify('incomplete-chain'), /error 20 at 0 depth lookup: unable to get local issuer/);
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

describe('tlsecho ca lab: the intermediate of incomplete-chain follows the root', () => {
  const t = tempDir();
  after(() => t.cleanup());
  const leafOf = (out: string) => join(out, 'lab', `incomplete-chain.${TEST_DOMAIN}`, 'cert.pem');
  const opensslVerify = (root: string, leaf: string, untrusted?: string) => {
    try {
      execFileSync(
        'openssl',
        ['verify', '-CAfile', root, ...(untrusted ? ['-untrusted', untrusted] : []), leaf],
        { stdio: 'pipe' },
      );
      return 'OK';
    } catch (err) {
      return String((err as { stdout: Buffer }).stdout) + String((err as { stderr: Buffer }).stderr);
    }
  };

  it('a root with room for one (pathlen:1) but no intermediate: the lab makes its own under it', async () => {
    const pki = await makePki(join(t.dir, 'room'), { intermediate: true });
    for (const f of Object.values(intermediatePaths(pki.out))) rmSync(f);
    assert.equal(pathLengthOf(pki.caPem), 1);
    const r = await issueLab({ out: pki.out, domain: TEST_DOMAIN });
    assert.equal(r.chainIssuer, 'lab-intermediate');
    assert.deepEqual(r.skipped, []);
    const own = labIssuerPaths(r.dir).intermediate.cert;
    assert.equal(opensslVerify(pki.root.cert, leafOf(pki.out), own), 'OK');
    assert.match(opensslVerify(pki.root.cert, leafOf(pki.out)), /unable to get local issuer certificate/);
  });

  it('a minica root (pathlen:0): incomplete-chain is not issued, in one line saying what gives it', async () => {
    const pki = await makePki(join(t.dir, 'minica'));
    assert.equal(pathLengthOf(pki.caPem), 0);
    // What an earlier tlsecho made: a lab intermediate under this root, which cannot verify.
    const stale = join(pki.out, 'lab', `incomplete-chain.${TEST_DOMAIN}`);
    mkdirSync(stale, { recursive: true });
    copyFileSync(pki.server!.cert, join(stale, 'cert.pem'));
    copyFileSync(pki.server!.key, join(stale, 'key.pem'));
    const r = await runCli(['ca', 'lab', '--out', pki.out, '--domain', TEST_DOMAIN]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l.includes('incomplete-chain'));
    assert.equal(lines.length, 1, r.stdout);
    assert.match(
      lines[0]!,
      /incomplete-chain\.tlsecho\.test +skipped: root CA .*minica\.pem has pathlen:0 and can sign no intermediate \(the earlier one, which could never verify, was removed\); for this name make a two-tier CA in a new folder: tlsecho ca --intermediate --out <folder>$/,
    );
    assert.equal(existsSync(stale), false);
    assert.equal(existsSync(labIssuerPaths(join(pki.out, 'lab')).intermediate.cert), false);
    for (const k of LAB_KINDS.filter((k) => k !== 'incomplete-chain'))
      assert.match(r.stdout, new RegExp(`${k}\\.${TEST_DOMAIN}\\s+created`), k);
  });
});
