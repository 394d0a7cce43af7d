// tlsecho ca install / uninstall against real NSS databases made by the real certutil: the root
// lands with trust C,, under its own nickname, a second run changes nothing, uninstall removes
// exactly that root, and the failure cases say what is wrong in one line.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listCerts, type NssDb } from '../../src/ca/certutil.js';
import { readRoot } from '../../src/ca/trust-store.js';
import { needTools } from '../browser/prereqs.js';
import { runCli } from '../helpers/cli.js';
import { makePki, tempDir, type TestPki } from '../helpers/pki.js';

const skip = needTools('certutil');

function newDb(dir: string): NssDb {
  mkdirSync(dir, { recursive: true });
  execFileSync('certutil', ['-N', '-d', `sql:${dir}`, '--empty-password']);
  return { dir, format: 'sql' };
}

/** The DER of the certificate stored under `nickname`, as certutil exports it. */
function storedCert(db: NssDb, nickname: string): Buffer {
  const pem = execFileSync('certutil', ['-L', '-d', `sql:${db.dir}`, '-n', nickname, '-a'], {
    encoding: 'utf8',
  });
  return new X509Certificate(pem).raw;
}

const ca = (args: string[], pki: TestPki, env: NodeJS.ProcessEnv = {}) =>
  runCli(['ca', ...args, '--out', pki.out], { env });

describe('tlsecho ca install/uninstall with --nss-db', { skip }, () => {
  const t = tempDir();
  let pki: TestPki;
  let other: TestPki;
  let db: NssDb;
  let nickname: string;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    other = await makePki(join(t.dir, 'other'));
    nickname = readRoot(pki.out).nickname;
    db = newDb(join(t.dir, 'profile'));
    // Someone else's root in the same database, which uninstall must leave alone.
    execFileSync('certutil', [
      '-A',
      '-d',
      `sql:${db.dir}`,
      '-n',
      'unrelated root',
      '-t',
      'C,,',
      '-i',
      other.root.cert,
    ]);
  });
  after(t.cleanup);

  it('adds exactly this root with trust C,, under a nickname naming its CN and fingerprint', async () => {
    const r = await ca(['install', '--nss-db', db.dir], pki);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /added to NSS database sql:.*profile as "tlsecho root CA [0-9a-f]+ sha256-[0-9a-f]{16}"/,
    );
    assert.match(nickname, new RegExp(`sha256-${pki.root.fingerprint.hex.slice(0, 16)}$`));
    const entries = await listCerts(db);
    assert.deepEqual(entries.find((e) => e.nickname === nickname)?.trust, 'C,,');
    assert.deepEqual(storedCert(db, nickname), new X509Certificate(pki.caPem).raw);
  });

  it('prints the macOS and Windows commands without running them', async () => {
    const r = await ca(['install', '--nss-db', db.dir], pki);
    assert.ok(
      r.stdout.includes(
        `security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${pki.root.cert}`,
      ),
    );
    assert.ok(r.stdout.includes(`certutil -addstore -f ROOT ${pki.root.cert}`));
  });

  it('is idempotent: a second install reports it and stores no second copy', async () => {
    const r = await ca(['install', '--nss-db', db.dir], pki);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /already in NSS database/);
    assert.doesNotMatch(r.stdout, /Restart/);
    const ours = (await listCerts(db)).filter((e) => e.nickname === nickname);
    assert.equal(ours.length, 1);
  });

  it('restores trust C,, when it was changed', async () => {
    execFileSync('certutil', ['-M', '-d', `sql:${db.dir}`, '-n', nickname, '-t', ',,']);
    const r = await ca(['install', '--nss-db', db.dir], pki);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /trust set to C,,/);
    assert.equal((await listCerts(db)).find((e) => e.nickname === nickname)?.trust, 'C,,');
  });

  it('uninstall removes this root and nothing else; a second uninstall is a no-op', async () => {
    const r = await ca(['uninstall', '--nss-db', db.dir], pki);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /removed from NSS database/);
    assert.ok(
      r.stdout.includes(
        `certutil -delstore ROOT ${new X509Certificate(pki.caPem).fingerprint.replace(/:/g, '')}`,
      ),
    );
    assert.deepEqual(await listCerts(db), [{ nickname: 'unrelated root', trust: 'C,,' }]);
    const again = await ca(['uninstall', '--nss-db', db.dir], pki);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /not in NSS database/);
  });

  it('creates a database in an existing empty folder (a new browser profile)', async () => {
    const empty = join(t.dir, 'empty-profile');
    mkdirSync(empty);
    const r = await ca(['install', '--nss-db', empty], pki);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\(database created\)/);
    assert.ok(existsSync(join(empty, 'cert9.db')));
    assert.equal(
      (await listCerts({ dir: empty, format: 'sql' })).find((e) => e.nickname === nickname)?.trust,
      'C,,',
    );
  });
});

describe('tlsecho ca install/uninstall discovering the databases under HOME', { skip }, () => {
  const t = tempDir();
  const home = join(t.dir, 'home');
  const firefox = join(home, '.mozilla', 'firefox', 'abcd1234.default-esr');
  const snapFirefox = join(home, 'snap', 'firefox', 'common', '.mozilla', 'firefox', 'efgh5678.default');
  const noDbProfile = join(home, '.mozilla', 'firefox', 'never-started');
  const shared = join(home, '.pki', 'nssdb');
  let pki: TestPki;
  let nickname: string;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    nickname = readRoot(pki.out).nickname;
    newDb(firefox);
    newDb(snapFirefox);
    mkdirSync(noDbProfile, { recursive: true });
  });
  after(t.cleanup);

  it('creates ~/.pki/nssdb (0700) and adds the root there and to every Firefox profile with a database', async () => {
    const r = await ca(['install', '--stores', 'nss'], pki, { HOME: home });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(shared).mode & 0o777, 0o700);
    assert.equal(statSync(dirname(shared)).mode & 0o777, 0o700);
    for (const dir of [shared, firefox, snapFirefox]) {
      assert.ok(r.stdout.includes(`sql:${dir}`), `${dir} not reported:\n${r.stdout}`);
      assert.equal(
        (await listCerts({ dir, format: 'sql' })).find((e) => e.nickname === nickname)?.trust,
        'C,,',
      );
    }
    assert.ok(!existsSync(join(noDbProfile, 'cert9.db')), 'a profile without a database was given one');
    assert.match(r.stdout, /Restart Chromium and Firefox/);
  });

  it('uninstall removes it from all of them', async () => {
    const r = await ca(['uninstall', '--stores', 'nss'], pki, { HOME: home });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.match(/removed from/g)?.length, 3, r.stdout);
    for (const dir of [shared, firefox, snapFirefox])
      assert.deepEqual(await listCerts({ dir, format: 'sql' }), []);
  });
});

describe('tlsecho ca install failures', () => {
  const t = tempDir();
  let pki: TestPki;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
  });
  after(t.cleanup);

  it('names the missing root and how to make one', async () => {
    const out = join(t.dir, 'no-root');
    for (const action of ['install', 'uninstall']) {
      const r = await runCli(['ca', action, '--out', out], { env: { HOME: t.dir } });
      assert.equal(r.code, 1);
      assert.equal(
        r.stderr,
        `tlsecho ca: cannot read root CA ${join(out, 'minica.pem')}: no such file (run 'npx tlsecho ca' first)\n`,
      );
    }
  });

  it('refuses a root file that is not a CA certificate', async () => {
    const out = join(t.dir, 'leaf-as-root');
    mkdirSync(out);
    copyFileSync(pki.server!.cert, join(out, 'minica.pem'));
    const r = await runCli(['ca', 'install', '--out', out], { env: { HOME: t.dir } });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^tlsecho ca: .*minica\.pem is not a CA certificate\n$/);
  });

  it('names the package to install when certutil is missing', async () => {
    const r = await ca(['install', '--nss-db', t.dir], pki, { PATH: join(t.dir, 'empty-bin'), HOME: t.dir });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^tlsecho ca: certutil not found on PATH: .*libnss3-tools.*\n$/);
    assert.ok(!existsSync(join(t.dir, 'cert9.db')));
  });

  it('rejects an --nss-db folder that does not exist', { skip }, async () => {
    const r = await ca(['install', '--nss-db', join(t.dir, 'typo')], pki);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--nss-db .*typo: no such folder\n$/);
  });
});
