// tlsecho ca: the certificates pass OpenSSL's strict checks and real Node TLS handshakes, the
// root is reused, and bad input fails with one clear line and nothing written.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { runCli } from '../helpers/cli.js';
import { opensslVerify, x509Text } from '../helpers/openssl.js';
import { tempDir } from '../helpers/pki.js';

const SERVER_NAMES = ['server1.tlsecho.test', 'server2.tlsecho.test', 'server3.tlsecho.test', 'localhost'];

/** Serves one TLS connection with the given pair and returns what the client saw. */
async function handshake(
  cert: string,
  key: string,
  ca: string,
  connect: { servername?: string; host?: string },
): Promise<{ ok: true } | { ok: false; code: string }> {
  const server = tls.createServer({ cert, key }, (s) => s.end('hi'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    return await new Promise((resolve) => {
      const socket = tls.connect(
        { port, host: connect.host ?? '127.0.0.1', servername: connect.servername, ca },
        () => {
          socket.end();
          resolve({ ok: true });
        },
      );
      socket.on('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, code: e.code ?? e.message }));
    });
  } finally {
    server.close();
  }
}

describe('tlsecho ca with the defaults', () => {
  const t = tempDir();
  const out = join(t.dir, 'certs');
  let first: Awaited<ReturnType<typeof runCli>>;
  before(async () => {
    first = await runCli(['ca', '--out', out]);
  });
  after(t.cleanup);

  it('writes the minica layout with private modes', () => {
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(readdirSync(out).sort(), ['minica-key.pem', 'minica.pem', 'server1.tlsecho.test']);
    assert.deepEqual(readdirSync(join(out, 'server1.tlsecho.test')).sort(), ['cert.pem', 'key.pem']);
    assert.equal(statSync(join(out, 'minica-key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'server1.tlsecho.test', 'key.pem')).mode & 0o777, 0o600);
    assert.equal(statSync(join(out, 'server1.tlsecho.test')).mode & 0o777, 0o700);
    assert.equal(statSync(out).mode & 0o777, 0o700);
  });

  it('prints the fingerprint as openssl shows it, and in hex', () => {
    const expected = execFileSync(
      'openssl',
      ['x509', '-noout', '-fingerprint', '-sha256', '-in', join(out, 'minica.pem')],
      {
        encoding: 'utf8',
      },
    ).trim(); // sha256 Fingerprint=AB:CD:...
    const colon = expected.split('=')[1]!;
    assert.match(first.stdout, new RegExp(`SHA-256 fingerprint: ${colon}`));
    assert.match(first.stdout, new RegExp(colon.replace(/:/g, '').toLowerCase()));
  });

  it('`ca fingerprint` prints it again for the existing root', async () => {
    const r = await runCli(['ca', 'fingerprint', '--out', out]);
    const hex = await runCli(['ca', 'fingerprint', '--out', out, '--format', 'hex']);
    const openssl = execFileSync(
      'openssl',
      ['x509', '-noout', '-fingerprint', '-sha256', '-in', join(out, 'minica.pem')],
      {
        encoding: 'utf8',
      },
    );
    assert.equal(r.stdout.trim().toLowerCase(), openssl.trim().toLowerCase());
    assert.equal(hex.stdout.trim(), openssl.trim().split('=')[1]!.replace(/:/g, '').toLowerCase());
  });

  it('passes openssl verify -x509_strict for every name and IP', () => {
    const leaf = join(out, 'server1.tlsecho.test', 'cert.pem');
    for (const name of SERVER_NAMES) {
      const r = opensslVerify(
        join(out, 'minica.pem'),
        leaf,
        '-purpose',
        'sslserver',
        '-verify_hostname',
        name,
      );
      assert.equal(r.status, 0, `${name}: ${r.stdout}${r.stderr}`);
    }
    for (const ip of ['127.0.0.1', '::1']) {
      const r = opensslVerify(join(out, 'minica.pem'), leaf, '-purpose', 'sslserver', '-verify_ip', ip);
      assert.equal(r.status, 0, `${ip}: ${r.stdout}${r.stderr}`);
    }
    const wrong = opensslVerify(
      join(out, 'minica.pem'),
      leaf,
      '-purpose',
      'sslserver',
      '-verify_hostname',
      'server4.tlsecho.test',
    );
    assert.notEqual(wrong.status, 0);
  });

  it('has the documented root and leaf profiles', () => {
    const root = new X509Certificate(readFileSync(join(out, 'minica.pem')));
    const leaf = new X509Certificate(readFileSync(join(out, 'server1.tlsecho.test', 'cert.pem')));
    const rootText = x509Text(join(out, 'minica.pem'));
    const leafText = x509Text(join(out, 'server1.tlsecho.test', 'cert.pem'));
    assert.ok(root.ca);
    assert.match(rootText, /Basic Constraints: critical\s+CA:TRUE, pathlen:0/);
    assert.match(rootText, /Key Usage: critical\s+Certificate Sign, CRL Sign/);
    assert.doesNotMatch(rootText, /Extended Key Usage/);
    assert.match(rootText, /ecdsa-with-SHA256/);
    assert.ok(!leaf.ca);
    assert.match(leafText, /Basic Constraints: critical\s+CA:FALSE/);
    assert.match(leafText, /Key Usage: critical\s+Digital Signature\n/);
    assert.match(leafText, /TLS Web Server Authentication/);
    assert.match(leafText, /Authority Key Identifier/);
    assert.match(
      leafText,
      /DNS:server1.tlsecho.test, DNS:server2.tlsecho.test, DNS:server3.tlsecho.test, DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1/,
    );
    // Serials: 16 random bytes, positive.
    assert.equal(root.serialNumber.length, 32);
    assert.ok(parseInt(root.serialNumber[0]!, 16) < 8);
    const days = (Date.parse(leaf.validTo) - Date.now()) / 86_400_000;
    assert.ok(days <= 397 && days > 396, `leaf valid for ${days} days`);
    assert.ok(Date.parse(leaf.validFrom) < Date.now() - 60_000, 'notBefore is backdated');
    assert.ok(leaf.verify(root.publicKey));
  });

  it('completes real Node TLS handshakes trusting only the root, and rejects other names', async () => {
    const cert = readFileSync(join(out, 'server1.tlsecho.test', 'cert.pem'), 'utf8');
    const key = readFileSync(join(out, 'server1.tlsecho.test', 'key.pem'), 'utf8');
    const ca = readFileSync(join(out, 'minica.pem'), 'utf8');
    for (const name of SERVER_NAMES)
      assert.deepEqual(await handshake(cert, key, ca, { servername: name }), { ok: true }, name);
    assert.deepEqual(await handshake(cert, key, ca, { host: '127.0.0.1' }), { ok: true });
    assert.deepEqual(await handshake(cert, key, ca, { servername: 'server4.tlsecho.test' }), {
      ok: false,
      code: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
  });

  it('reuses the root and a leaf with the same names on a later run; other names need --force', async () => {
    const before = readFileSync(join(out, 'minica.pem'), 'utf8');
    const leafBefore = readFileSync(join(out, 'server1.tlsecho.test', 'cert.pem'), 'utf8');
    const keyBefore = readFileSync(join(out, 'server1.tlsecho.test', 'key.pem'), 'utf8');
    // `tlsecho ca && tlsecho server`, run again: the same default names, so the leaf is kept.
    const again = await runCli(['ca', '--out', out]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(again.stderr, '');
    assert.match(again.stdout, /server certificate .*cert\.pem, key .*key\.pem \(reused: same names/);
    assert.match(again.stdout, /names: server1\.tlsecho\.test, .*, ::1; valid until /);
    assert.equal(readFileSync(join(out, 'server1.tlsecho.test', 'cert.pem'), 'utf8'), leafBefore);
    assert.equal(readFileSync(join(out, 'server1.tlsecho.test', 'key.pem'), 'utf8'), keyBefore);
    // The same folder for other names: not silently replaced.
    const other = await runCli(['ca', '--out', out, '--domains', 'server1.tlsecho.test']);
    assert.equal(other.code, 1);
    assert.match(
      other.stderr,
      /key\.pem already exists and cannot be reused: it is for other names \(.*localhost.*\) \(use --force to re-issue\)/,
    );
    assert.equal(other.stderr.trim().split('\n').length, 1, other.stderr);
    assert.equal(readFileSync(join(out, 'server1.tlsecho.test', 'cert.pem'), 'utf8'), leafBefore);
    const forced = await runCli(['ca', '--out', out, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stdout, /\(reused\)/);
    assert.equal(readFileSync(join(out, 'minica.pem'), 'utf8'), before);
    assert.notEqual(readFileSync(join(out, 'server1.tlsecho.test', 'cert.pem'), 'utf8'), leafBefore);
  });

  it('does not reuse a leaf that expires within 30 days', async () => {
    const dir = join(t.dir, 'short');
    const first = await runCli(['ca', '--out', dir, '--domains', 'short.test', '--days', '20']);
    assert.equal(first.code, 0, first.stderr);
    const again = await runCli(['ca', '--out', dir, '--domains', 'short.test']);
    assert.equal(again.code, 1);
    assert.match(
      again.stderr,
      /cannot be reused: it expires on \S+, within 30 days \(use --force to re-issue\)$/m,
    );
    const client = await runCli(['ca', '--out', dir, '--client', 'pinger']);
    assert.equal(client.code, 0, client.stderr);
    const clientAgain = await runCli(['ca', '--out', dir, '--client', 'pinger']);
    assert.equal(clientAgain.code, 0, clientAgain.stderr);
    assert.match(clientAgain.stdout, /client certificate .*pinger.*\(mutual TLS\) \(reused/);
  });

  it('issues a client certificate for mutual TLS that openssl accepts as sslclient', async () => {
    const r = await runCli(['ca', '--out', out, '--client', 'pinger']);
    assert.equal(r.code, 0, r.stderr);
    const v = opensslVerify(
      join(out, 'minica.pem'),
      join(out, 'pinger', 'cert.pem'),
      '-purpose',
      'sslclient',
    );
    assert.equal(v.status, 0, v.stdout + v.stderr);
    const s = opensslVerify(
      join(out, 'minica.pem'),
      join(out, 'pinger', 'cert.pem'),
      '-purpose',
      'sslserver',
    );
    assert.notEqual(s.status, 0, 'a client certificate is not a server certificate');
  });
});

describe('tlsecho ca options', () => {
  const t = tempDir();
  after(t.cleanup);

  it('takes names from --domains/--ip-addresses, makes a wildcard folder safe, and RSA on request', async () => {
    const out = join(t.dir, 'rsa');
    const r = await runCli([
      'ca',
      '--out',
      out,
      '--ca-alg',
      'rsa',
      '--domains',
      '*.Example.TEST,example.test',
      '--ip-addresses',
      '10.1.2.3',
    ]);
    assert.equal(r.code, 0, r.stderr);
    const leafFile = join(out, '_.example.test', 'cert.pem');
    const text = x509Text(leafFile);
    assert.match(text, /DNS:\*\.example\.test, DNS:example\.test, IP Address:10\.1\.2\.3/);
    assert.match(text, /Digital Signature, Key Encipherment/);
    assert.match(text, /sha256WithRSAEncryption/);
    const v = opensslVerify(
      join(out, 'minica.pem'),
      leafFile,
      '-purpose',
      'sslserver',
      '-verify_hostname',
      'a.example.test',
    );
    assert.equal(v.status, 0, v.stdout + v.stderr);
  });

  it('uses MX_domain and MX_certspath from the environment, and a YAML --config', async () => {
    const out = join(t.dir, 'env');
    const r = await runCli(['ca'], { env: { MX_domain: 'corp.internal', MX_certspath: out } });
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(join(out, 'server1.corp.internal', 'cert.pem')));
    const cfg = join(t.dir, 'ca.yaml');
    writeFileSync(cfg, `out: ${join(t.dir, 'yaml')}\ndomains: [yaml.test]\ndays: 30\n`);
    const y = await runCli(['ca', '--config', cfg]);
    assert.equal(y.code, 0, y.stderr);
    const leaf = new X509Certificate(readFileSync(join(t.dir, 'yaml', 'yaml.test', 'cert.pem')));
    assert.ok((Date.parse(leaf.validTo) - Date.now()) / 86_400_000 < 31);
  });

  it('--help lists every option with its variable and default', async () => {
    const r = await runCli(['ca', '--help']);
    assert.equal(r.code, 0);
    for (const s of [
      '--domains',
      '--ip-addresses',
      '--out',
      'MX_certspath',
      '--ca-alg',
      '[default: ecdsa]',
      '--days',
      '--client',
      '--force',
      'MX_domain',
    ])
      assert.ok(r.stdout.includes(s), s);
  });
});

describe('tlsecho ca bad input', () => {
  const t = tempDir();
  after(t.cleanup);

  async function fails(args: string[], message: RegExp, code = 2, env: NodeJS.ProcessEnv = {}) {
    const out = join(t.dir, `bad-${Math.random().toString(36).slice(2)}`);
    const r = await runCli(['ca', '--out', out, ...args], { env });
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one line');
    assert.ok(!existsSync(out), 'nothing written');
  }

  it('rejects invalid DNS names and IPs, naming them', async () => {
    await fails(
      ['--domains', 'has space.test'],
      /invalid DNS name "has space.test": character " " is not allowed/,
    );
    await fails(['--domains', 'under_score.test'], /invalid DNS name "under_score.test": character "_"/);
    await fails(['--domains', 'a..test'], /invalid DNS name "a..test": empty label/);
    await fails(
      [
        '--domains',
        `${'a'.repeat(60)}.${'b'.repeat(60)}.${'c'.repeat(60)}.${'d'.repeat(60)}.${'e'.repeat(9)}.test`,
      ],
      /more than 253/,
    );
    await fails(['--domains', 'foo.*.test'], /wildcard is only allowed as the leftmost label/);
    await fails(['--ip-addresses', '300.1.2.3'], /invalid IP address "300.1.2.3"/);
    await fails(
      ['--ip-addresses', 'fe80::1%eth0'],
      /IP address "fe80::1%eth0" has a zone; a certificate holds/,
    );
    await fails(['--days', '0'], /invalid --days: "0"/);
    await fails(['--ca-alg', 'dsa'], /invalid --ca-alg: "dsa" is not one of ecdsa, rsa/);
    await fails([], /invalid --rsa-bits \(from environment variable TLSECHO_RSA_BITS\)/, 2, {
      TLSECHO_RSA_BITS: '1024',
    });
    await fails(['--bogus'], /^tlsecho ca: Unknown option '--bogus' \(run with --help for the options\)$/m);
  });

  it('rejects an unknown key in the config file', async () => {
    const cfg = join(t.dir, 'bad.yaml');
    writeFileSync(cfg, 'domians: [a.test]\n');
    await fails(['--config', cfg], /config file .*bad\.yaml: unknown key 'domians'/);
  });

  it('fails on an unwritable --out without leaving anything behind', async () => {
    // /proc refuses new folders even to root; a read-only folder does the same for other users.
    let parent = '/proc';
    if (process.getuid?.() !== 0) {
      parent = join(t.dir, 'ro');
      execFileSync('mkdir', ['-p', parent]);
      chmodSync(parent, 0o500);
    }
    const out = join(parent, 'tlsecho-certs');
    const r = await runCli(['ca', '--out', out]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^tlsecho ca: cannot write to .*tlsecho-certs.*: E[A-Z]+\n$/);
    assert.ok(!existsSync(out));
  });

  it('fails on an --out that is a file', async () => {
    const file = join(t.dir, 'a-file');
    writeFileSync(file, 'x');
    const r = await runCli(['ca', '--out', join(file, 'certs')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /cannot write to .*a-file.*: ENOTDIR|is not a folder/);
    assert.equal(readFileSync(file, 'utf8'), 'x');
  });

  it('refuses a corrupt, half-present or mismatched root and changes nothing', async () => {
    const base = join(t.dir, 'roots');
    const good = await runCli(['ca', '--out', join(base, 'a')]);
    const other = await runCli(['ca', '--out', join(base, 'b')]);
    assert.equal(good.code, 0);
    assert.equal(other.code, 0);
    const check = async (dir: string, message: RegExp) => {
      const before = readdirSync(dir).sort();
      const r = await runCli(['ca', '--out', dir, '--domains', 'x.test']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.deepEqual(readdirSync(dir).sort(), before);
    };
    // Key of another root.
    writeFileSync(join(base, 'a', 'minica-key.pem'), readFileSync(join(base, 'b', 'minica-key.pem')), {
      mode: 0o600,
    });
    await check(join(base, 'a'), /minica-key\.pem does not match the certificate .*minica\.pem/);
    // Corrupt certificate.
    writeFileSync(
      join(base, 'b', 'minica.pem'),
      '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n',
    );
    await check(join(base, 'b'), /minica\.pem is not a valid PEM certificate/);
    // Half-present root.
    execFileSync('rm', [join(base, 'b', 'minica.pem')]);
    await check(join(base, 'b'), /minica-key\.pem exists but .*minica\.pem is missing/);
  });
});
