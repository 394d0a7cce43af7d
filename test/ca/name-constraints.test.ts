// tlsecho ca --name-constraints: the root (and its intermediate) carry critical permitted
// subtrees; the CA refuses to issue outside them; a leaf issued outside them anyway (by a test
// helper that skips the CA's check) is refused by OpenSSL and Node, a leaf inside is accepted.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { needTools } from '../browser/prereqs.js';
import { runCli } from '../helpers/cli.js';
import { verifyChain, x509Text } from '../helpers/openssl.js';
import { issueUncheckedLeaf, tempDir } from '../helpers/pki.js';

const CONSTRAINTS = 'tlsecho.test,localhost,127.0.0.0/8,::1/128';
const opensslVerify = (out: string, chainFile: string, ...args: string[]) =>
  verifyChain(join(out, 'minica.pem'), chainFile, ...args);

/** A Node TLS client trusting only the root, against a server with this chain. */
async function nodeHandshake(certPem: string, keyPem: string, ca: string, servername: string) {
  const server = tls.createServer({ cert: certPem, key: keyPem }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as { port: number }).port;
    return await new Promise<string>((resolve) => {
      const c = tls.connect({ port, host: '127.0.0.1', servername, ca }, () => {
        c.end();
        resolve('ok');
      });
      c.on('error', (e) => resolve(e.message));
    });
  } finally {
    server.close();
  }
}

for (const tiers of ['root only', 'root and intermediate'] as const) {
  describe(`tlsecho ca --name-constraints (${tiers})`, () => {
    const t = tempDir();
    const out = join(t.dir, 'certs');
    const flags = tiers === 'root only' ? [] : ['--intermediate'];
    before(async () => {
      const r = await runCli([
        'ca',
        '--out',
        out,
        '--name-constraints',
        CONSTRAINTS,
        ...flags,
        '--domains',
        'server1.tlsecho.test,localhost',
        '--ip-addresses',
        '127.0.0.1,::1',
      ]);
      assert.equal(r.code, 0, r.stderr);
    });
    after(t.cleanup);

    it('puts critical permitted subtrees into the CA certificates', () => {
      const files = tiers === 'root only' ? ['minica.pem'] : ['minica.pem', 'intermediate.pem'];
      for (const f of files)
        assert.match(
          x509Text(join(out, f)),
          /Name Constraints: critical\s+Permitted:\s+DNS:tlsecho\.test\s+DNS:localhost\s+IP:127\.0\.0\.0\/255\.0\.0\.0\s+IP:0:0:0:0:0:0:0:1\/FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF:FFFF/,
          f,
        );
    });

    it('OpenSSL and Node accept the leaf inside the constraints', async () => {
      const leaf = join(out, 'server1.tlsecho.test', 'cert.pem');
      for (const args of [
        ['-verify_hostname', 'server1.tlsecho.test'],
        ['-verify_ip', '::1'],
      ]) {
        const v = opensslVerify(out, leaf, '-purpose', 'sslserver', ...args);
        assert.equal(v.status, 0, v.stdout + v.stderr);
      }
      const result = await nodeHandshake(
        readFileSync(leaf, 'utf8'),
        readFileSync(join(out, 'server1.tlsecho.test', 'key.pem'), 'utf8'),
        readFileSync(join(out, 'minica.pem'), 'utf8'),
        'localhost',
      );
      assert.equal(result, 'ok');
    });

    it('OpenSSL and Node refuse a leaf outside them (DNS name or IP address)', async () => {
      for (const [dns, ips] of [
        [['bank.example'], []],
        [['localhost'], ['10.0.0.1']],
      ] as const) {
        const bad = await issueUncheckedLeaf(out, [...dns], [...ips]);
        const file = join(t.dir, `outside-${dns[0]}-${ips.length}.pem`);
        writeFileSync(file, bad.certPem);
        const v = opensslVerify(out, file, '-purpose', 'sslserver');
        assert.notEqual(v.status, 0, `${file} must be refused`);
        assert.match(v.stdout + v.stderr, /permitted subtree violation/);
        const result = await nodeHandshake(
          bad.certPem,
          bad.keyPem,
          readFileSync(join(out, 'minica.pem'), 'utf8'),
          dns[0],
        );
        assert.equal(result, 'permitted subtree violation');
      }
    });

    it('the CA itself refuses to issue outside them, in one line, writing nothing', async () => {
      const before = readdirSync(out).sort();
      for (const [args, name] of [
        [['--domains', 'bank.example'], 'bank.example'],
        [['--domains', 'localhost.evil.example'], 'localhost.evil.example'],
        [['--domains', 'ok.tlsecho.test', '--ip-addresses', '10.0.0.1'], '10.0.0.1'],
        [['--domains', 'ok.tlsecho.test', '--ip-addresses', '::2'], '::2'],
        [['--client', 'pinger.example'], 'pinger.example'],
      ] as const) {
        const r = await runCli(['ca', '--out', out, ...args]);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
        assert.ok(
          r.stderr.includes(
            `${name} is outside the CA's name constraints (tlsecho.test, localhost, 127.0.0.0/8, ::1/128)`,
          ),
          r.stderr,
        );
      }
      assert.deepEqual(readdirSync(out).sort(), before);
      // Inside: a subdomain, a wildcard under a permitted name, another loopback address.
      const ok = await runCli([
        'ca',
        '--out',
        out,
        '--domains',
        '*.a.tlsecho.test',
        '--ip-addresses',
        '127.9.9.9',
      ]);
      assert.equal(ok.code, 0, ok.stderr);
    });
  });
}

describe('tlsecho ca --name-constraints without IP ranges', () => {
  const t = tempDir();
  const out = join(t.dir, 'certs');
  after(t.cleanup);

  it('excludes every IP address, so the root cannot vouch for any', async () => {
    const r = await runCli([
      'ca',
      '--out',
      out,
      '--name-constraints',
      'example.test',
      '--domains',
      'www.example.test',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      x509Text(join(out, 'minica.pem')),
      /Excluded:\s+IP:0\.0\.0\.0\/0\.0\.0\.0\s+IP:0:0:0:0:0:0:0:0\/0:0:0:0:0:0:0:0/,
    );
    const refused = await runCli([
      'ca',
      '--out',
      out,
      '--domains',
      'x.example.test',
      '--ip-addresses',
      '127.0.0.1',
    ]);
    assert.equal(refused.code, 1);
    assert.match(
      refused.stderr,
      /127\.0\.0\.1 is outside the CA's name constraints \(example\.test, no IP addresses\)/,
    );
    const bad = await issueUncheckedLeaf(out, ['y.example.test'], ['127.0.0.1']);
    writeFileSync(join(t.dir, 'ip.pem'), bad.certPem);
    const v = opensslVerify(out, join(t.dir, 'ip.pem'), '-verify_ip', '127.0.0.1');
    assert.match(v.stdout + v.stderr, /excluded subtree violation/);
  });
});

describe('tlsecho ca --name-constraints bad input', () => {
  const t = tempDir();
  after(t.cleanup);

  it('rejects bad items and existing roots it cannot apply to, in one line, writing nothing', async () => {
    const cases: [string[], RegExp, number][] = [
      [
        ['--name-constraints', '10.0.0.0/33'],
        /invalid name constraint "10\.0\.0\.0\/33": prefix length must be 0 to 32/,
        2,
      ],
      [
        ['--name-constraints', 'a.test,300.1.1.1/8'],
        /invalid name constraint "300\.1\.1\.1\/8": not an IP address or range/,
        2,
      ],
      [
        ['--name-constraints', 'a.test,fe80::1%eth0/64'],
        /invalid name constraint "fe80::1%eth0\/64": an address with a zone/,
        2,
      ],
      [['--name-constraints', '*.a.test'], /no wildcards/, 2],
      [['--name-constraints', 'bad_name.test'], /invalid DNS name "bad_name\.test"/, 2],
      [['--name-constraints', '127.0.0.0/8'], /needs at least one DNS name/, 2],
    ];
    for (const [args, message, code] of cases) {
      const out = join(t.dir, `bad-${Math.random().toString(36).slice(2)}`);
      const r = await runCli(['ca', '--out', out, '--domains', 'a.test', ...args]);
      assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.ok(!existsSync(out), 'nothing written');
    }
    const plain = join(t.dir, 'plain');
    assert.equal((await runCli(['ca', '--out', plain, '--domains', 'a.test'])).code, 0);
    const r = await runCli(['ca', '--out', plain, '--domains', 'b.test', '--name-constraints', 'a.test']);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /has no name constraints, and they cannot be added to an existing root; make a new root in another --out folder/,
    );
    assert.ok(!existsSync(join(plain, 'b.test')));
    const constrained = join(t.dir, 'constrained');
    assert.equal(
      (await runCli(['ca', '--out', constrained, '--domains', 'a.test', '--name-constraints', 'a.test']))
        .code,
      0,
    );
    const other = await runCli([
      'ca',
      '--out',
      constrained,
      '--domains',
      'b.a.test',
      '--name-constraints',
      'b.test',
    ]);
    assert.equal(other.code, 1);
    assert.match(other.stderr, /is constrained to a\.test, no IP addresses, not to b\.test, no IP addresses/);
    const same = await runCli([
      'ca',
      '--out',
      constrained,
      '--domains',
      'b.a.test',
      '--name-constraints',
      'a.test',
    ]);
    assert.equal(same.code, 0, same.stderr);
  });
});

describe('tlsecho ca install and name constraints', { skip: needTools('certutil') }, () => {
  const t = tempDir();
  after(t.cleanup);

  it('warns once for an unconstrained root, not for a constrained one', async () => {
    for (const [name, extra, warns] of [
      ['plain', [], true],
      ['constrained', ['--name-constraints', 'localhost'], false],
    ] as const) {
      const out = join(t.dir, name);
      const db = join(t.dir, `${name}-db`);
      mkdirSync(db);
      assert.equal((await runCli(['ca', '--out', out, '--domains', 'localhost', ...extra])).code, 0);
      const r = await runCli(['ca', 'install', '--out', out, '--nss-db', db]);
      assert.equal(r.code, 0, r.stderr);
      const warnings = r.stderr.split('\n').filter((l) => l.startsWith('warning:'));
      assert.equal(warnings.length, warns ? 1 : 0, r.stderr);
      if (warns)
        assert.match(warnings[0]!, /has no name constraints: once installed it can vouch for any name/);
    }
  });
});
