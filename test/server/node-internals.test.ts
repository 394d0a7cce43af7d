// The private parts of Node that src/util/node-internals.ts relies on, each checked against the
// running Node: when a release changes one, this fails by name instead of a feature quietly
// degrading (plain HTTP on the HTTPS port no longer answered, tickets no longer renewed, error
// answers written into a response, slow heads never timing out).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import tls from 'node:tls';
import {
  keepsAlive,
  requireClientCertificate,
  responseInProgress,
  startConnectionTracking,
  tcpOf,
  ticketKeyHook,
} from '../../src/util/node-internals.js';
import { makePki, tempDir, TEST_DOMAIN, type TestPki } from '../helpers/pki.js';

const NAME = `server1.${TEST_DOMAIN}`;

describe(`Node internals tlsecho relies on (Node ${process.version})`, () => {
  const t = tempDir();
  let pki: TestPki;
  before(async () => {
    pki = await makePki(join(t.dir, 'certs'));
  });
  after(t.cleanup);

  const tlsServer = () => tls.createServer({ cert: pki.certPem, key: pki.keyPem });
  const listen = async (s: net.Server) => {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    return (s.address() as net.AddressInfo).port;
  };

  it('tcpOf: a server-side TLS socket keeps its TCP connection as _parent', async () => {
    const server = tlsServer();
    const port = await listen(server);
    const seen = once(server, 'secureConnection');
    const client = tls.connect({ host: '127.0.0.1', port, servername: NAME, ca: pki.caPem });
    const [socket] = (await seen) as [tls.TLSSocket];
    const tcp = tcpOf(socket);
    assert.ok(tcp instanceof net.Socket, '_parent is a net.Socket');
    assert.equal(tcp.remotePort, client.localPort);
    client.destroy();
    server.close();
  });

  it('ticketKeyHook: a tls.Server context has the JavaScript ticket-key callback', () => {
    const server = tlsServer();
    const hook = ticketKeyHook(server);
    assert.ok(hook, '_sharedCreds.context.enableTicketKeyCallback exists');
    assert.equal(typeof hook.enableTicketKeyCallback, 'function');
    server.close();
  });

  it('responseInProgress: node:http keeps the response being written as _httpMessage', async () => {
    let during: http.ServerResponse | undefined;
    let afterFinish: http.ServerResponse | undefined = undefined;
    const server = http.createServer((_req, res) => {
      const socket = res.socket!;
      res.writeHead(200, ['content-length', '2']);
      during = responseInProgress(socket);
      res.end('ok', () => (afterFinish = responseInProgress(socket)));
    });
    const port = await listen(server);
    await new Promise<void>((resolve, reject) =>
      http
        .get({ host: '127.0.0.1', port, agent: false }, (r) => r.resume().on('end', resolve))
        .on('error', reject),
    );
    assert.ok(during instanceof http.ServerResponse, 'found while the response is open');
    assert.equal(afterFinish, undefined, 'gone once it finished');
    server.close();
  });

  it('keepsAlive: node:http says before the answer whether the connection stays open', async () => {
    const seen: boolean[] = [];
    const server = http.createServer((_req, res) => {
      seen.push(keepsAlive(res));
      res.end('ok');
    });
    const port = await listen(server);
    const ask = (head: string) =>
      new Promise<void>((resolve) => {
        const c = net.connect(port, '127.0.0.1', () => c.end(head));
        c.resume().on('close', () => resolve());
      });
    await ask('GET / HTTP/1.1\r\nHost: a\r\n\r\n');
    await ask('GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
    await ask('GET / HTTP/1.0\r\n\r\n');
    await ask('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
    assert.deepEqual(seen, [true, false, false, true]);
    server.close();
  });

  it('requireClientCertificate: inside SNICallback one connection can be made to require a certificate', async () => {
    let switched: boolean | undefined;
    const server = tls.createServer({
      cert: pki.certPem,
      key: pki.keyPem,
      ca: pki.caPem,
      SNICallback(this: unknown, _name, cb) {
        switched = requireClientCertificate(this);
        cb(null, undefined);
      },
    } as tls.TlsOptions);
    const refused = new Promise<string>((resolve) =>
      server.on('tlsClientError', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message)),
    );
    const port = await listen(server);
    const client = tls.connect({ host: '127.0.0.1', port, servername: NAME, ca: pki.caPem });
    client.on('error', () => {});
    assert.equal(await refused, 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE');
    assert.equal(switched, true, 'the socket had _handle.setVerifyMode and _requestCert');
    client.destroy();
    server.close();
  });

  it('startConnectionTracking: an http.Server fed through "connection" then times out slow heads', async () => {
    const http1 = http.createServer({
      headersTimeout: 300,
      requestTimeout: 600,
      connectionsCheckingInterval: 100,
    });
    startConnectionTracking(http1);
    let timedOut = '';
    http1.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
      timedOut = err.code ?? '';
      socket.destroy();
    });
    const server = net.createServer((socket) => http1.emit('connection', socket));
    const port = await listen(server);
    const client = net.connect(port, '127.0.0.1');
    client.on('error', () => {});
    await once(client, 'connect');
    client.write('GET / HTTP/1.1\r\n'); // and nothing more
    const closed = await Promise.race([
      once(client, 'close').then(() => true),
      new Promise((r) => setTimeout(() => r(false), 3000)),
    ]);
    assert.equal(closed, true, 'closed within 3 s (headersTimeout 300 ms)');
    assert.equal(timedOut, 'ERR_HTTP_REQUEST_TIMEOUT');
    http1.close(() => {});
    server.close();
  });
});
