// The client's own trust decisions, over real TLS on loopback: the fingerprint pin accepts the
// right root and rejects another before any HTTPS request; the fetched root must be a CA; and a
// certificate for other names, from another CA or expired fails with the name and the reason.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueCertificates } from '../../src/ca/api.js';
import { issueLeaf } from '../../src/ca/issue.js';
import { loadRoot } from '../../src/ca/store.js';
import { runCli } from '../helpers/cli.js';
import { makePki, tempDir, type TestPki } from '../helpers/pki.js';
import { NAMES, parseSummary, startDns, startFixtureServer, type FixtureServer } from './fixtures.js';

const DAY = 86_400_000;

describe('client trust and verification', () => {
  const t = tempDir();
  let pki: TestPki;
  let otherPki: TestPki;
  let dns: Awaited<ReturnType<typeof startDns>>;
  const servers: FixtureServer[] = [];

  const serve = async (o: Parameters<typeof startFixtureServer>[0]) => {
    const s = await startFixtureServer(o);
    servers.push(s);
    return s;
  };
  const client = (s: FixtureServer, ...args: string[]) =>
    runCli(
      [
        'client',
        ...['--dns', dns.address, '--port', String(s.httpsPort), '--http-port', String(s.httpPort)],
        ...['--interval', '0', '--timeout', '3s', '--wait-timeout', '3s'],
        ...args,
      ],
      { timeoutMs: 20_000 },
    );

  before(async () => {
    pki = await makePki(join(t.dir, 'a'));
    otherPki = await makePki(join(t.dir, 'b'));
    dns = await startDns();
  });
  after(async () => {
    await Promise.all(servers.map((s) => s.close()));
    await dns.close();
    t.cleanup();
  });

  it('accepts the root whose fingerprint matches the pin (openssl or hex form)', async () => {
    const s = await serve({ certPem: pki.certPem, keyPem: pki.keyPem, rootPem: pki.caPem });
    for (const pin of [pki.root.fingerprint.colon, pki.root.fingerprint.hex]) {
      const r = await client(s, '--ca-fingerprint', pin, '--count', '3');
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /matches --ca-fingerprint/);
      const answers = r.stdout
        .split('\n')
        .filter((l) => /: Client connection from 127\.0\.0\.1 to server /.test(l));
      assert.equal(answers.length, 3, r.stdout);
      assert.doesNotMatch(r.stderr, /warning/);
    }
  });

  it('accepts the pin exactly as `tlsecho ca fingerprint` and openssl print it', async () => {
    const s = await serve({ certPem: pki.certPem, keyPem: pki.keyPem, rootPem: pki.caPem });
    const ours = await runCli(['ca', 'fingerprint', '--out', join(t.dir, 'a')]);
    assert.equal(ours.code, 0, ours.stderr);
    const openssl = execFileSync(
      'openssl',
      ['x509', '-fingerprint', '-sha256', '-noout', '-in', pki.root.cert],
      {
        encoding: 'utf8',
      },
    );
    assert.match(ours.stdout, /^sha256 Fingerprint=/);
    assert.match(openssl, /^(sha256|SHA256) Fingerprint=/);
    for (const pin of [ours.stdout, openssl, openssl.toLowerCase()]) {
      const r = await client(s, '--ca-fingerprint', pin.trim(), '--count', '1');
      assert.equal(r.code, 0, `${pin}: ${r.stderr}`);
      assert.match(r.stdout, /matches --ca-fingerprint/);
    }
  });

  it('names a missing --ca-file in one line, without a raw error code', async () => {
    const missing = join(t.dir, 'nope.pem');
    const r = await runCli(['client', '--ca-file', missing, '--count', '1']);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, `tlsecho client: cannot read --ca-file ${missing}: no such file\n`);
    const folder = await runCli(['client', '--ca-file', t.dir, '--count', '1']);
    assert.equal(folder.stderr, `tlsecho client: cannot read --ca-file ${t.dir}: is a folder, not a file\n`);
  });

  it('a name the DNS server does not know says what to check while waiting', async () => {
    const s = await serve({ certPem: pki.certPem, keyPem: pki.keyPem, rootPem: pki.caPem });
    const r = await client(
      s,
      '--ca-file',
      pki.root.cert,
      '--names',
      'nowhere.tlsecho.test',
      '--wait-timeout',
      '500ms',
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `waiting for server: nowhere\\.tlsecho\\.test: name does not resolve \\(the DNS server ${dns.address.replace(/\./g, '\\.')} has no address for it; check --domain or --names\\); retrying in`,
      ),
    );
  });

  it('rejects a root with another fingerprint and makes no HTTPS request', async () => {
    const s = await serve({ certPem: pki.certPem, keyPem: pki.keyPem, rootPem: pki.caPem });
    const r = await client(s, '--ca-fingerprint', otherPki.root.fingerprint.colon, '--count', '3');
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `has SHA-256 fingerprint ${pki.root.fingerprint.colon}, but --ca-fingerprint is ${otherPki.root.fingerprint.colon}`,
      ),
    );
    assert.match(r.stderr, /no request was made/);
    assert.equal(r.stderr.trim().split('\n').length, 1, 'one clear line');
    assert.equal(s.httpsConnections(), 0);
  });

  it('without a pin trusts on first use and warns with the fingerprint', async () => {
    const s = await serve({ certPem: pki.certPem, keyPem: pki.keyPem, rootPem: pki.caPem });
    const r = await client(s, '--count', '1');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`warning: trusting .*${pki.root.fingerprint.colon} on first use`));
    assert.match(r.stderr, new RegExp(`--ca-fingerprint ${pki.root.fingerprint.hex}`));
  });

  it('refuses a /root_ca that is not a CA certificate', async () => {
    const s = await serve({ certPem: pki.certPem, keyPem: pki.keyPem, rootPem: pki.certPem });
    const r = await client(s, '--count', '1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /root_ca is not a CA certificate/);
    assert.equal(s.httpsConnections(), 0);
  });

  it('fails with the name and "name not in certificate" for a certificate for other names', async () => {
    const other = await issueCertificates({
      out: pki.out,
      dnsNames: ['other.tlsecho.test'],
      ipAddresses: [],
    });
    const s = await serve({
      certPem: readFileSync(other.server!.cert, 'utf8'),
      keyPem: readFileSync(other.server!.key, 'utf8'),
      rootPem: pki.caPem,
    });
    const r = await client(s, '--ca-fingerprint', pki.root.fingerprint.hex, '--count', '4');
    assert.equal(r.code, 1);
    const failed = r.stderr.split('\n').filter((l) => l.includes('FAILED'));
    assert.equal(failed.length, 4, r.stderr);
    for (const line of failed)
      assert.match(
        line,
        /FAILED server[123]\.tlsecho\.test -> 127\.0\.0\.1:\d+: name not in certificate \(certificate is for DNS:other\.tlsecho\.test\)$/,
      );
    const summary = parseSummary(r.stdout);
    const rows = [...summary.values()];
    assert.equal(
      rows.reduce((n, [requests]) => n + requests, 0),
      4,
    );
    assert.equal(
      rows.reduce((n, [, , failed]) => n + failed, 0),
      4,
    );
    assert.match(r.stdout, /x name not in certificate/);
  });

  it('fails with "unknown CA" for a certificate from another CA, never falling back to the system store', async () => {
    const s = await serve({ certPem: otherPki.certPem, keyPem: otherPki.keyPem, rootPem: otherPki.caPem });
    const r = await client(s, '--ca-file', pki.root.cert, '--count', '2');
    assert.equal(r.code, 1);
    const failed = r.stderr.split('\n').filter((l) => l.includes('FAILED'));
    assert.equal(failed.length, 2, r.stderr);
    for (const line of failed)
      assert.match(
        line,
        /FAILED server[123]\.tlsecho\.test -> .*: certificate not issued by the trusted CA \(unknown CA\)/,
      );
  });

  it('fails with "certificate expired" for an expired certificate', async () => {
    const root = (await loadRoot(pki.out))!;
    const expired = await issueLeaf({
      issuer: root,
      dnsNames: NAMES,
      ipAddresses: [],
      usage: 'server',
      days: 1,
      now: new Date(Date.now() - 10 * DAY),
    });
    const s = await serve({ certPem: expired.certPem, keyPem: expired.keyPem, rootPem: pki.caPem });
    const r = await client(s, '--ca-file', pki.root.cert, '--count', '1');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /FAILED server[123]\.tlsecho\.test -> .*: certificate expired/);
  });

  it('presents a client certificate for mutual TLS only when given one', async () => {
    const withClient = await makePki(join(t.dir, 'c'), { client: 'pinger.tlsecho.test' });
    const s = await serve({
      certPem: withClient.certPem,
      keyPem: withClient.keyPem,
      rootPem: withClient.caPem,
      requestClientCert: true,
    });
    const without = await client(s, '--ca-file', withClient.root.cert, '--count', '1');
    assert.equal(without.code, 1);
    assert.match(
      without.stderr,
      /FAILED server[123]\.tlsecho\.test -> .*: server requires a client certificate \(give --cert-file and --key-file\)$/m,
    );
    const withCert = await client(
      s,
      ...['--ca-file', withClient.root.cert, '--count', '1'],
      ...['--cert-file', withClient.client!.cert, '--key-file', withClient.client!.key],
    );
    assert.equal(withCert.code, 0, withCert.stderr);
  });

  it('rejects bad flags with one line and exit 2', async () => {
    const cases: [string[], RegExp][] = [
      [['--ca-fingerprint', 'abc'], /invalid --ca-fingerprint/],
      [['--dns', 'localhost:53'], /invalid --dns/],
      [['--cert-file', 'x.pem'], /--cert-file and --key-file go together/],
      [['--ca-url', 'https://x/root_ca'], /must be an http:\/\/ URL/],
    ];
    for (const [args, re] of cases) {
      const r = await runCli(['client', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });
});
