// tlsecho ca sign --csr: CSRs made by the real `openssl req -new` get the leaf profile with their
// own key, verified by OpenSSL and used in a Node handshake; a bad signature, a weak key, names
// outside the name constraints or a file that is no CSR fail in one line, writing nothing.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { runCli } from '../helpers/cli.js';
import { verifyChain, x509Text } from '../helpers/openssl.js';
import { tempDir } from '../helpers/pki.js';

/** `openssl req -new` with a fresh key; returns the CSR and key paths. */
function makeCsr(dir: string, name: string, keyArgs: string[], extra: string[] = []) {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  execFileSync('openssl', ['req', '-new', ...keyArgs, '-nodes', '-keyout', key, '-out', csr, ...extra], {
    stdio: 'ignore',
  });
  return { key, csr };
}
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];

describe('tlsecho ca sign --csr', () => {
  const t = tempDir();
  const out = join(t.dir, 'certs');
  before(async () => {
    const r = await runCli(['ca', '--out', out, '--intermediate', '--domains', 'localhost']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(t.cleanup);

  it('signs the SAN names of an OpenSSL CSR with the leaf profile, chain included', async () => {
    const { key, csr } = makeCsr(t.dir, 'app', EC, [
      '-subj',
      '/CN=ignored.test',
      '-addext',
      'subjectAltName=DNS:app.test,DNS:localhost,IP:127.0.0.1',
    ]);
    const cert = join(t.dir, 'app.pem');
    const r = await runCli(['ca', 'sign', '--out', out, '--csr', csr, '--cert-out', cert, '--days', '30']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /names: app\.test, localhost, 127\.0\.0\.1; valid until/);
    const info = x509Text(cert);
    assert.match(info, /DNS:app\.test, DNS:localhost, IP Address:127\.0\.0\.1/);
    assert.match(info, /Basic Constraints: critical\s+CA:FALSE/);
    assert.match(info, /Key Usage: critical\s+Digital Signature\n/);
    assert.match(info, /TLS Web Server Authentication/);
    assert.match(info, /Subject: CN = app\.test/);
    // The certificate is for the CSR's key: the key openssl made matches it.
    const modCert = execFileSync('openssl', ['x509', '-noout', '-pubkey', '-in', cert], { encoding: 'utf8' });
    const modKey = execFileSync('openssl', ['pkey', '-pubout', '-in', key], { encoding: 'utf8' });
    assert.equal(modCert, modKey);
    const v = verifyChain(join(out, 'minica.pem'), cert, '-purpose', 'sslserver');
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const notAfter = new Date(
      execFileSync('openssl', ['x509', '-noout', '-enddate', '-in', cert], { encoding: 'utf8' }).split(
        '=',
      )[1]!,
    );
    assert.ok((notAfter.getTime() - Date.now()) / 86_400_000 < 31);

    const server = tls.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (s) => s.end());
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    try {
      const port = (server.address() as { port: number }).port;
      const ok = await new Promise<boolean>((res, rej) => {
        const c = tls.connect(
          { port, host: '127.0.0.1', servername: 'app.test', ca: readFileSync(join(out, 'minica.pem')) },
          () => {
            res(c.authorized);
            c.end();
          },
        );
        c.on('error', rej);
      });
      assert.equal(ok, true);
    } finally {
      server.close();
    }
  });

  it('takes the CN when there is no SAN, and writes to standard output by default', async () => {
    const { csr } = makeCsr(t.dir, 'cn', ['-newkey', 'rsa:2048'], ['-subj', '/CN=cn-only.test']);
    const r = await runCli(['ca', 'sign', '--out', out, '--csr', csr]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((r.stdout.match(/BEGIN CERTIFICATE/g) ?? []).length, 2, 'leaf and intermediate');
    writeFileSync(join(t.dir, 'cn.pem'), r.stdout);
    const info = x509Text(join(t.dir, 'cn.pem'));
    assert.match(info, /DNS:cn-only\.test/);
    assert.match(info, /Digital Signature, Key Encipherment/);
    assert.match(r.stderr, /names: cn-only\.test/);
  });

  describe('bad input', () => {
    async function refused(args: string[], message: RegExp, code = 1) {
      const before = readdirSync(out).sort();
      const target = join(t.dir, `never-${Math.random().toString(36).slice(2)}.pem`);
      const r = await runCli(['ca', 'sign', '--out', out, '--cert-out', target, ...args]);
      assert.equal(r.code, code, r.stdout + r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
      assert.ok(!existsSync(target), 'nothing written');
      assert.deepEqual(readdirSync(out).sort(), before);
    }

    it('refuses a CSR whose signature does not verify', async () => {
      const { csr } = makeCsr(t.dir, 'tampered', EC, ['-subj', '/CN=a.test']);
      const der = execFileSync('openssl', ['req', '-in', csr, '-outform', 'DER']);
      der[der.length - 1] = der[der.length - 1]! ^ 0x01; // the last byte of the signature value
      const bad = join(t.dir, 'tampered.der');
      writeFileSync(bad, der);
      await refused(
        ['--csr', bad],
        /--csr .*tampered\.der: bad signature \(the request was not signed by the key it carries\)/,
      );
    });

    it('refuses weak keys, missing or bogus files, bad names and a missing --csr', async () => {
      const weak = makeCsr(t.dir, 'weak', ['-newkey', 'rsa:1024'], ['-subj', '/CN=a.test']);
      await refused(
        ['--csr', weak.csr],
        /has a RSA-1024 key; use RSA of 2048 bits or more, or EC P-256 or P-384/,
      );
      await refused(['--csr', join(t.dir, 'nope.csr')], /cannot read --csr .*nope\.csr: no such file/);
      writeFileSync(join(t.dir, 'junk.csr'), 'hello\n');
      await refused(['--csr', join(t.dir, 'junk.csr')], /is not a certificate request/);
      const under = makeCsr(t.dir, 'under', EC, ['-subj', '/CN=under_score.test']);
      await refused(['--csr', under.csr], /invalid DNS name "under_score\.test"/, 2);
      await refused([], /needs --csr FILE/, 2);
    });

    it('refuses names outside the name constraints', async () => {
      const constrained = join(t.dir, 'constrained');
      assert.equal(
        (
          await runCli([
            'ca',
            '--out',
            constrained,
            '--name-constraints',
            'tlsecho.test',
            '--domains',
            'a.tlsecho.test',
          ])
        ).code,
        0,
      );
      const { csr } = makeCsr(t.dir, 'bank', EC, [
        '-subj',
        '/CN=x',
        '-addext',
        'subjectAltName=DNS:ok.tlsecho.test,DNS:bank.example',
      ]);
      const target = join(t.dir, 'bank.pem');
      const r = await runCli(['ca', 'sign', '--out', constrained, '--csr', csr, '--cert-out', target]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /bank\.example is outside the CA's name constraints/);
      assert.ok(!existsSync(target));
    });

    it('refuses to overwrite --cert-out without --force', async () => {
      const { csr } = makeCsr(t.dir, 'again', EC, ['-subj', '/CN=again.test']);
      const target = join(t.dir, 'again.pem');
      writeFileSync(target, 'keep');
      const r = await runCli(['ca', 'sign', '--out', out, '--csr', csr, '--cert-out', target]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /again\.pem already exists \(use --force to replace it\)/);
      assert.equal(readFileSync(target, 'utf8'), 'keep');
      const f = await runCli(['ca', 'sign', '--out', out, '--csr', csr, '--cert-out', target, '--force']);
      assert.equal(f.code, 0, f.stderr);
      assert.match(readFileSync(target, 'utf8'), /BEGIN CERTIFICATE/);
    });
  });
});
