// Firefox (Debian's firefox-esr, headless) through the capture fixture, the root given to each
// fresh profile by `tlsecho ca install --nss-db`: its ClientHello parses, offers h2 and
// http/1.1 with SNI, and its JA4 is the same from one run (one new profile, one connection) to
// the next.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClientHello } from '../../src/tls/client-hello.js';
import { ja4 } from '../../src/tls/ja4.js';
import { FIREFOX, needTools } from '../browser/prereqs.js';
import { firefoxScreenshot, installRoot, makeProfile } from '../browser/support.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { helloOf, startHelloServer, type HelloServer } from './fixture.js';

const skip = needTools(FIREFOX, 'certutil');

describe('Firefox ClientHello', { skip }, () => {
  const t = tempDir('tlsecho-firefox-hello-');
  let pki: TestPki;
  let server: HelloServer;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
    mkdirSync(join(t.dir, 'home'));
    server = await startHelloServer(pki);
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  it('two runs, each a new profile: parsed, h2 and http/1.1 offered with SNI, the same JA4', async () => {
    const hellos: ClientHello[] = [];
    for (const run of [1, 2]) {
      const profile = makeProfile(join(t.dir, `profile-${run}`), [`server2.${TEST_DOMAIN}`]);
      await installRoot(pki.out, join(t.dir, 'home'), ['--nss-db', profile]);
      const first = server.seen.length;
      const firefox = firefoxScreenshot(
        profile,
        join(t.dir, 'home'),
        `https://localhost:${server.port}/`,
        join(t.dir, `${run}.png`),
      );
      assert.equal(await firefox.exited, 0);
      const seen = await server.connection(first);
      const settled = await seen.settled;
      assert.equal(settled.negotiated?.alpn, 'h2', JSON.stringify(settled));
      hellos.push(helloOf(seen));
    }
    for (const h of hellos) {
      assert.equal(h.serverName, 'localhost');
      assert.deepEqual(
        h.alpn?.map((p) => Buffer.from(p).toString()),
        ['h2', 'http/1.1'],
      );
      assert.ok(h.supportedVersions?.includes(0x0304), 'TLS 1.3 offered');
      assert.ok((h.keyShares ?? []).length >= 1, 'a key share sent');
    }
    const prints = hellos.map((h) => ja4(h).ja4);
    assert.equal(prints[0], prints[1]);
    assert.match(prints[0]!, /^t13d\d{4}h2_[0-9a-f]{12}_[0-9a-f]{12}$/);
  });
});
