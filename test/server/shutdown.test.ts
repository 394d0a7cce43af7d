// SIGTERM under load loses no request: `tlsecho server` as a real process (one worker and two),
// driven by keep-alive and new-connection HTTPS clients and by HTTP/2 sessions, all verified TLS,
// bounded in count and time. A request counts as lost when it was sent and got no answer; a new
// connection refused after the listener closed is not lost (the client knows nothing was sent).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http2 from 'node:http2';
import https from 'node:https';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import type { ChildProcess } from 'node:child_process';
import { startCli, waitForLine } from '../helpers/cli.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';
import { h2Session } from './requests.js';

const NAME = `server1.${TEST_DOMAIN}`;

interface Tally {
  answered: number;
  refused: number;
  lost: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(agent: https.Agent | false, port: number, ca: string): Promise<'answered' | 'refused' | string> {
  return new Promise((resolve) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        servername: NAME,
        path: '/ping',
        headers: { host: NAME },
        ca,
        agent,
        checkServerIdentity: (_h: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(NAME, cert),
        timeout: 15_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200 ? 'answered' : `status ${res.statusCode}`));
        res.on('error', (e: NodeJS.ErrnoException) => resolve(`response ${e.code ?? e.message}`));
      },
    );
    // A connection reset before its TLS handshake finished carried no request: the listener
    // closed with it still in the accept queue (the kernel resets those), which is a refusal.
    let handshook = false;
    req.on('socket', (socket: tls.TLSSocket) => {
      if (!socket.connecting && socket.encrypted && !socket.pending) handshook = true; // reused
      socket.once('secureConnect', () => (handshook = true));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) =>
      resolve(
        e.code === 'ECONNREFUSED' || (!handshook && e.code === 'ECONNRESET')
          ? 'refused'
          : `request ${e.code ?? e.message}`,
      ),
    );
    req.end();
  });
}

/** Sequential requests until the server refuses a new connection (or the bounds end the loop). */
async function client(agent: https.Agent | false, port: number, ca: string, t: Tally, deadline: number) {
  for (let i = 0; i < 100_000 && Date.now() < deadline; i++) {
    const r = await get(agent, port, ca);
    if (r === 'answered') t.answered++;
    else if (r === 'refused') {
      t.refused++;
      return;
    } else t.lost.push(r);
  }
}

/** An HTTP/2 session with three concurrent request loops; GOAWAY ends it cleanly. */
async function h2client(port: number, ca: string, t: Tally, deadline: number) {
  const { session } = h2Session(port, ca, NAME);
  let goaway = false;
  session.on('goaway', () => (goaway = true));
  await once(session, 'connect');
  const loop = async () => {
    for (let i = 0; i < 100_000 && Date.now() < deadline && !goaway && !session.closed; i++) {
      const r = await new Promise<string>((resolve) => {
        let stream: http2.ClientHttp2Stream;
        try {
          stream = session.request({ ':path': '/ping' });
        } catch {
          return resolve('not sent'); // the session is closing: nothing was sent
        }
        let status = 0;
        stream.on('response', (h) => (status = Number(h[':status'])));
        stream.resume();
        stream.on('end', () => resolve(status === 200 ? 'answered' : `status ${status}`));
        stream.on('error', (e: NodeJS.ErrnoException) =>
          // A stream the server never processed (REFUSED_STREAM, above the GOAWAY's last id) was
          // not served and may be retried: like a refused connection, not lost.
          resolve(/REFUSED_STREAM|code 7/.test(e.message) ? 'refused' : `h2 ${e.code ?? e.message}`),
        );
      });
      if (r === 'answered') t.answered++;
      else if (r === 'refused' || r === 'not sent') t.refused++;
      else t.lost.push(r);
    }
  };
  await Promise.all([loop(), loop(), loop()]);
  session.close();
}

describe('tlsecho server: SIGTERM under load', () => {
  const t = tempDir();
  let pki: TestPki;
  const children: ChildProcess[] = [];
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
  });
  after(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    t.cleanup();
  });

  for (const workers of ['1', '2'])
    it(`loses no request with --workers ${workers}`, async () => {
      const child = startCli([
        'server',
        '--certs-path',
        pki.out,
        '--https-port',
        '0',
        '--http-port',
        '0',
        '--workers',
        workers,
        '--no-access-log',
        '--shutdown-timeout',
        '10s',
      ]);
      children.push(child);
      const ready = await waitForLine(child, / ready /);
      const port = Number(/https_port[=":]+(\d+)/.exec(ready)![1]);
      const tally: Tally = { answered: 0, refused: 0, lost: [] };
      const deadline = Date.now() + 15_000;
      const agents = Array.from({ length: 6 }, () => new https.Agent({ keepAlive: true, maxSockets: 1 }));
      const load = Promise.all([
        ...agents.map((a) => client(a, port, pki.caPem, tally, deadline)),
        client(false, port, pki.caPem, tally, deadline),
        client(false, port, pki.caPem, tally, deadline),
        h2client(port, pki.caPem, tally, deadline),
      ]);
      await sleep(1500);
      const before = tally.answered;
      child.kill('SIGTERM');
      const code = once(child, 'exit').then(([c]) => c as number);
      await load;
      agents.forEach((a) => a.destroy());
      assert.ok(before > 100, `the load was running (${before} answers before the signal)`);
      assert.deepEqual(
        tally.lost,
        [],
        `${tally.lost.length} of ${tally.answered + tally.lost.length} requests lost`,
      );
      assert.ok(tally.refused > 0, 'the clients ran until the server stopped taking connections');
      assert.equal(await code, 0, 'exit 0: everything finished before --shutdown-timeout');
    });
});
