// Chromium (Debian's, driven by playwright-core) through the capture fixture with its root
// trusted the real way (`tlsecho ca install`): its ClientHello carries GREASE in ciphers,
// extensions, groups, key shares and versions, all marked as GREASE and left out of JA4 and JA3;
// its extension order is shuffled per connection, so JA3 changes while JA4 does not.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ClientHello } from '../../src/tls/client-hello.js';
import { hex4, isGrease } from '../../src/tls/iana.js';
import { ja3 } from '../../src/tls/ja3.js';
import { ja4 } from '../../src/tls/ja4.js';
import { handshakeReport, type ClientHelloView } from '../../src/tls/report.js';
import { CHROMIUM, needTools } from '../browser/prereqs.js';
import { installRoot, launchChromium } from '../browser/support.js';
import { makePki, tempDir } from '../helpers/pki.js';
import { helloOf, startHelloServer, type HelloServer } from './fixture.js';

const skip = needTools(CHROMIUM, 'certutil');

describe('Chromium ClientHello', { skip }, () => {
  const t = tempDir('tlsecho-chromium-hello-');
  const home = join(t.dir, 'home');
  let server: HelloServer;
  before(async () => {
    const pki = await makePki(join(t.dir, 'certs'));
    mkdirSync(home);
    await installRoot(pki.out, home);
    server = await startHelloServer(pki);
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  it('GREASE marked and excluded from JA4/JA3; JA4 stable over 4 connections while JA3 changes', async () => {
    const browser = await launchChromium(home);
    try {
      // A fresh context per load: its own connection pool, so each load is a new handshake.
      for (let i = 0; i < 4; i++) {
        const context = await browser.newContext();
        const page = await context.newPage();
        const response = await page.goto(`https://localhost:${server.port}/`);
        assert.equal(response?.status(), 200);
        assert.equal((await page.innerText('body')).trim(), 'hello over 2.0');
        await context.close();
      }
    } finally {
      await browser.close();
    }
    const hellos: ClientHello[] = [];
    for (const seen of server.seen) {
      hellos.push(helloOf(seen));
    }
    assert.ok(hellos.length >= 4, `${hellos.length} connections`);
    for (const h of hellos) {
      assert.ok(isGrease(h.cipherSuites[0]!), 'the first cipher suite is GREASE');
      assert.ok(h.extensions.filter((e) => isGrease(e.type)).length >= 1, 'GREASE extensions');
      assert.ok(
        isGrease(h.supportedGroups![0]!) && isGrease(h.keyShares![0]!.group),
        'GREASE group and key share',
      );
      assert.ok(h.supportedVersions!.some(isGrease), 'a GREASE version');
      assert.ok(h.supportedGroups!.includes(0x11ec), 'X25519MLKEM768 offered');
      assert.ok(
        h.keyShares!.some((k) => k.group === 0x11ec && k.keyLength === 1216),
        'with an X25519MLKEM768 share',
      );
      assert.deepEqual(
        h.alpn?.map((p) => Buffer.from(p).toString()),
        ['h2', 'http/1.1'],
      );
      assert.equal(h.serverName, 'localhost');
      const view = handshakeReport({ parsed: h }, {}).client_hello as ClientHelloView;
      assert.deepEqual(view.cipher_suites[0], {
        code: hex4(h.cipherSuites[0]!),
        name: 'GREASE',
        grease: true,
      });
      const f = ja4(h);
      const rawCodes = f.ja4_ro
        .split('_')
        .slice(1)
        .join(',')
        .split(',')
        .map((c) => Number.parseInt(c, 16));
      assert.ok(!rawCodes.some(isGrease), `GREASE in ja4_ro: ${f.ja4_ro}`);
      const ja3Codes = ja3(h).ja3.split(',').slice(1, 4).join('-').split('-').filter(Boolean).map(Number);
      assert.ok(!ja3Codes.some(isGrease), `GREASE in JA3: ${ja3(h).ja3}`);
    }
    const ja4s = new Set(hellos.map((h) => ja4(h).ja4));
    assert.equal(ja4s.size, 1, [...ja4s].join(' '));
    assert.match([...ja4s][0]!, /^t13d\d{4}h2_/);
    // Chromium permutes its extensions (since 110): with 4 connections a repeat is 1 in 10^13.
    const ja3s = new Set(hellos.map((h) => ja3(h).ja3_hash));
    assert.ok(ja3s.size > 1, `JA3 did not change over ${hellos.length} connections: ${[...ja3s].join(' ')}`);
    const extensionSets = new Set(hellos.map((h) => ja4(h).ja4_r));
    assert.equal(extensionSets.size, 1, 'the same extensions, only their order differs');
  });
});
