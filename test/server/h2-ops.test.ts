// What the HTTPS port did before HTTP/2 keeps working over h2: mutual TLS shown in the echo,
// certificate rotation for new sessions, and requests counted in /metrics by route and status.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fingerprintOfPem } from '../../src/ca/fingerprint.js';
import type { RunningServer } from '../../src/server/index.js';
import { makePki, reissueServer, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { startWithPki } from '../helpers/server.js';
import { h2Session, httpGet, metricValue } from './requests.js';

const NAME = `server1.${TEST_DOMAIN}`;

/** One GET over a new verified h2 session; the answer's JSON and the certificate the server sent. */
async function h2Json(
  port: number,
  ca: string,
  client?: { cert: string; key: string },
): Promise<{ doc: Record<string, unknown>; fingerprint: string }> {
  const { session, socket } = h2Session(port, ca, NAME, client);
  try {
    await once(session, 'connect');
    const stream = session.request({ ':path': '/?format=json' });
    let body = '';
    stream.setEncoding('utf8');
    stream.on('data', (d: string) => (body += d));
    await once(stream, 'end');
    return {
      doc: JSON.parse(body) as Record<string, unknown>,
      fingerprint: socket()!.getPeerCertificate().fingerprint256,
    };
  } finally {
    session.close();
  }
}

describe('HTTP/2: mutual TLS, rotation and metrics', () => {
  const t = tempDir();
  let pki: TestPki;
  let server: RunningServer;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'), { client: 'client1' });
    server = await startWithPki(pki, { clientCaFile: pki.root.cert, reloadIntervalMs: 100 });
  });
  after(async () => {
    await server?.close();
    t.cleanup();
  });
  const client = () => ({
    cert: readFileSync(pki.client!.cert, 'utf8'),
    key: readFileSync(pki.client!.key, 'utf8'),
  });

  it('shows the client certificate over h2, and counts the request by route and status', async () => {
    const count = async () =>
      metricValue((await httpGet(server.httpPort, '/metrics')).body, 'tlsecho_requests_total', {
        route: '/',
        status: '200',
        server_name: NAME,
      });
    const before = await count();
    const { doc } = await h2Json(server.httpsPort, pki.caPem, client());
    assert.equal(doc.alpn, 'h2');
    const cc = doc.client_certificate as { subject: string; fingerprint_sha256: string };
    assert.match(cc.subject, /CN=client1/);
    assert.equal(cc.fingerprint_sha256, fingerprintOfPem(readFileSync(pki.client!.cert, 'utf8')).colon);
    assert.equal(await count(), before + 1);
  });

  it('gives new h2 sessions a re-issued certificate without restart', async () => {
    const first = await h2Json(server.httpsPort, pki.caPem, client());
    const renewed = await reissueServer(pki, [NAME, 'localhost']);
    assert.notEqual(first.fingerprint, renewed);
    let seen = first.fingerprint;
    for (let i = 0; i < 40 && seen !== renewed; i++) {
      await new Promise((r) => setTimeout(r, 100));
      seen = (await h2Json(server.httpsPort, pki.caPem, client())).fingerprint;
    }
    assert.equal(seen, renewed);
  });
});
