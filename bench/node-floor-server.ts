// The bench's floors: the least Node can do for the bench's requests, to show how much of
// tlsecho's cost is Node's own. Each has tlsecho's TLS settings, shared ticket keys and ticket
// renewal and the same process count, and answers each request with a fixed line (the echo line
// or pong): no facts beyond the two the line names, no metrics, no log.
// - tls: node:tls alone, no HTTP parser (a request is taken to end each chunk, as wrk writes them);
// - http: `https.createServer` (llhttp and node:http's request/response objects), ALPN http/1.1;
// - http2: `http2.createSecureServer` (nghttp2), ALPN h2, answering on the stream API.
//   node node-floor-server.js <tls|http|http2> <port> <cert> <key> <processes>
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import http2 from 'node:http2';
import https from 'node:https';
import tls, { type TLSSocket } from 'node:tls';
import { renewTicketsOnResume } from '../src/server/ticket-renewal.js';
import { newTicketKeys, tlsServerOptions } from '../src/server/tls-context.js';

const [kind, port, certFile, keyFile, processes] = process.argv.slice(2);
const KEYS_ENV = 'TLSECHO_FLOOR_TICKET_KEYS';
const TEXT = 'text/plain; charset=utf-8';

const echoLine = (socket: TLSSocket) =>
  `Client connection from ${socket.remoteAddress} to server ${socket.servername}\n`;

function answer(body: string, close: boolean): Buffer {
  return Buffer.from(
    `HTTP/1.1 200 OK\r\ncontent-type: ${TEXT}\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `${close ? 'connection: close\r\n' : ''}\r\n${body}`,
  );
}

function tlsFloor(options: tls.TlsOptions): tls.Server {
  const server = tls.createServer(options);
  const pong = [answer('pong\n', false), answer('pong\n', true)];
  server.on('secureConnection', (socket) => {
    const echo = echoLine(socket);
    const echoes = [answer(echo, false), answer(echo, true)];
    socket.on('data', (chunk: Buffer) => {
      // wrk's `Connection: close`, or HTTP/1.0 as openssl s_time sends.
      const close = chunk.includes('Connection: close') || chunk.includes(' HTTP/1.0\r\n');
      const res = (chunk.includes('GET /ping ') ? pong : echoes)[close ? 1 : 0]!;
      if (close) socket.end(res);
      else socket.write(res);
    });
    socket.on('error', () => socket.destroy());
  });
  return server;
}

function httpFloor(options: tls.TlsOptions): tls.Server {
  return https.createServer(options, (req, res) => {
    const body = req.url === '/ping' ? 'pong\n' : echoLine(req.socket as TLSSocket);
    res.writeHead(200, { 'content-type': TEXT, 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}

function http2Floor(options: tls.TlsOptions): tls.Server {
  const server = http2.createSecureServer(options);
  // The echo line once per session, as tlsecho computes its facts once per connection.
  const echoes = new WeakMap<http2.Http2Session, string>();
  server.on('session', (session) => {
    session.on('error', () => {});
    echoes.set(session, echoLine(session.socket as TLSSocket));
  });
  server.on('stream', (stream, headers) => {
    stream.on('error', () => {});
    const body = headers[':path'] === '/ping' ? 'pong\n' : echoes.get(stream.session!)!;
    stream.respond({ ':status': 200, 'content-type': TEXT, 'content-length': Buffer.byteLength(body) });
    stream.end(body);
  });
  return server;
}

const FLOORS: Record<string, { make: (o: tls.TlsOptions) => tls.Server; alpn: string[] }> = {
  tls: { make: tlsFloor, alpn: ['http/1.1'] },
  http: { make: httpFloor, alpn: ['http/1.1'] },
  http2: { make: http2Floor, alpn: ['h2'] },
};

function serve(ticketKeys: Buffer): void {
  const floor = FLOORS[kind!];
  if (!floor) throw new Error(`unknown floor '${kind}' (tls, http, http2)`);
  const cert = readFileSync(certFile!, 'utf8');
  const key = readFileSync(keyFile!, 'utf8');
  const server = floor.make(
    tlsServerOptions({ cert, key }, ticketKeys, { handshakeTimeoutMs: 10_000, alpn: floor.alpn }),
  );
  renewTicketsOnResume(server, ticketKeys);
  server.listen(Number(port), '127.0.0.1');
}

const count = Number(processes);
if (count > 1 && cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_NONE; // as tlsecho: workers accept themselves
  const keys = newTicketKeys().toString('hex');
  for (let i = 0; i < count; i++) cluster.fork({ [KEYS_ENV]: keys });
} else serve(process.env[KEYS_ENV] ? Buffer.from(process.env[KEYS_ENV], 'hex') : newTicketKeys());
