// The key log against Wireshark's own reader: a node:https server writes its 'keylog' lines with
// openKeyLog, tshark records the loopback connection, and with `-o tls.keylog_file:` (and only
// with it) tshark decrypts the HTTP request and the answer. Wireshark's JA3 of the same
// ClientHello is checked against ours on the way.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { request, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseClientHello } from '../../src/tls/client-hello.js';
import { ja3 } from '../../src/tls/ja3.js';
import { KeyLogError, openKeyLog } from '../../src/tls/keylog.js';
import { runProcess } from '../helpers/cli.js';
import { makePki, tempDir, type TestPki } from '../helpers/pki.js';
import { skipUnless } from '../helpers/requirements.js';
import { parsedOf } from './hello-builder.js';

const tshark = spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
const root = process.getuid?.() === 0;
const skipCapture = skipUnless(
  'TSHARK',
  !tshark
    ? 'tshark is not installed (Debian package tshark)'
    : !root
      ? 'capturing on loopback needs root'
      : undefined,
);

describe('openKeyLog', () => {
  const t = tempDir('tlsecho-keylog-');
  after(() => t.cleanup());

  it('creates the file 0600, appends to an existing one and tightens it to 0600', async () => {
    const fresh = join(t.dir, 'fresh.keys');
    const log = openKeyLog(fresh);
    log.write(Buffer.from('CLIENT_RANDOM aa bb\n'));
    await log.close();
    assert.equal(statSync(fresh).mode & 0o777, 0o600);
    const old = join(t.dir, 'old.keys');
    writeFileSync(old, '# earlier\n', { mode: 0o644 });
    const again = openKeyLog(old);
    again.write(Buffer.from('CLIENT_RANDOM cc dd\n'));
    await again.close();
    assert.equal(readFileSync(old, 'utf8'), '# earlier\nCLIENT_RANDOM cc dd\n');
    assert.equal(statSync(old).mode & 0o777, 0o600);
  });

  it('a path in a missing folder: one line naming the file and what to do', () => {
    const path = join(t.dir, 'no', 'such', 'dir.keys');
    assert.throws(
      () => openKeyLog(path),
      (err: Error) => {
        assert.ok(err instanceof KeyLogError);
        assert.equal(
          err.message,
          `cannot open the TLS key log file ${path}: ENOENT; create its folder first`,
        );
        return true;
      },
    );
  });
});

describe('the key log decrypts a tshark capture', { skip: skipCapture }, () => {
  const t = tempDir('tlsecho-keylog-capture-');
  let pki: TestPki;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
  });
  after(() => t.cleanup());

  it('tshark finds the HTTP request and the echo with -o tls.keylog_file, and not without', async () => {
    const keyFile = join(t.dir, 'session.keys');
    const pcap = join(t.dir, 'session.pcapng');
    const log = openKeyLog(keyFile);
    const server = createServer({ key: pki.keyPem, cert: pki.certPem }, (req, res) => {
      res.end(`echo of ${req.url}\n`);
    });
    server.on('keylog', log.write);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    const probe = `/keylog-probe-${randomBytes(6).toString('hex')}`;

    const capture = spawn('tshark', ['-i', 'lo', '-f', `tcp port ${port}`, '-w', pcap], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let err = '';
        const timer = setTimeout(() => reject(new Error(`tshark did not start capturing: ${err}`)), 15_000);
        capture.stderr!.on('data', (d: Buffer) => {
          err += d;
          // "Capturing on" comes before the capture is open; "Capture started" once it is.
          if (/Capture started/.test(err)) {
            clearTimeout(timer);
            setTimeout(resolve, 200);
          }
        });
        capture.once('exit', (code) => reject(new Error(`tshark exited ${code}: ${err}`)));
      });
      const body = await new Promise<string>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: probe, servername: 'localhost', ca: pki.caPem, agent: false },
          (res) => {
            let b = '';
            res.setEncoding('utf8');
            res.on('data', (d: string) => (b += d));
            res.on('end', () => resolve(b));
          },
        );
        req.on('error', reject);
        req.end();
      });
      assert.equal(body, `echo of ${probe}\n`);
      // Let the last packets reach the capture before stopping it.
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      const exited = new Promise((r) => capture.once('exit', r));
      capture.kill('SIGINT');
      await exited;
      server.close();
      await log.close();
    }

    const keys = readFileSync(keyFile, 'utf8');
    assert.match(keys, /^CLIENT_HANDSHAKE_TRAFFIC_SECRET [0-9a-f]{64} [0-9a-f]{64,}$/m);
    const fields = ['-T', 'fields', '-e', 'http.request.uri', '-e', 'http.file_data', '-Y', 'http'];
    const decode = ['-d', `tcp.port==${port},tls`];
    const decrypted = await runProcess('tshark', [
      '-r',
      pcap,
      ...decode,
      '-o',
      `tls.keylog_file:${keyFile}`,
      ...fields,
    ]);
    assert.equal(decrypted.code, 0, decrypted.stderr);
    assert.ok(decrypted.stdout.includes(probe), `no request for ${probe} in:\n${decrypted.stdout}`);
    assert.ok(decrypted.stdout.includes(`echo of ${probe}`), `no echo in:\n${decrypted.stdout}`);
    const opaque = await runProcess('tshark', ['-r', pcap, ...decode, ...fields]);
    assert.equal(opaque.code, 0, opaque.stderr);
    assert.ok(!opaque.stdout.includes(probe), 'without the key log the request must stay encrypted');

    // The same capture, a second opinion on the parser: Wireshark's own JA3 of this ClientHello.
    const hello = await runProcess('tshark', [
      '-r',
      pcap,
      ...decode,
      '-Y',
      'tls.handshake.type == 1',
      '-T',
      'fields',
      '-E',
      'separator=/t',
      '-e',
      'tcp.payload',
      '-e',
      'tls.handshake.ja3_full',
      '-e',
      'tls.handshake.ja3',
    ]);
    const [payload, ja3Full, ja3Md5] = hello.stdout.trim().split('\t');
    const parsed = parsedOf(parseClientHello(Buffer.from(payload!.replace(/:/g, ''), 'hex')));
    assert.deepEqual(ja3(parsed), { ja3: ja3Full, ja3_hash: ja3Md5 });
  });
});
