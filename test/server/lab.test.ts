// --lab: the failure lab served by SNI from `tlsecho ca lab`'s folder, each name over a real
// handshake with Node's tls (the error code a correct client gets), the tls12 port's version, the
// client-cert name with and without a certificate, the normal echo, and a reload.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { issueLab, labClientPaths } from '../../src/ca/lab.js';
import { intermediatePaths } from '../../src/ca/store.js';
import type { RunningServer } from '../../src/server/index.js';
import { requireClientCertificate } from '../../src/util/node-internals.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { startWithPki } from '../helpers/server.js';
import { httpsGet } from './requests.js';

const name = (kind: string) => `${kind}.${TEST_DOMAIN}`;

/** A verified handshake to 127.0.0.1 with this SNI: the protocol, or the client's error code. */
function handshake(port: number, servername: string, ca: string, extra: tls.ConnectionOptions = {}) {
  return new Promise<{ ok: boolean; code?: string; protocol?: string }>((resolve) => {
    const s = tls.connect({ host: '127.0.0.1', port, servername, ca, ...extra, timeout: 5000 });
    s.once('secureConnect', () => {
      const protocol = s.getProtocol() ?? undefined;
      // TLS 1.3: a refused client certificate arrives after the client's handshake; read once.
      s.write(`GET / HTTP/1.1\r\nhost: ${servername}\r\nconnection: close\r\n\r\n`);
      let body = '';
      s.on('data', (d: Buffer) => (body += d));
      s.once('end', () =>
        resolve(body.startsWith('HTTP/1.1 200') ? { ok: true, protocol } : { ok: false, code: 'NO_ANSWER' }),
      );
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve({ ok: false, code: e.code }));
    s.once('timeout', () => s.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
  });
}

describe('tlsecho server --lab', () => {
  const t = tempDir();
  let pki: TestPki;
  let server: RunningServer;
  let labDir: string;
  before(async () => {
    // A two-tier CA, so that incomplete-chain is signed by the CA's own intermediate.
    pki = await makePki(join(t.dir, 'certs'), { intermediate: true });
    labDir = (await issueLab({ out: pki.out, domain: TEST_DOMAIN })).dir;
    server = await startWithPki(pki, { lab: labDir, labTls12Port: 0, reloadIntervalMs: 100 });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });

  it('refuses each broken name with the error a verifying client must see', async () => {
    const want: Record<string, string> = {
      expired: 'CERT_HAS_EXPIRED',
      'not-yet-valid': 'CERT_NOT_YET_VALID',
      'wrong-name': 'ERR_TLS_CERT_ALTNAME_INVALID',
      untrusted: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'self-signed': 'DEPTH_ZERO_SELF_SIGNED_CERT',
      'incomplete-chain': 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
      'client-cert': 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED',
    };
    for (const [kind, code] of Object.entries(want))
      assert.deepEqual(await handshake(server.httpsPort, name(kind), pki.caPem), { ok: false, code }, kind);
  });

  it('incomplete-chain fails only for want of its intermediate: given it, Node and curl connect', async () => {
    const intermediate = readFileSync(intermediatePaths(pki.out).cert, 'utf8');
    assert.deepEqual(await handshake(server.httpsPort, name('incomplete-chain'), pki.caPem), {
      ok: false,
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    // The intermediate beside the root: OpenSSL builds leaf -> intermediate -> root and checks
    // the root's path length on the way, so this succeeds only with a chain that is whole.
    const withIt = await handshake(server.httpsPort, name('incomplete-chain'), pki.caPem + intermediate);
    assert.equal(withIt.ok, true, JSON.stringify(withIt));
    const bundle = join(t.dir, 'root-and-intermediate.pem');
    writeFileSync(bundle, pki.caPem + intermediate);
    const curl = (cacert: string) =>
      new Promise<{ code: number; stderr: string }>((resolve) => {
        const url = `https://${name('incomplete-chain')}:${server.httpsPort}/`;
        const resolveArg = `${name('incomplete-chain')}:${server.httpsPort}:127.0.0.1`;
        execFile('curl', ['-sS', '--cacert', cacert, '--resolve', resolveArg, url], (err, _o, stderr) =>
          resolve({ code: err ? Number((err as { code?: number }).code) : 0, stderr }),
        );
      });
    assert.deepEqual(await curl(bundle), { code: 0, stderr: '' });
    const without = await curl(pki.root.cert);
    assert.equal(without.code, 60);
    assert.match(without.stderr, /unable to get local issuer certificate/);
  });

  it('gets the verify error OpenSSL s_client -verify_return_error must report', async () => {
    const want: Record<string, RegExp> = {
      good: /Verify return code: 0 \(ok\)/,
      expired: /verify error:num=10:certificate has expired/,
      'not-yet-valid': /verify error:num=9:certificate is not yet valid/,
      'wrong-name': /verify error:num=62:hostname mismatch/,
      untrusted: /verify error:num=20:unable to get local issuer certificate/,
      'self-signed': /verify error:num=18:self-signed certificate/,
      'incomplete-chain': /verify error:num=20:unable to get local issuer certificate/,
    };
    for (const [kind, re] of Object.entries(want)) {
      const args = ['s_client', '-connect', `127.0.0.1:${server.httpsPort}`, '-servername', name(kind)];
      args.push('-verify_hostname', name(kind), '-CAfile', pki.root.cert, '-verify_return_error');
      // stdin at EOF: s_client ends after the handshake instead of waiting for input.
      const r = await new Promise<string>((resolve) => {
        const child = execFile('openssl', args, { timeout: 10_000 }, (_err, stdout, stderr) =>
          resolve(stdout + stderr),
        );
        child.stdin?.end();
      });
      assert.match(r, re, kind);
    }
  });

  it('serves good with the echo, and the main names as before', async () => {
    for (const n of [name('good'), `server1.${TEST_DOMAIN}`]) {
      const r = await httpsGet({ port: server.httpsPort, ca: pki.caPem, servername: n });
      assert.equal(r.body, `Client connection from 127.0.0.1 to server ${n}\n`);
    }
  });

  it("links the lab from the main names' page, not from the lab's own", async () => {
    const page = (n: string) =>
      httpsGet({ port: server.httpsPort, ca: pki.caPem, servername: n, headers: { accept: 'text/html' } });
    const main = (await page(`server1.${TEST_DOMAIN}`)).body;
    assert.ok(main.includes(`<a href="https://${name('expired')}:${server.httpsPort}/">`), main);
    assert.match(main, new RegExp(`<code>${name('tls12').replace(/\./g, '\\.')}</code> \\(TLS 1\\.2 only`));
    assert.doesNotMatch((await page(name('good'))).body, /Failure lab/);
    const doc = await httpsGet({
      port: server.httpsPort,
      ca: pki.caPem,
      servername: name('good'),
      headers: { accept: 'application/json' },
    });
    assert.equal((JSON.parse(doc.body) as { lab_names: string[] }).lab_names.length, 9);
  });

  it('serves tls12 on its own port with TLS 1.2 at most', async () => {
    assert.ok(server.labTls12Port);
    assert.deepEqual(await handshake(server.labTls12Port, name('tls12'), pki.caPem), {
      ok: true,
      protocol: 'TLSv1.2',
    });
    const r = await handshake(server.labTls12Port, name('tls12'), pki.caPem, { minVersion: 'TLSv1.3' });
    assert.equal(r.ok, false);
    assert.match(r.code ?? '', /PROTOCOL_VERSION|UNSUPPORTED_PROTOCOL/);
  });

  it('requires a client certificate from the root on client-cert only', async () => {
    const c = labClientPaths(labDir, TEST_DOMAIN);
    const mine = { cert: readFileSync(c.cert, 'utf8'), key: readFileSync(c.key, 'utf8') };
    const r = await httpsGet({
      port: server.httpsPort,
      ca: pki.caPem,
      servername: name('client-cert'),
      ...mine,
      headers: { accept: 'application/json' },
    });
    assert.equal(r.status, 200);
    assert.match(r.body, /"subject": "CN=lab-client\.tlsecho\.test"/);
    const foreign = {
      cert: readFileSync(join(labDir, name('untrusted'), 'cert.pem'), 'utf8'),
      key: readFileSync(join(labDir, name('untrusted'), 'key.pem'), 'utf8'),
    };
    const bad = await handshake(server.httpsPort, name('client-cert'), pki.caPem, foreign);
    assert.equal(bad.ok, false, 'a client certificate from another CA is refused');
    assert.deepEqual(await handshake(server.httpsPort, name('good'), pki.caPem), {
      ok: true,
      protocol: 'TLSv1.3',
    });
  });

  it('requireClientCertificate fails closed on something that is not a TLS socket', () => {
    assert.equal(requireClientCertificate({}), false);
    assert.equal(requireClientCertificate(null), false);
  });

  it('follows a changed lab folder', async () => {
    // Replace good's pair with server1's: the server must now present server1's certificate for it.
    writeFileSync(join(labDir, name('good'), 'cert.pem'), pki.certPem);
    writeFileSync(join(labDir, name('good'), 'key.pem'), pki.keyPem);
    let code: string | undefined;
    for (let i = 0; i < 40 && code !== 'ERR_TLS_CERT_ALTNAME_INVALID'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      code = (await handshake(server.httpsPort, name('good'), pki.caPem)).code;
    }
    assert.equal(code, 'ERR_TLS_CERT_ALTNAME_INVALID');
  });
});
