// Real Chromium against the real tlsecho server with a two-tier, name-constrained PKI from
// `tlsecho ca --intermediate --name-constraints`: the served chain (leaf + intermediate) loads
// with the root installed by `tlsecho ca install`, and a leaf outside the constraints (issued by
// a test helper that skips the CA's own refusal) is refused even though the root is trusted.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { issueUncheckedLeaf, makePki, tempDir, type TestPki } from '../helpers/pki.js';
import { CHROMIUM, needTools } from './prereqs.js';
import { installRoot, launchChromium, startServer, type RunningServer } from './support.js';

const skip = needTools(CHROMIUM, 'certutil');
const OUTSIDE = 'bank.example';

const launch = (home: string) => launchChromium(home, [OUTSIDE]);

describe('Chromium with a two-tier, name-constrained PKI', { skip }, () => {
  const t = tempDir('tlsecho-chromium-pki-');
  const home = join(t.dir, 'home');
  let pki: TestPki;
  let inside: RunningServer | undefined;
  let outside: RunningServer | undefined;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'), {
      intermediate: true,
      nameConstraints: ['tlsecho.test', 'localhost', '127.0.0.0/8', '::1/128'],
    });
    mkdirSync(home);
    await installRoot(pki.out, home);
    inside = await startServer(pki.out);
    const bad = await issueUncheckedLeaf(pki.out, [OUTSIDE]);
    writeFileSync(join(t.dir, 'outside.pem'), bad.certPem);
    writeFileSync(join(t.dir, 'outside-key.pem'), bad.keyPem, { mode: 0o600 });
    outside = await startServer(pki.out, [
      '--cert-file',
      join(t.dir, 'outside.pem'),
      '--key-file',
      join(t.dir, 'outside-key.pem'),
    ]);
  });
  after(async () => {
    await inside?.stop();
    await outside?.stop();
    t.cleanup();
  });

  it('loads a name inside the constraints through the intermediate the server sends', async () => {
    const browser = await launch(home);
    try {
      const page = await browser.newPage();
      const response = await page.goto(`https://localhost:${inside!.httpsPort}/`);
      assert.equal(response?.status(), 200);
      assert.match(await page.content(), /localhost/);
    } finally {
      await browser.close();
    }
  });

  it('refuses a name outside them although the root is trusted', async () => {
    const browser = await launch(home);
    try {
      const page = await browser.newPage();
      await assert.rejects(page.goto(`https://${OUTSIDE}:${outside!.httpsPort}/`), /net::ERR_CERT_INVALID/);
    } finally {
      await browser.close();
    }
  });
});
