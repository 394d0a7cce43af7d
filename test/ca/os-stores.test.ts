// tlsecho ca install/uninstall --stores system,java against this machine's real stores: after
// install, curl without --cacert, OpenSSL's default store and a Java HTTPS client trust the real
// tlsecho server; after uninstall they do not. The stores' files are saved first and put back
// byte for byte afterwards, whatever happened.
import assert from 'node:assert/strict';
import { skipUnless } from '../helpers/requirements.js';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { javaCacerts, keytool, systemFlavor } from '../../src/ca/os-stores.js';
import type { RunningServer } from '../../src/server/index.js';
import { CLI, runCli, runProcess } from '../helpers/cli.js';
import { makePki, tempDir, type TestPki } from '../helpers/pki.js';
import { startWithPki } from '../helpers/server.js';

const flavor = systemFlavor();
const tool = keytool();
const debian = flavor?.update[0] === 'update-ca-certificates';
const skipSystem =
  process.getuid?.() !== 0
    ? 'changing the system store needs root'
    : !debian
      ? 'no Debian/Ubuntu update-ca-certificates here'
      : false;
// The Java client runs as a single source file, which needs the JDK's compiler module.
const hasJavac = spawnSync('javac', ['-version'], { stdio: 'ignore' }).status === 0;
const skipJava =
  skipSystem ||
  skipUnless(
    'TOOLS',
    tool && hasJavac ? undefined : 'no keytool and javac (apt-get install default-jdk-headless)',
  );
const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
const skipNodeSystemCa =
  major > 23 || (major === 23 && minor >= 8) || (major === 22 && minor >= 15)
    ? false
    : `Node ${process.versions.node} has no --use-system-ca (22.15+ or 23.8+)`;

const JAVA_CLIENT = `
public class Client {
  public static void main(String[] args) throws Exception {
    var client = java.net.http.HttpClient.newHttpClient();
    var request = java.net.http.HttpRequest.newBuilder(java.net.URI.create(args[0])).build();
    var response = client.send(request, java.net.http.HttpResponse.BodyHandlers.ofString());
    System.out.println(response.statusCode() + " " + response.body());
  }
}
`;

describe('tlsecho ca install --stores system,java', { skip: skipSystem }, () => {
  const t = tempDir();
  const saved = join(t.dir, 'saved');
  let pki: TestPki;
  let server: RunningServer;
  let url: string;
  const files = flavor ? [flavor.bundle, ...(tool ? [javaCacerts(tool)] : [])] : [];
  const anchorsBefore = flavor ? readdirSync(flavor.dir).sort() : [];
  before(async () => {
    for (const [i, f] of files.entries()) copyFileSync(f, `${saved}-${i}`);
    pki = await makePki(join(t.dir, 'certs'));
    server = await startWithPki(pki);
    url = `https://localhost:${server.httpsPort}/`;
    writeFileSync(join(t.dir, 'Client.java'), JAVA_CLIENT);
  });
  after(async () => {
    await server?.close();
    // Put every store back as it was: our anchor out, the bundle regenerated, the files restored.
    for (const f of flavor ? readdirSync(flavor.dir) : [])
      if (!anchorsBefore.includes(f)) rmSync(join(flavor!.dir, f), { force: true });
    if (flavor) spawnSync(flavor.update[0]!, flavor.update.slice(1), { stdio: 'ignore', timeout: 120_000 });
    // Copied beside the store and renamed over it, as update-ca-certificates replaces its bundle:
    // Node reads the bundle at the start of every process (NODE_EXTRA_CA_CERTS names it on this
    // machine), and a bundle caught half-copied makes a concurrent test's Node print a warning.
    for (const [i, f] of files.entries()) {
      if (!existsSync(`${saved}-${i}`)) continue;
      copyFileSync(`${saved}-${i}`, `${f}.tlsecho-restore`);
      renameSync(`${f}.tlsecho-restore`, f);
    }
    t.cleanup();
  });

  const curl = () => runProcess('curl', ['-sS', '-o', '/dev/null', '-w', '%{http_code}', url]);
  const java = () => runProcess('java', [join(t.dir, 'Client.java'), url], { timeoutMs: 60_000 });
  const systemOpenssl = () =>
    spawnSync('openssl', ['verify', '-purpose', 'sslserver', pki.server!.cert], { encoding: 'utf8' });

  it('before install, curl without --cacert does not trust the echo', async () => {
    const r = await curl();
    assert.equal(r.code, 60, r.stderr); // CURLE_PEER_FAILED_VERIFICATION
  });

  it('install adds the root to the system store: curl and OpenSSL trust it', async () => {
    const r = await runCli(['ca', 'install', '--out', pki.out, '--stores', 'system']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /added to system store \/usr\/local\/share\/ca-certificates\/tlsecho-[0-9a-f]{16}\.crt/,
    );
    assert.doesNotMatch(r.stdout, /NSS database/);
    const c = await curl();
    assert.equal(c.code, 0, c.stderr);
    assert.equal(c.stdout, '200');
    assert.equal(systemOpenssl().status, 0);
    const again = await runCli(['ca', 'install', '--out', pki.out, '--stores', 'system']);
    assert.match(again.stdout, /already in system store/);
  });

  it('node --use-system-ca trusts it too', { skip: skipNodeSystemCa }, async () => {
    const r = await runProcess(process.execPath, [
      '--use-system-ca',
      '-e',
      `fetch(${JSON.stringify(url)}).then((r) => console.log(r.status), (e) => { console.error(e.cause ?? e); process.exit(1); })`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), '200');
  });

  it(
    'install --stores java: a Java HTTPS client trusts the echo; uninstall: it does not',
    { skip: skipJava },
    async () => {
      // Debian's hook may already have copied the system anchor into cacerts; remove that path first.
      const u = await runCli(['ca', 'uninstall', '--out', pki.out, '--stores', 'system']);
      assert.equal(u.code, 0, u.stderr);
      const bare = await java();
      assert.notEqual(bare.code, 0, `Java trusted the echo with the root in no store: ${bare.stdout}`);
      assert.match(bare.stderr, /PKIX path building failed/);
      const r = await runCli(['ca', 'install', '--out', pki.out, '--stores', 'java']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /added to Java cacerts .*cacerts/);
      const ok = await java();
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^200 /);
      const un = await runCli(['ca', 'uninstall', '--out', pki.out, '--stores', 'java']);
      assert.match(un.stdout, /removed from Java cacerts/);
      const gone = await java();
      assert.notEqual(gone.code, 0);
    },
  );

  it('uninstall removes it again: curl and OpenSSL no longer trust the echo', async () => {
    assert.equal((await runCli(['ca', 'install', '--out', pki.out, '--stores', 'system'])).code, 0);
    const r = await runCli(['ca', 'uninstall', '--out', pki.out, '--stores', 'system,java']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /removed from system store/);
    const c = await curl();
    assert.equal(c.code, 60, c.stderr);
    assert.notEqual(systemOpenssl().status, 0);
    assert.deepEqual(readdirSync(flavor!.dir).sort(), anchorsBefore);
    assert.equal(
      readFileSync(flavor!.bundle, 'utf8'),
      readFileSync(`${saved}-0`, 'utf8'),
      'bundle as before',
    );
    if (tool) {
      const list = spawnSync(tool, ['-list', '-cacerts', '-storepass', 'changeit'], {
        encoding: 'utf8',
      }).stdout;
      assert.ok(!list.includes(pki.root.fingerprint.colon), 'no copy left in Java cacerts');
    }
  });

  it('a user who is not root gets one line naming what is missing, and no store changes', async () => {
    const shared = join('/tmp', `tlsecho-nonroot-${process.pid}`);
    mkdirSync(shared, { recursive: true });
    try {
      copyFileSync(pki.root.cert, join(shared, 'minica.pem'));
      chmodSync(shared, 0o755);
      chmodSync(join(shared, 'minica.pem'), 0o644);
      for (const store of ['system', ...(tool ? ['java'] : [])]) {
        const r = await runProcess('setpriv', [
          '--reuid=nobody',
          '--regid=nogroup',
          '--clear-groups',
          process.execPath,
          CLI,
          'ca',
          'install',
          '--out',
          shared,
          '--stores',
          store,
        ]);
        assert.equal(r.code, 1, r.stdout + r.stderr);
        assert.match(
          r.stderr,
          new RegExp(`cannot install the root in the ${store} store: needs .*; nothing was changed`),
        );
        assert.equal(
          r.stderr
            .trim()
            .split('\n')
            .filter((l) => !l.startsWith('warning:')).length,
          1,
        );
      }
      assert.deepEqual(readdirSync(flavor!.dir).sort(), anchorsBefore);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it('rejects an unknown store', async () => {
    const r = await runCli(['ca', 'install', '--out', pki.out, '--stores', 'system,keychain']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /unknown store 'keychain' in --stores \(stores: system, nss, java\)/);
  });
});
