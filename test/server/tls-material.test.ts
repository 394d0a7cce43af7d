// The names the server logs in its ready line come from the certificate's subjectAltName; IPv6
// entries are written as people type them (`::1`), not as Node prints them (`0:0:0:0:0:0:0:1`).
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { certNames } from '../../src/ca/names.js';
import { loadTlsMaterial } from '../../src/server/tls-material.js';
import { makePki, tempDir } from '../helpers/pki.js';

describe('certNames', () => {
  const t = tempDir();
  after(() => t.cleanup());

  it('lists DNS names and IP addresses, IPv6 in its short form', async () => {
    const pki = await makePki(join(t.dir, 'a'), { ipAddresses: ['127.0.0.1', '::1', 'fd00:0:0::10'] });
    assert.match(new X509Certificate(pki.certPem).subjectAltName!, /IP Address:0:0:0:0:0:0:0:1/);
    assert.deepEqual(certNames(new X509Certificate(pki.certPem)), [
      'server1.tlsecho.test',
      'server2.tlsecho.test',
      'server3.tlsecho.test',
      'localhost',
      '127.0.0.1',
      '::1',
      'fd00::10',
    ]);
    const m = loadTlsMaterial({
      certFile: pki.server!.cert,
      keyFile: pki.server!.key,
      caFile: pki.root.cert,
    });
    assert.deepEqual(m.leaf.names.slice(-3), ['127.0.0.1', '::1', 'fd00::10']);
  });
});
