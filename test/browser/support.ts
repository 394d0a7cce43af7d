// Shared by the browser tests: the real tlsecho server on loopback with everything it prints kept
// for assertions, a root installed with the real `tlsecho ca install`, and the artifacts folder.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { runCli, startCli, waitForLine } from '../helpers/cli.js';
import { CHROMIUM, FIREFOX } from './prereqs.js';

/** Screenshots land in <repo>/artifacts/browser/ (git-ignored), kept after the run. */
export const ARTIFACTS = fileURLToPath(new URL('../../../artifacts/browser/', import.meta.url));

export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return `${ARTIFACTS}${name}`;
}

/**
 * Debian's Chromium through playwright-core, the one way every browser test starts it: HOME at
 * `home` (on Linux Chromium reads its trust anchors from $HOME/.pki/nssdb), nothing that calls
 * out (sync, component updates, background requests), and `mapToLoopback` names (`*.` patterns
 * too) resolved to 127.0.0.1 by the browser itself.
 */
export function launchChromium(home: string, mapToLoopback: readonly string[] = []): Promise<Browser> {
  const rules = mapToLoopback.map((n) => `MAP ${n} 127.0.0.1`).join(', ');
  return chromium.launch({
    executablePath: CHROMIUM,
    env: { ...process.env, HOME: home },
    timeout: 60_000,
    args: [
      '--no-sandbox', // the tests may run as root, where Chromium's sandbox refuses to start
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      ...(rules ? [`--host-resolver-rules=${rules}`] : []),
    ],
  });
}

export interface RunningServer {
  httpsPort: number;
  httpPort: number;
  /** Every line the server printed so far (JSON logs). */
  lines: string[];
  /** Resolves with the first printed line (and its index) passing `test`, polling every 100 ms up to `timeoutMs`. */
  waitFor(test: (line: string, index: number) => boolean, timeoutMs?: number): Promise<string>;
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** `tlsecho server` on 127.0.0.1 with ports chosen by the system, serving the leaf in `certsPath`. */
export async function startServer(certsPath: string, extra: string[] = []): Promise<RunningServer> {
  const child = startCli([
    'server',
    '--certs-path',
    certsPath,
    '--host',
    '127.0.0.1',
    '--https-port',
    '0',
    '--http-port',
    '0',
    '--log-format',
    'json',
    ...extra,
  ]);
  const lines: string[] = [];
  let partial = '';
  const collect = (d: Buffer) => {
    const parts = (partial + d.toString()).split('\n');
    partial = parts.pop()!;
    lines.push(...parts.filter(Boolean));
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  let ready: string;
  try {
    ready = await waitForLine(child, /"msg":"ready"/);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const fields = JSON.parse(ready) as { https_port: number; http_port: number };
  assert.ok(fields.https_port > 0 && fields.http_port > 0, `ready line without ports: ${ready}`);
  return {
    httpsPort: fields.https_port,
    httpPort: fields.http_port,
    lines,
    async waitFor(test, timeoutMs = 20_000) {
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline;) {
        const hit = lines.find(test);
        if (hit !== undefined) return hit;
        await new Promise((r) => setTimeout(r, 100));
      }
      throw new Error(
        `the server printed no matching line in ${timeoutMs} ms; it printed:\n${lines.join('\n')}`,
      );
    },
    async metrics() {
      const res = await fetch(`http://127.0.0.1:${fields.http_port}/metrics`);
      assert.equal(res.status, 200);
      return res.text();
    },
    stop: () => stopProcess(child),
  };
}

/** SIGTERM, then SIGKILL after 5 s; resolves when the process is gone. */
export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

/** Runs the real `tlsecho ca install` for the root in `certsPath`, with HOME and extra flags. */
export async function installRoot(certsPath: string, home: string, extra: string[] = []): Promise<string> {
  // NSS only: a test must not change the machine's system or Java store.
  const r = await runCli(['ca', 'install', '--out', certsPath, '--stores', 'nss', ...extra], {
    env: { HOME: home },
  });
  assert.equal(r.code, 0, `tlsecho ca install failed: ${r.stderr}`);
  return r.stdout;
}

export const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A new profile: names mapped to loopback, and no first-run pages, telemetry or updates. */
export function makeProfile(dir: string, localNames: readonly string[]): string {
  mkdirSync(dir, { recursive: true });
  const prefs: Record<string, string | number | boolean> = {
    'network.dns.localDomains': localNames.join(','),
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
