// `tlsecho lab check` against a real server serving the lab: tlsecho's client and curl with the
// root are judged correct on every name; curl with verification off (-k, only here, to prove the
// verdicts catch it) gets ✘ on every name it wrongly accepts, and a non-zero exit.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueLab } from '../../src/ca/lab.js';
import { startDnsServer } from '../../src/dns/server.js';
import { LAB_KINDS } from '../../src/lab/names.js';
import type { RunningServer } from '../../src/server/index.js';
import { runCli } from '../helpers/cli.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { startWithPki } from '../helpers/server.js';

const rows = (stdout: string) =>
  Object.fromEntries(
    stdout
      .split('\n')
      .filter((l) => l.includes(`.${TEST_DOMAIN}`))
      .map((l) => [l.split(/\s+/)[0]!.split('.')[0]!, l]),
  );

describe('tlsecho lab check', () => {
  const t = tempDir();
  let pki: TestPki;
  let server: RunningServer;
  let check: (extra: string[]) => ReturnType<typeof runCli>;
  before(async () => {
    // Two-tier, so the lab has all nine names (incomplete-chain under the CA's intermediate).
    pki = await makePki(join(t.dir, 'certs'), { intermediate: true });
    const lab = await issueLab({ out: pki.out, domain: TEST_DOMAIN });
    server = await startWithPki(pki, { lab: lab.dir, labTls12Port: 0 });
    check = (extra) =>
      runCli(
        [
          'lab',
          'check',
          ...['--certs-path', pki.out, '--domain', TEST_DOMAIN, '--address', '127.0.0.1'],
          ...['--port', String(server.httpsPort), '--tls12-port', String(server.labTls12Port)],
          ...extra,
        ],
        { timeoutMs: 120_000 },
      );
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  it("judges tlsecho's own client correct on every name, by its reasons", async () => {
    const r = await check([]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const row = rows(r.stdout);
    assert.equal(Object.keys(row).length, 9);
    for (const line of Object.values(row)) assert.match(line, /✔$/);
    assert.match(row.expired!, /refuse: expired\s+refused: certificate expired/);
    assert.match(row['wrong-name']!, /refused: name not in certificate/);
    assert.match(row['self-signed']!, /refused: self-signed certificate/);
    assert.match(row['client-cert']!, /refused: server requires a client certificate/);
    assert.match(row['incomplete-chain']!, /refuse: incomplete chain\s+refused: certificate not issued/);
    assert.match(row.tls12!, /connected \(TLSv1\.2, HTTP 200\)/);
    assert.match(r.stdout, /all 9 verdicts correct/);
  });

  const curl = (flags: string[]) => [
    '--',
    'curl',
    '-sS',
    '--max-time',
    '10',
    ...flags,
    '--resolve',
    '{host}:{port}:{address}',
    '{url}',
  ];

  it('judges curl with the root correct on every name', async () => {
    const r = await check(curl(['--cacert', pki.root.cert]));
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = Object.values(rows(r.stdout));
    assert.equal(lines.length, LAB_KINDS.length, r.stdout);
    for (const line of lines) assert.match(line, /✔$/);
    assert.match(
      rows(r.stdout).expired!,
      /refused \(exit 60\): curl: \(60\) SSL certificate problem: certificate has expired/,
    );
  });

  it('catches a client that skips verification (curl -k) and exits non-zero', async () => {
    const r = await check(curl(['-k']));
    assert.equal(r.code, 1);
    const row = rows(r.stdout);
    for (const kind of [
      'expired',
      'not-yet-valid',
      'wrong-name',
      'untrusted',
      'self-signed',
      'incomplete-chain',
    ])
      assert.match(row[kind]!, /connected \(exit 0\)\s+✘$/, kind);
    for (const kind of ['good', 'tls12', 'client-cert']) assert.match(row[kind]!, /✔$/, kind);
    assert.match(r.stdout, /6 of 9 verdicts wrong/);
  });

  it('names a lab name the DNS does not answer, in one line, and exits 1', async () => {
    // A real DNS server whose zone lacks the lab's names: NXDOMAIN for each.
    const dns = await startDnsServer({ host: '127.0.0.1', port: 0, zone: TEST_DOMAIN, records: {} });
    try {
      const r = await runCli(
        ['lab', 'check', '--certs-path', pki.out, '--domain', TEST_DOMAIN, '--dns', dns.address],
        { timeoutMs: 30_000 },
      );
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr.trim(),
        `tlsecho lab: cannot resolve good.${TEST_DOMAIN} (ENOTFOUND): serve the lab's names in DNS (the demo's DNS, Compose's aliases), point --dns at a server that has them, or give --address`,
      );
    } finally {
      await dns.close();
    }
  });

  it('refuses a command without {url}, in one line', async () => {
    const r = await check(['--', 'curl', 'https://example.invalid/']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^tlsecho lab: the command after -- names no \{url\}/);
  });
});

describe('tlsecho lab check on a lab without incomplete-chain (a pathlen:0 root)', () => {
  const t = tempDir();
  let server: RunningServer;
  let pki: TestPki;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    const lab = await issueLab({ out: pki.out, domain: TEST_DOMAIN });
    assert.equal(lab.skipped.length, 1);
    server = await startWithPki(pki, { lab: lab.dir, labTls12Port: 0 });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  it('judges the names the server serves, and says the missing one is not judged', async () => {
    const r = await runCli(
      [
        'lab',
        'check',
        ...['--certs-path', pki.out, '--domain', TEST_DOMAIN, '--address', '127.0.0.1'],
        ...['--port', String(server.httpsPort), '--tls12-port', String(server.labTls12Port)],
      ],
      { timeoutMs: 120_000 },
    );
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /all 8 verdicts correct/);
    assert.match(
      r.stdout,
      /^incomplete-chain\.tlsecho\.test: not served by this lab, not judged \('tlsecho ca lab' says why\)$/m,
    );
  });
});
