// Limits against abuse: the connection cap holds and frees up again, and neither good nor bad
// connections (garbage, plain HTTP, a truncated ClientHello) leave file descriptors behind.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { pino } from 'pino';
import type { RunningServer } from '../../src/server/index.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { startWithPki } from '../helpers/server.js';
import { httpGet, httpsGet, metricValue, rawExchange } from './requests.js';

const NAME = `server1.${TEST_DOMAIN}`;
/** A TLS handshake record header announcing 512 bytes, followed by only 3 of them. */
const TRUNCATED_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01]);

function openTls(port: number, ca: string): Promise<{ socket: tls.TLSSocket; ok: boolean }> {
  return new Promise((resolve) => {
    const socket = tls.connect({ host: '127.0.0.1', port, servername: NAME, ca });
    const timer = setTimeout(() => resolve({ socket, ok: false }), 3000);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      resolve({ socket, ok: true });
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve({ socket, ok: false });
    });
  });
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('server limits', () => {
  const t = tempDir();
  let pki: TestPki;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
  });
  after(t.cleanup);

  it('refuses connections over --max-connections, logs and counts them, and accepts again once one closes', async () => {
    let log = '';
    const logger = pino({ level: 'info', base: null }, { write: (line: string) => void (log += line) });
    const server: RunningServer = await startWithPki(pki, { maxConnections: 2, logger });
    const rejected = async () =>
      metricValue((await httpGet(server.httpPort, '/metrics')).body, 'tlsecho_connections_rejected_total', {
        reason: 'cap',
      });
    const before = await rejected();
    const held: tls.TLSSocket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const c = await openTls(server.httpsPort, pki.caPem);
        assert.ok(c.ok, `connection ${i + 1} of 2 is served`);
        held.push(c.socket);
      }
      const third = await openTls(server.httpsPort, pki.caPem);
      held.push(third.socket);
      assert.equal(third.ok, false, 'a third connection is dropped before its handshake');
      assert.equal((await rejected()) - before, 1, 'counted with reason="cap"');
      // More drops within the second are counted but not logged line by line.
      for (let i = 0; i < 3; i++) held.push((await openTls(server.httpsPort, pki.caPem)).socket);
      assert.equal((await rejected()) - before, 4);
      const lines = log.split('\n').filter((l) => l.includes('--max-connections reached'));
      assert.equal(lines.length, 1, log);
      assert.match(lines[0]!, /"client":"127\.0\.0\.1"/);
      held[0]!.destroy();
      let again = false;
      for (let i = 0; i < 20 && !again; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const c = await openTls(server.httpsPort, pki.caPem);
        held.push(c.socket);
        again = c.ok;
      }
      assert.ok(again, 'a connection is served again after one closed');
    } finally {
      for (const s of held) s.destroy();
      await server.close();
    }
  });

  it(
    'leaves no file descriptor behind after good and bad connections',
    { skip: process.platform !== 'linux' && 'counts /proc/self/fd' },
    async () => {
      const server = await startWithPki(pki, { handshakeTimeoutMs: 300, headerTimeoutMs: 500 });
      try {
        const get = () => httpsGet({ port: server.httpsPort, ca: pki.caPem, servername: NAME });
        assert.equal((await get()).status, 200); // warm-up: lazily opened handles exist from here on
        const baseline = openFds();
        for (let round = 0; round < 10; round++) {
          await Promise.all([
            get(),
            get(),
            rawExchange(server.httpsPort, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
            rawExchange(server.httpsPort, Buffer.from('\x00\x01garbage\xff\xfe')),
            rawExchange(server.httpsPort, TRUNCATED_HELLO, { keepOpen: true, waitMs: 2000 }),
          ]);
        }
        let now = openFds();
        for (let i = 0; i < 50 && now > baseline; i++) {
          await new Promise((r) => setTimeout(r, 100));
          now = openFds();
        }
        assert.ok(now <= baseline, `open descriptors: ${baseline} before, ${now} after 50 connections`);
      } finally {
        await server.close();
      }
    },
  );
});
