// Real Firefox (Debian's firefox-esr, headless) against the real tlsecho server. A fresh profile
// given the root by `tlsecho ca install --nss-db <profile>` loads the echo page (screenshot kept in
// artifacts/browser/) and the server sees Firefox's GET / with the right SNI; a profile without
// the root aborts the handshake with an unknown-CA alert and never sends a request.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { FIREFOX, needTools } from './prereqs.js';
import { artifact, installRoot, startServer, type RunningServer } from './support.js';

const skip = needTools(FIREFOX, 'certutil');
const SERVER2 = `server2.${TEST_DOMAIN}`;
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** A new profile: names mapped to loopback, and no first-run pages, telemetry or updates. */
function makeProfile(dir: string): string {
  mkdirSync(dir, { recursive: true });
  const prefs: Record<string, string | number | boolean> = {
    'network.dns.localDomains': SERVER2,
    'browser.shell.checkDefaultBrowser': false,
    'browser.aboutwelcome.enabled': false,
    'browser.startup.homepage_override.mstone': 'ignore',
    'browser.startup.page': 0,
    'datareporting.policy.dataSubmissionEnabled': false,
    'datareporting.healthreport.uploadEnabled': false,
    'toolkit.telemetry.enabled': false,
    'toolkit.telemetry.unified': false,
    'app.update.auto': false,
    'app.update.enabled': false,
    'app.normandy.enabled': false,
    'extensions.update.enabled': false,
    'browser.safebrowsing.malware.enabled': false,
    'browser.safebrowsing.phishing.enabled': false,
    'network.captive-portal-service.enabled': false,
    'network.connectivity-service.enabled': false,
    'network.dns.disablePrefetch': true,
    'network.prefetch-next': false,
  };
  const userJs = Object.entries(prefs).map(
    ([k, v]) => `user_pref(${JSON.stringify(k)}, ${JSON.stringify(v)});`,
  );
  writeFileSync(join(dir, 'user.js'), `${userJs.join('\n')}\n`);
  return dir;
}

interface FirefoxRun {
  /** Resolves with the exit code once Firefox (and its content processes) are gone. */
  exited: Promise<number | null>;
  kill(): void;
}

/**
 * `firefox-esr --headless --screenshot` in its own process group, so that killing it also ends the
 * content processes it started. Killed after `timeoutMs` in any case.
 */
function firefoxScreenshot(
  profile: string,
  home: string,
  url: string,
  png: string,
  timeoutMs = 60_000,
): FirefoxRun {
  const child = spawn(
    FIREFOX,
    ['--headless', '--no-remote', '--profile', profile, '--window-size=1280,900', '--screenshot', png, url],
    { env: { ...process.env, HOME: home, MOZ_CRASHREPORTER_DISABLE: '1' }, stdio: 'ignore', detached: true },
  );
  const kill = () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(kill, timeoutMs);
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      kill(); // stray content processes of the group
      resolve(code);
    });
  });
  return { exited, kill };
}

describe('Firefox with the root installed by tlsecho ca install --nss-db', { skip }, () => {
  const t = tempDir('tlsecho-firefox-');
  const home = join(t.dir, 'home');
  let pki: TestPki;
  let server: RunningServer | undefined;
  let trusted: string;
  let bare: string;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    mkdirSync(home);
    trusted = makeProfile(join(t.dir, 'profile-trusted'));
    bare = makeProfile(join(t.dir, 'profile-bare'));
    const out = await installRoot(pki.out, home, ['--nss-db', trusted]);
    assert.match(out, /added to NSS database/);
    server = await startServer(pki.out);
  });
  after(async () => {
    await server?.stop();
    t.cleanup();
  });

  for (const host of ['localhost', SERVER2]) {
    it(`loads https://${host}:<port>/ and the server sees Firefox's GET / with SNI ${host}`, async () => {
      const png = artifact(`firefox-${host}.png`);
      rmSync(png, { force: true });
      const seen = server!.lines.length;
      const run = firefoxScreenshot(trusted, home, `https://${host}:${server!.httpsPort}/`, png);
      assert.equal(await run.exited, 0);
      assert.deepEqual(readFileSync(png).subarray(0, 8), PNG_MAGIC, 'no screenshot');
      const request = await server!.waitFor((l, i) => i >= seen && isRequest(l), 5_000);
      const entry = JSON.parse(request) as Record<string, unknown>;
      assert.equal(entry.sni, host, request);
      assert.equal(entry.status, 200, request);
      assert.deepEqual(
        server!.lines.slice(seen).filter((l) => l.includes('TLS handshake failed')),
        [],
      );
    });
  }

  it('without the root, Firefox aborts the handshake (unknown CA) and sends no request', async () => {
    const seen = server!.lines.length;
    // Firefox stays on its error page and never writes the screenshot, so stop it once the
    // server has recorded the failed handshake.
    const run = firefoxScreenshot(
      bare,
      home,
      `https://${SERVER2}:${server!.httpsPort}/`,
      artifact('firefox-untrusted.png'),
    );
    try {
      const failure = await server!.waitFor(
        (l, i) => i >= seen && /"msg":"TLS handshake failed"/.test(l),
        30_000,
      );
      const entry = JSON.parse(failure) as Record<string, unknown>;
      assert.equal(entry.error, 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', failure);
      assert.equal(entry.reason, 'server_cert_rejected', failure);
    } finally {
      run.kill();
      await run.exited;
    }
    assert.deepEqual(server!.lines.slice(seen).filter(isRequest), []);
    assert.match(
      await server!.metrics(),
      /^tlsecho_tls_handshake_failures_total\{reason="server_cert_rejected"\} [1-9]/m,
    );
  });
});

/** The server's access-log line for a GET of the echo page. */
function isRequest(line: string): boolean {
  return /"msg":"Received GET \/"/.test(line);
}
