// tlsecho ca --intermediate: a two-tier PKI whose chain OpenSSL (-x509_strict) and Node accept,
// that the real tlsecho server sends whole, reused on later runs, and refused where the existing
// root cannot sign an intermediate.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { ensureIntermediate } from '../../src/ca/api.js';
import type { RunningServer } from '../../src/server/index.js';
import { runCli, runProcess } from '../helpers/cli.js';
import { opensslVerify, verifyChain, x509Text } from '../helpers/openssl.js';
import { makePki, tempDir, type TestPki } from '../helpers/pki.js';
import { startWithPki } from '../helpers/server.js';

const pems = (pem: string) => pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----\n/g) ?? [];

const verify = (out: string, leafFile: string) =>
  opensslVerify(join(out, 'minica.pem'), leafFile, '-purpose', 'sslserver');
const verifyWithChain = (out: string, leafFile: string, ...args: string[]) =>
  verifyChain(join(out, 'minica.pem'), leafFile, '-purpose', 'sslserver', ...args);

describe('tlsecho ca --intermediate', () => {
  const t = tempDir();
  const out = join(t.dir, 'certs');
  const leafFile = join(out, 'localhost', 'cert.pem');
  before(async () => {
    const r = await runCli([
      'ca',
      '--out',
      out,
      '--intermediate',
      '--domains',
      'localhost',
      '--ip-addresses',
      '127.0.0.1',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /intermediate CA .*intermediate\.pem \(created\)/);
  });
  after(t.cleanup);

  it('keeps the root in minica.pem, the intermediate beside it (keys 0600), leaf + intermediate in cert.pem', () => {
    assert.deepEqual(readdirSync(out).sort(), [
      'intermediate-key.pem',
      'intermediate.pem',
      'localhost',
      'minica-key.pem',
      'minica.pem',
    ]);
    assert.equal(statSync(join(out, 'intermediate-key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'minica-key.pem')).mode & 0o777, 0o600);
    const chain = pems(readFileSync(leafFile, 'utf8'));
    assert.equal(chain.length, 2);
    const leaf = new X509Certificate(chain[0]!);
    const intermediate = new X509Certificate(readFileSync(join(out, 'intermediate.pem')));
    const root = new X509Certificate(readFileSync(join(out, 'minica.pem')));
    assert.equal(chain[1], readFileSync(join(out, 'intermediate.pem'), 'utf8'));
    assert.ok(leaf.checkIssued(intermediate) && leaf.verify(intermediate.publicKey));
    assert.ok(intermediate.checkIssued(root) && intermediate.verify(root.publicKey));
    assert.match(x509Text(join(out, 'minica.pem')), /Basic Constraints: critical\s+CA:TRUE, pathlen:1/);
    const it = x509Text(join(out, 'intermediate.pem'));
    assert.match(it, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assert.match(it, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.match(it, /Authority Key Identifier/);
    assert.ok(Date.parse(intermediate.validTo) <= Date.parse(root.validTo));
  });

  it('passes openssl verify -x509_strict with the intermediate as untrusted, and fails without it', () => {
    const ok = verifyWithChain(out, leafFile, '-verify_hostname', 'localhost');
    assert.equal(ok.status, 0, ok.stdout + ok.stderr);
    const ip = verifyWithChain(out, leafFile, '-verify_ip', '127.0.0.1');
    assert.equal(ip.status, 0, ip.stdout + ip.stderr);
    const missing = verify(out, leafFile);
    assert.notEqual(missing.status, 0);
    assert.match(missing.stdout + missing.stderr, /unable to get local issuer certificate/);
  });

  it('reuses the intermediate on later runs, with or without the flag', async () => {
    const before = readFileSync(join(out, 'intermediate.pem'), 'utf8');
    const r = await runCli(['ca', '--out', out, '--domains', 'other.test', '--client', 'pinger']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /intermediate\.pem \(reused\)/);
    assert.equal(readFileSync(join(out, 'intermediate.pem'), 'utf8'), before);
    for (const f of [join(out, 'other.test', 'cert.pem'), join(out, 'pinger', 'cert.pem')]) {
      const chain = pems(readFileSync(f, 'utf8'));
      assert.equal(chain[1], before, f);
    }
    const client = verifyChain(
      join(out, 'minica.pem'),
      join(out, 'pinger', 'cert.pem'),
      '-purpose',
      'sslclient',
    );
    assert.equal(client.status, 0, client.stdout + client.stderr);
  });

  it('ensureIntermediate() hands the same intermediate to library callers', async () => {
    const ca = await ensureIntermediate(out);
    assert.equal(ca.state, 'reused');
    assert.equal(ca.intermediate.certPem, readFileSync(join(out, 'intermediate.pem'), 'utf8'));
    assert.equal(ca.root.certPem, readFileSync(join(out, 'minica.pem'), 'utf8'));
  });
});

describe('the tlsecho server with a two-tier PKI', () => {
  const t = tempDir();
  let pki: TestPki;
  let server: RunningServer;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'), { intermediate: true });
    server = await startWithPki(pki);
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  it('sends leaf and intermediate, and a client trusting only the root verifies it', async () => {
    const port = server.httpsPort;
    const s = await runProcess('openssl', [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      '-servername',
      'localhost',
      '-showcerts',
      '-verify_return_error',
      '-CAfile',
      pki.root.cert,
    ]);
    assert.equal(pems(s.stdout).length, 2, s.stdout);
    assert.match(s.stdout, /Verify return code: 0 \(ok\)/);

    const authorized = await new Promise<boolean>((resolve, reject) => {
      const c = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: pki.caPem }, () => {
        resolve(c.authorized);
        c.end();
      });
      c.on('error', reject);
    });
    assert.equal(authorized, true);
  });
});

describe('tlsecho ca --intermediate bad input', () => {
  const t = tempDir();
  after(t.cleanup);

  async function refused(out: string, args: string[], message: RegExp) {
    const before = readdirSync(out).sort();
    const r = await runCli(['ca', '--out', out, ...args]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    assert.deepEqual(readdirSync(out).sort(), before, 'nothing written');
  }

  it('refuses an existing minica root (pathlen:0), saying why', async () => {
    const out = join(t.dir, 'minica');
    assert.equal((await runCli(['ca', '--out', out, '--domains', 'a.test'])).code, 0);
    await refused(
      out,
      ['--intermediate', '--domains', 'b.test'],
      /minica\.pem has pathlen:0 .* cannot sign an intermediate; make a two-tier PKI in a new --out folder/,
    );
  });

  it('refuses an intermediate that this root did not sign, or one without its root', async () => {
    const a = join(t.dir, 'a');
    const b = join(t.dir, 'b');
    for (const out of [a, b])
      assert.equal((await runCli(['ca', '--out', out, '--intermediate', '--domains', 'a.test'])).code, 0);
    copyFileSync(join(b, 'intermediate.pem'), join(a, 'intermediate.pem'));
    copyFileSync(join(b, 'intermediate-key.pem'), join(a, 'intermediate-key.pem'));
    await refused(a, ['--domains', 'c.test'], /intermediate\.pem was not signed by the root .*minica\.pem/);
    execFileSync('rm', [join(b, 'minica.pem'), join(b, 'minica-key.pem')]);
    await refused(
      b,
      ['--domains', 'c.test'],
      /intermediate\.pem exists but the root .*minica\.pem is missing/,
    );
  });
});
