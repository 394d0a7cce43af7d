// Real Chromium (Debian's, driven by playwright-core) against the real tlsecho server. With the
// root put into a fresh ~/.pki/nssdb by `tlsecho ca install`, the echo page loads over verified
// TLS under localhost and server2.<domain> and shows the SNI the browser sent; without it the
// navigation fails with ERR_CERT_AUTHORITY_INVALID. Screenshots go to artifacts/browser/.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { CHROMIUM, needTools } from './prereqs.js';
import {
  artifact,
  escapeRegExp,
  installRoot,
  launchChromium,
  startServer,
  type RunningServer,
} from './support.js';

const skip = needTools(CHROMIUM, 'certutil');
const SERVER2 = `server2.${TEST_DOMAIN}`;
const SERVER3 = `server3.${TEST_DOMAIN}`;

/** Chromium with the root of `home`'s NSS database, and server2/3 on loopback. */
const launch = (home: string) => launchChromium(home, [SERVER2, SERVER3]);

describe('Chromium with the root installed by tlsecho ca install', { skip }, () => {
  const t = tempDir('tlsecho-chromium-');
  const trustedHome = join(t.dir, 'home-trusted');
  const bareHome = join(t.dir, 'home-bare');
  let pki: TestPki;
  let server: RunningServer | undefined;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    mkdirSync(trustedHome);
    mkdirSync(bareHome);
    await installRoot(pki.out, trustedHome);
    server = await startServer(pki.out);
  });
  after(async () => {
    await server?.stop();
    t.cleanup();
  });

  for (const host of ['localhost', SERVER2]) {
    it(`loads https://${host}:<port>/ with no certificate error and shows SNI ${host}`, async () => {
      const browser = await launch(trustedHome);
      try {
        for (const colorScheme of ['light', 'dark'] as const) {
          const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 900 } });
          const page = await context.newPage();
          const response = await page.goto(`https://${host}:${server!.httpsPort}/`);
          assert.ok(response, 'no response');
          assert.equal(response.status(), 200);
          assert.match((await response.headerValue('content-type')) ?? '', /^text\/html/);
          // What Chromium itself verified: the leaf, issued by our root, over TLS 1.3.
          const security = await response.securityDetails();
          assert.equal(security?.issuer, /CN=([^,\n]+)/.exec(pki.root.subject)?.[1]);
          assert.equal(security?.protocol, 'TLS 1.3');
          const text = await page.innerText('body');
          assert.ok(
            text.includes(`Client connection from 127.0.0.1 to server ${host}`),
            `page text:\n${text}`,
          );
          assert.match(text, new RegExp(`\\(SNI\\)\\s+${escapeRegExp(host)}\\s`), `page text:\n${text}`);
          assert.ok(text.includes(pki.root.fingerprint.colon), 'the page does not show the root fingerprint');
          // Chromium speaks HTTP/2 to it, and the page says so.
          assert.match(text, /ALPN\s+h2\s/, `page text:\n${text}`);
          assert.match(text, /HTTP version\s+HTTP\/2\s/, `page text:\n${text}`);
          await page.screenshot({ path: artifact(`chromium-${host}-${colorScheme}.png`), fullPage: true });
          await context.close();
        }
      } finally {
        await browser.close();
      }
    });
  }

  it('the page links to its JSON form, which reports the same SNI', async () => {
    const browser = await launch(trustedHome);
    try {
      const page = await browser.newPage();
      await page.goto(`https://${SERVER2}:${server!.httpsPort}/`);
      const link = page.getByRole('link', { name: /json/i }).first();
      const [response] = await Promise.all([page.waitForNavigation(), link.click()]);
      assert.equal(response?.status(), 200);
      const body = JSON.parse(await response!.text()) as Record<string, unknown>;
      assert.equal(body.server_name, SERVER2, JSON.stringify(body));
      assert.equal(body.root_ca_fingerprint_sha256, pki.root.fingerprint.colon);
      assert.equal(body.alpn, 'h2');
      assert.equal((body.request as { http_version: string }).http_version, '2');
    } finally {
      await browser.close();
    }
  });

  it('reuses one HTTP/2 connection for another name of the certificate, and the page explains it', async () => {
    const browser = await launch(trustedHome);
    try {
      const page = await browser.newPage();
      await page.goto(`https://${SERVER2}:${server!.httpsPort}/`);
      // Same address, a name the certificate covers: Chromium coalesces onto the open connection.
      const response = await page.goto(`https://${SERVER3}:${server!.httpsPort}/`);
      assert.equal(response?.status(), 200);
      const text = await page.innerText('body');
      assert.ok(
        text.includes(`Client connection from 127.0.0.1 to server ${SERVER2}`),
        `page text:\n${text}`,
      );
      assert.match(text, /connection coalescing/, `page text:\n${text}`);
      await page.screenshot({ path: artifact('chromium-coalescing.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  });

  it('without the root, navigation fails with net::ERR_CERT_AUTHORITY_INVALID', async () => {
    const browser = await launch(bareHome);
    try {
      const page = await browser.newPage();
      for (const host of ['localhost', SERVER2]) {
        await assert.rejects(
          page.goto(`https://${host}:${server!.httpsPort}/`),
          /net::ERR_CERT_AUTHORITY_INVALID/,
        );
      }
      // The error page is still being committed right after the rejection; a screenshot then fails.
      await page.waitForLoadState('load');
      await page.screenshot({ path: artifact('chromium-untrusted.png') });
    } finally {
      await browser.close();
    }
  });
});
