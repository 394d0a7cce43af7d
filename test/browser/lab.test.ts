// Real Chromium (and Firefox on expired and untrusted) on the failure lab: each broken name fails with the
// net::ERR_CERT_* error a browser must show, good and tls12 load. The root is installed in a fresh
// NSS database by `tlsecho ca install`, so only the lab's faults are left to see.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { issueLab } from '../../src/ca/lab.js';
import type { RunningServer } from '../../src/server/index.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { startWithPki } from '../helpers/server.js';
import { CHROMIUM, FIREFOX, needTools } from './prereqs.js';
import {
  firefoxScreenshot,
  installRoot,
  launchChromium,
  makeProfile,
  startServer as startCliServer,
} from './support.js';

const name = (kind: string) => `${kind}.${TEST_DOMAIN}`;

/** What Chromium must answer for each name: an error, or the echo naming the SNI. */
const CHROMIUM_EXPECTS: Record<string, RegExp> = {
  good: /^ok$/,
  tls12: /^ok$/,
  expired: /net::ERR_CERT_DATE_INVALID/,
  'not-yet-valid': /net::ERR_CERT_DATE_INVALID/,
  'wrong-name': /net::ERR_CERT_COMMON_NAME_INVALID/,
  untrusted: /net::ERR_CERT_AUTHORITY_INVALID/,
  'self-signed': /net::ERR_CERT_AUTHORITY_INVALID/,
  'incomplete-chain': /net::ERR_CERT_AUTHORITY_INVALID/,
  // client-cert is judged over several loads below (CLIENT_CERT_*): the error varies by timing.
};

/**
 * Chromium with no client certificate to offer, on client-cert: measured (docs/lab.md) about
 * 4 loads in 5 as the client-certificate error, the others as a closed socket, the same with a
 * bare node:tls server requiring certificates; the alert arrives, and then the FIN races it.
 */
const CLIENT_CERT_LOADS = 6;
const CLIENT_CERT_ERROR = /^page\.goto: net::ERR_BAD_SSL_CLIENT_AUTH_CERT /;
const CLIENT_CERT_RACED = /^page\.goto: net::ERR_(SOCKET_NOT_CONNECTED|CONNECTION_CLOSED|CONNECTION_RESET) /;

async function visit(browser: Browser, url: string, sni: string): Promise<string> {
  const context = await browser.newContext();
  const page = await context.newPage();
  try {
    await page.goto(url, { timeout: 15_000 });
    const text = await page.locator('body').innerText();
    return text.includes(sni) ? 'ok' : `loaded, but without ${sni}: ${text.slice(0, 200)}`;
  } catch (err) {
    return String((err as Error).message).split('\n')[0]!;
  } finally {
    await context.close();
  }
}

describe('browsers on the failure lab', () => {
  const t = tempDir('tlsecho-lab-browser-');
  const home = join(t.dir, 'home');
  let pki: TestPki;
  let server: RunningServer;
  const url = (kind: string) =>
    `https://${name(kind)}:${kind === 'tls12' ? server.labTls12Port : server.httpsPort}/`;
  before(async () => {
    // Two-tier, so the lab has incomplete-chain (under the CA's intermediate).
    pki = await makePki(join(t.dir, 'certs'), { intermediate: true });
    const lab = await issueLab({ out: pki.out, domain: TEST_DOMAIN });
    mkdirSync(home);
    server = await startWithPki(pki, { lab: lab.dir, labTls12Port: 0 });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  it(
    'Chromium shows the expected error for each broken name and loads good and tls12',
    { skip: needTools(CHROMIUM, 'certutil') },
    async () => {
      await installRoot(pki.out, home);
      const browser = await launchChromium(home, [`*.${TEST_DOMAIN}`]);
      try {
        const seen: Record<string, string> = {};
        for (const kind of Object.keys(CHROMIUM_EXPECTS))
          seen[kind] = await visit(browser, url(kind), name(kind));
        for (const [kind, want] of Object.entries(CHROMIUM_EXPECTS))
          assert.match(seen[kind]!, want, `${kind}: ${seen[kind]}`);
        const clientCert: string[] = [];
        for (let i = 0; i < CLIENT_CERT_LOADS; i++)
          clientCert.push(await visit(browser, url('client-cert'), name('client-cert')));
        for (const r of clientCert)
          assert.ok(CLIENT_CERT_ERROR.test(r) || CLIENT_CERT_RACED.test(r), `client-cert: ${r}`);
        assert.ok(
          clientCert.some((r) => CLIENT_CERT_ERROR.test(r)),
          clientCert.join('\n'),
        );
      } finally {
        await browser.close();
      }
    },
  );
});

describe('Firefox on the failure lab', { skip: needTools(FIREFOX, 'certutil') }, () => {
  const t = tempDir('tlsecho-lab-firefox-');
  const home = join(t.dir, 'home');
  let server: Awaited<ReturnType<typeof startCliServer>> | undefined;
  let profile: string;
  before(async () => {
    const pki = await makePki(join(t.dir, 'certs'));
    const lab = await issueLab({ out: pki.out, domain: TEST_DOMAIN });
    mkdirSync(home);
    profile = makeProfile(join(t.dir, 'profile'), [name('expired'), name('untrusted')]);
    await installRoot(pki.out, home, ['--nss-db', profile]);
    server = await startCliServer(pki.out, [
      '--domain',
      TEST_DOMAIN,
      '--lab',
      lab.dir,
      '--lab-tls12-port',
      '0',
    ]);
  });
  after(async () => {
    await server?.stop();
    t.cleanup();
  });

  // Firefox stays on its error page (no screenshot is written), so what it did is read from the
  // server: the alert it sent when it refused the certificate, and no request.
  for (const [kind, alert] of [
    ['expired', 'ERR_SSL_SSLV3_ALERT_CERTIFICATE_EXPIRED'],
    ['untrusted', 'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA'],
  ] as const)
    it(`refuses ${kind} with the ${alert} alert and sends no request`, async () => {
      const seen = server!.lines.length;
      const run = firefoxScreenshot(
        profile,
        home,
        `https://${name(kind)}:${server!.httpsPort}/`,
        join(t.dir, `${kind}.png`),
      );
      try {
        // An alert, not a reset: the Firefox of the previous case, killed, may reset a connection.
        const failure = await server!.waitFor(
          (l, i) => i >= seen && /"msg":"TLS handshake failed"/.test(l) && /"error":"ERR_SSL_/.test(l),
          30_000,
        );
        assert.equal((JSON.parse(failure) as { error: string }).error, alert, failure);
        assert.deepEqual(
          server!.lines.slice(seen).filter((l) => /"msg":"Received/.test(l)),
          [],
        );
      } finally {
        run.kill();
        await run.exited;
      }
    });
});
