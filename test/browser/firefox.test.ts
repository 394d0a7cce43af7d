// Real Firefox (Debian's firefox-esr, headless) against the real tlsecho server. A fresh profile
// given the root by `tlsecho ca install --nss-db <profile>` loads the echo page (screenshot kept in
// artifacts/browser/) and the server sees Firefox's GET / with the right SNI; a profile without
// the root aborts the handshake with an unknown-CA alert and never sends a request.
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { FIREFOX, needTools } from './prereqs.js';
import {
  artifact,
  firefoxScreenshot,
  installRoot,
  makeProfile,
  startServer,
  type RunningServer,
} from './support.js';

const skip = needTools(FIREFOX, 'certutil');
const SERVER2 = `server2.${TEST_DOMAIN}`;
const PNG_MAGIC = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

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
    trusted = makeProfile(join(t.dir, 'profile-trusted'), [SERVER2]);
    bare = makeProfile(join(t.dir, 'profile-bare'), [SERVER2]);
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
