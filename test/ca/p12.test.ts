// tlsecho ca p12: PKCS#12 files that OpenSSL reads with the password (and only with it), in the
// modern PBES2/AES-256/PBKDF2-SHA-256 profile or the legacy SHA-1/3DES one; NSS's pk12util
// imports them; and curl authenticates with one to `tlsecho server --client-ca`.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RunningServer } from '../../src/server/index.js';
import { needTools } from '../browser/prereqs.js';
import { runCli, runProcess } from '../helpers/cli.js';
import { makePki, tempDir, type TestPki } from '../helpers/pki.js';
import { startWithPki } from '../helpers/server.js';

const pkcs12 = (file: string, ...args: string[]) =>
  spawnSync('openssl', ['pkcs12', '-in', file, ...args], { encoding: 'utf8' });
const count = (text: string) => (text.match(/BEGIN CERTIFICATE/g) ?? []).length;

describe('tlsecho ca p12', () => {
  const t = tempDir();
  let pki: TestPki;
  let p12: string;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'), { intermediate: true, client: 'pinger' });
    p12 = join(pki.out, 'pinger', 'cert.p12');
    const r = await runCli(['ca', 'p12', 'pinger', '--out', pki.out]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /cert\.p12 \(PBES2 AES-256, PBKDF2-SHA-256\): key, certificate and 2 CA certificate\(s\); password the default 'changeit'/,
    );
  });
  after(t.cleanup);

  it('is 0600 and uses PBES2 with AES-256 and PBKDF2-SHA-256, MACed with SHA-256', () => {
    assert.equal(statSync(p12).mode & 0o777, 0o600);
    const info = pkcs12(p12, '-info', '-noout', '-passin', 'pass:changeit');
    assert.equal(info.status, 0, info.stderr);
    const out = info.stdout + info.stderr;
    assert.match(out, /MAC: sha256/);
    assert.match(out, /Shrouded Keybag: PBES2, PBKDF2, AES-256-CBC, Iteration \d+, PRF hmacWithSHA256/);
    assert.match(out, /PKCS7 Encrypted data: PBES2, PBKDF2, AES-256-CBC, Iteration \d+, PRF hmacWithSHA256/);
  });

  it('holds the key, the leaf and the chain to the root, readable only with the password', () => {
    const certs = pkcs12(p12, '-nokeys', '-passin', 'pass:changeit');
    assert.equal(certs.status, 0, certs.stderr);
    assert.equal(count(certs.stdout), 3, 'leaf, intermediate, root');
    assert.match(certs.stdout, /friendlyName: pinger/);
    const key = pkcs12(p12, '-nocerts', '-nodes', '-passin', 'pass:changeit');
    const fromP12 = execFileSync('openssl', ['pkey', '-pubout'], { input: key.stdout, encoding: 'utf8' });
    const fromPem = execFileSync('openssl', ['pkey', '-pubout', '-in', join(pki.out, 'pinger', 'key.pem')], {
      encoding: 'utf8',
    });
    assert.equal(fromP12, fromPem);
    const wrong = pkcs12(p12, '-info', '-noout', '-passin', 'pass:wrong');
    assert.notEqual(wrong.status, 0);
    assert.match(wrong.stderr, /Mac verify error: invalid password/);
  });

  it('--p12-legacy writes SHA-1/3DES with the given password', async () => {
    const file = join(pki.out, 'server1.tlsecho.test', 'cert.p12');
    const r = await runCli([
      'ca',
      'p12',
      'server1.tlsecho.test',
      '--out',
      pki.out,
      '--p12-legacy',
      '--p12-password',
      's3cret',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const info = pkcs12(file, '-info', '-noout', '-passin', 'pass:s3cret');
    assert.equal(info.status, 0, info.stderr);
    assert.match(info.stdout + info.stderr, /MAC: sha1/);
    assert.match(info.stdout + info.stderr, /Shrouded Keybag: pbeWithSHA1And3-KeyTripleDES-CBC/);
    assert.doesNotMatch(info.stdout + info.stderr, /RC2/);
  });

  it('refuses bad input in one line, writing nothing', async () => {
    const cases: [string[], RegExp, number][] = [
      [
        ['nobody'],
        /no certificate at .*nobody\/cert\.pem \(issue it first: 'tlsecho ca --domains nobody'/,
        1,
      ],
      [['pinger'], /cert\.p12 already exists \(use --force to replace it\)/, 1],
      [['../x'], /needs the name of a leaf folder/, 2],
      [[], /needs the name of a leaf folder/, 2],
      [['pinger', '--force', '--p12-password', ''], /--p12-password is empty/, 2],
    ];
    const before = readFileSync(p12);
    for (const [args, message, code] of cases) {
      const r = await runCli(['ca', 'p12', ...args, '--out', pki.out]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, `${args.join(' ')}: ${r.stderr}`);
    }
    assert.deepEqual(readFileSync(p12), before, 'the existing file is unchanged');
    assert.ok(!existsSync(join(pki.out, 'nobody')));
    // A key that is not the certificate's.
    mkdirSync(join(pki.out, 'mixed'));
    writeFileSync(join(pki.out, 'mixed', 'cert.pem'), readFileSync(join(pki.out, 'pinger', 'cert.pem')));
    writeFileSync(join(pki.out, 'mixed', 'key.pem'), readFileSync(pki.server!.key), { mode: 0o600 });
    const r = await runCli(['ca', 'p12', 'mixed', '--out', pki.out]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /mixed\/key\.pem does not match the certificate .*mixed\/cert\.pem/);
    assert.ok(!existsSync(join(pki.out, 'mixed', 'cert.p12')));
  });

  it(
    'NSS pk12util imports it with the password, key and all',
    { skip: needTools('certutil', 'pk12util') },
    () => {
      const db = join(t.dir, 'nssdb');
      mkdirSync(db);
      execFileSync('certutil', ['-N', '-d', `sql:${db}`, '--empty-password']);
      const bad = spawnSync('pk12util', ['-i', p12, '-d', `sql:${db}`, '-W', 'wrong', '-K', ''], {
        encoding: 'utf8',
      });
      assert.notEqual(bad.status, 0);
      const ok = spawnSync('pk12util', ['-i', p12, '-d', `sql:${db}`, '-W', 'changeit', '-K', ''], {
        encoding: 'utf8',
      });
      assert.equal(ok.status, 0, ok.stdout + ok.stderr);
      assert.match(ok.stdout, /PKCS12 IMPORT SUCCESSFUL/);
      const list = execFileSync('certutil', ['-L', '-d', `sql:${db}`], { encoding: 'utf8' });
      assert.match(list, /^pinger\s+u,u,u$/m);
      const keys = execFileSync('certutil', ['-K', '-d', `sql:${db}`], { encoding: 'utf8' });
      assert.match(keys, /pinger/);
    },
  );
});

describe('curl authenticates with the PKCS#12 to tlsecho server --client-ca', () => {
  const t = tempDir();
  let pki: TestPki;
  let server: RunningServer;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'), { client: 'pinger' });
    assert.equal((await runCli(['ca', 'p12', 'pinger', '--out', pki.out])).code, 0);
    server = await startWithPki(pki, { clientCaFile: pki.root.cert });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  const curl = (...extra: string[]) =>
    runProcess('curl', [
      '-sS',
      '--cacert',
      pki.root.cert,
      '--resolve',
      `localhost:${server.httpsPort}:127.0.0.1`,
      '-H',
      'accept: application/json',
      ...extra,
      `https://localhost:${server.httpsPort}/`,
    ]);

  it('with the certificate from cert.p12 the echo shows it; without one the handshake fails', async () => {
    const p12 = join(pki.out, 'pinger', 'cert.p12');
    const ok = await curl('--cert-type', 'P12', '--cert', `${p12}:changeit`);
    assert.equal(ok.code, 0, ok.stderr);
    const body = JSON.parse(ok.stdout) as { client_certificate: { subject: string } };
    assert.match(body.client_certificate.subject, /CN=pinger/);
    const without = await curl();
    assert.notEqual(without.code, 0);
    const wrong = await curl('--cert-type', 'P12', '--cert', `${p12}:wrong`);
    assert.equal(wrong.code, 58, wrong.stderr); // CURLE_SSL_CERTPROBLEM: the file did not open
  });
});
