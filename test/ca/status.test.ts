// tlsecho ca status: the trust report reads the real folder and the real stores: root and
// intermediate facts match OpenSSL's, every leaf shows its names, chain and days left (with a
// warning near expiry), and an NSS database or NODE_EXTRA_CA_CERTS shows the root once it is there.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Status } from '../../src/ca/status.js';
import { needTools } from '../browser/prereqs.js';
import { runCli } from '../helpers/cli.js';
import { tempDir } from '../helpers/pki.js';

const fingerprint = (f: string) =>
  execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256', '-in', f], { encoding: 'utf8' })
    .trim()
    .split('=')[1]!;

describe('tlsecho ca status', () => {
  const t = tempDir();
  const out = join(t.dir, 'certs');
  const db = join(t.dir, 'nssdb');
  let base: Status;
  const status = async (env: NodeJS.ProcessEnv = {}, ...extra: string[]) => {
    const r = await runCli(['ca', 'status', '--out', out, '--format', 'json', '--nss-db', db, ...extra], {
      env,
    });
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Status;
  };
  before(async () => {
    mkdirSync(db);
    const steps = [
      [
        '--intermediate',
        '--name-constraints',
        'tlsecho.test,localhost,127.0.0.0/8',
        '--domains',
        'localhost',
      ],
      ['--domains', 'soon.tlsecho.test', '--days', '10'],
      ['--client', 'pinger.tlsecho.test'],
    ];
    for (const s of steps) assert.equal((await runCli(['ca', '--out', out, ...s])).code, 0);
    assert.equal((await runCli(['ca', 'p12', 'localhost', '--out', out])).code, 0);
    // A leaf of another CA dropped into the folder.
    const other = join(t.dir, 'other');
    assert.equal((await runCli(['ca', '--out', other, '--domains', 'stray.test'])).code, 0);
    mkdirSync(join(out, 'stray.test'));
    copyFileSync(join(other, 'stray.test', 'cert.pem'), join(out, 'stray.test', 'cert.pem'));
    base = await status({ NODE_EXTRA_CA_CERTS: '' });
  });
  after(t.cleanup);

  it('reports the root and intermediate as OpenSSL sees them, with their constraints', async () => {
    const s = base;
    assert.equal(s.root.sha256, fingerprint(join(out, 'minica.pem')));
    assert.equal(s.intermediate?.sha256, fingerprint(join(out, 'intermediate.pem')));
    assert.equal(s.root.nameConstraints, 'tlsecho.test, localhost, 127.0.0.0/8');
    assert.equal(s.intermediate?.nameConstraints, 'tlsecho.test, localhost, 127.0.0.0/8');
    assert.ok(s.root.daysLeft >= 3648 && s.root.daysLeft <= 3650, `${s.root.daysLeft}`);
  });

  it('lists every leaf with names, usage, chain and days left, warning under 30 days', async () => {
    const s = base;
    const by = Object.fromEntries(s.leaves.map((l) => [l.folder.split('/').pop()!, l]));
    assert.deepEqual(Object.keys(by).sort(), [
      'localhost',
      'pinger.tlsecho.test',
      'soon.tlsecho.test',
      'stray.test',
    ]);
    assert.deepEqual(by.localhost!.names, ['localhost']);
    assert.deepEqual(by.localhost!.usage, ['server']);
    assert.equal(by.localhost!.p12, true);
    assert.equal(by.localhost!.chain.length, 3);
    assert.match(by.localhost!.chain[1]!, /tlsecho intermediate CA/);
    assert.equal(by.localhost!.chainValid, true);
    assert.equal(by.localhost!.warning, undefined);
    assert.deepEqual(by['pinger.tlsecho.test']!.usage, ['client']);
    assert.ok(by['soon.tlsecho.test']!.daysLeft <= 10);
    assert.match(by['soon.tlsecho.test']!.warning ?? '', /^expires in \d+ days: re-issue it/);
    assert.equal(by['stray.test']!.chainValid, false);
  });

  it('shows whether the root is in NODE_EXTRA_CA_CERTS, the system store and Java', async () => {
    const unset = base;
    assert.deepEqual(
      unset.stores.find((x) => x.store === 'NODE_EXTRA_CA_CERTS'),
      { store: 'NODE_EXTRA_CA_CERTS', where: '(not set)', present: false },
    );
    const set = await status({ NODE_EXTRA_CA_CERTS: join(out, 'minica.pem') });
    assert.equal(set.stores.find((x) => x.store === 'NODE_EXTRA_CA_CERTS')?.present, true);
    const other = await status({ NODE_EXTRA_CA_CERTS: join(t.dir, 'other', 'minica.pem') });
    assert.equal(other.stores.find((x) => x.store === 'NODE_EXTRA_CA_CERTS')?.present, false);
    for (const store of ['system', 'java'] as const) {
      const s = unset.stores.find((x) => x.store === store);
      assert.ok(s, `${store} reported`);
      assert.notEqual(s.present, true, `${store}: this fresh root is in no store`);
    }
  });

  it('shows an NSS database as trusted after ca install', { skip: needTools('certutil') }, async () => {
    execFileSync('certutil', ['-N', '-d', `sql:${db}`, '--empty-password']);
    const before = (await status()).stores.find((x) => x.store === 'nss');
    assert.equal(before?.present, false);
    assert.equal((await runCli(['ca', 'install', '--out', out, '--nss-db', db])).code, 0);
    const after = (await status()).stores.find((x) => x.store === 'nss');
    assert.equal(after?.present, true);
    assert.match(after!.where, new RegExp(`sql:${db}$`));
  });

  it('prints the same as text, with the warning', async () => {
    const r = await runCli(['ca', 'status', '--out', out, '--nss-db', db]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^root CA .*minica\.pem$/m);
    assert.match(r.stdout, /name constraints: tlsecho\.test, localhost, 127\.0\.0\.0\/8/);
    assert.match(r.stdout, /WARNING: expires in \d+ days/);
    assert.match(r.stdout, /does NOT reach this root/);
    assert.match(r.stdout, /^trust stores:$/m);
  });

  it('fails in one line without a root, and on --format hex', async () => {
    const none = await runCli(['ca', 'status', '--out', join(t.dir, 'none')]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /^tlsecho ca: no root CA at .*none\/minica\.pem \(run 'tlsecho ca' first\)\n$/);
    const hex = await runCli(['ca', 'status', '--out', out, '--format', 'hex']);
    assert.equal(hex.code, 2);
    assert.match(hex.stderr, /'status' takes --format json/);
  });
});
