// Debian's firefox-esr for the tests, headless: a fresh profile that stays off the network, and
// one `--screenshot` run in its own process group.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TEST_DOMAIN } from '../helpers/pki.js';
import { FIREFOX } from './prereqs.js';

const SERVER2 = `server2.${TEST_DOMAIN}`;

/** A new profile: names mapped to loopback, and no first-run pages, telemetry or updates. */
export function makeProfile(dir: string, localDomains = SERVER2): string {
  mkdirSync(dir, { recursive: true });
  const prefs: Record<string, string | number | boolean> = {
    'network.dns.localDomains': localDomains,
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

export interface FirefoxRun {
  /** Resolves with the exit code once Firefox (and its content processes) are gone. */
  exited: Promise<number | null>;
  kill(): void;
}

/**
 * `firefox-esr --headless --screenshot` in its own process group, so that killing it also ends the
 * content processes it started. Killed after `timeoutMs` in any case.
 */
export function firefoxScreenshot(
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
