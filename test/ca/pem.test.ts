// Every PEM file tlsecho ca writes ends with a newline, so that `cat cert.pem minica.pem` makes a
// file OpenSSL and Node read as two certificates, as they read files OpenSSL wrote.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import { runCli } from '../helpers/cli.js';
import { opensslVerify } from '../helpers/openssl.js';
import { tempDir } from '../helpers/pki.js';

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

describe('tlsecho ca PEM files', () => {
  const t = tempDir();
  const out = join(t.dir, 'certs');
  before(async () => {
    const r = await runCli(['ca', '--out', out, '--domains', 'localhost', '--client', 'pinger']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(t.cleanup);

  it('end every file with exactly one newline', () => {
    const files = filesUnder(out);
    assert.equal(files.length, 6, files.join(' '));
    for (const f of files) {
      const text = readFileSync(f, 'utf8');
      assert.match(text, /-----\n$/, `${f} ends with a newline`);
      assert.doesNotMatch(text, /\n\n$/, `${f} ends with one newline`);
    }
  });

  it('concatenate into a bundle that OpenSSL and Node read as two certificates', async () => {
    const leaf = join(out, 'localhost', 'cert.pem');
    const bundle = join(t.dir, 'chain.pem');
    writeFileSync(bundle, readFileSync(leaf, 'utf8') + readFileSync(join(out, 'minica.pem'), 'utf8'));

    const count = spawnSync('openssl', ['storeutl', '-noout', '-certs', bundle], { encoding: 'utf8' });
    assert.equal(count.status, 0, count.stderr);
    assert.match(count.stdout, /Total found: 2/);
    // The root is the bundle's second certificate: trusting the bundle verifies the leaf.
    const v = opensslVerify(bundle, leaf);
    assert.equal(v.status, 0, v.stdout + v.stderr);

    // Node: a server sending the bundle as its chain, a client trusting only the bundle's root.
    const server = tls.createServer(
      { cert: readFileSync(bundle), key: readFileSync(join(out, 'localhost', 'key.pem')) },
      (s) => s.end(),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const port = (server.address() as { port: number }).port;
      const ders = await new Promise<string[]>((resolve, reject) => {
        const s = tls.connect(
          { port, host: '127.0.0.1', servername: 'localhost', ca: readFileSync(bundle) },
          () => {
            const chain: string[] = [];
            for (
              let c = s.getPeerCertificate(true);
              c && !chain.includes(c.fingerprint256);
              c = c.issuerCertificate
            )
              chain.push(c.fingerprint256);
            s.end();
            resolve(chain);
          },
        );
        s.on('error', reject);
      });
      assert.equal(ders.length, 2, 'leaf and root');
    } finally {
      server.close();
    }
  });
});
