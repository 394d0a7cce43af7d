// The bench's third server: the least a node:tls server can do for the bench's requests, to show
// how much of tlsecho's cost is Node's own. tlsecho's TLS settings, shared ticket keys and ticket
// renewal, the same process count; per request only a fixed answer: no HTTP parser (a request is
// taken to end each chunk, as wrk writes them), no facts, metrics or log.
//   node node-floor-server.js <port> <cert> <key> <processes>
import cluster from 'node:cluster';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { renewTicketsOnResume } from '../src/server/ticket-renewal.js';
import { newTicketKeys, tlsServerOptions } from '../src/server/tls-context.js';

const [port, certFile, keyFile, processes] = process.argv.slice(2);
const KEYS_ENV = 'TLSECHO_FLOOR_TICKET_KEYS';

function answer(body: string, close: boolean): Buffer {
  return Buffer.from(
    `HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\n` +
      `${close ? 'connection: close\r\n' : ''}\r\n${body}`,
  );
}

function serve(ticketKeys: Buffer): void {
  const cert = readFileSync(certFile!, 'utf8');
  const key = readFileSync(keyFile!, 'utf8');
  const server = tls.createServer(
    tlsServerOptions({ cert, key }, ticketKeys, { handshakeTimeoutMs: 10_000, alpn: ['http/1.1'] }),
  );
  renewTicketsOnResume(server, ticketKeys);
  const pong = [answer('pong\n', false), answer('pong\n', true)];
  server.on('secureConnection', (socket) => {
    const echo = `Client connection from ${socket.remoteAddress} to server ${socket.servername}\n`;
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
  server.listen(Number(port), '127.0.0.1');
}

const count = Number(processes);
if (count > 1 && cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_NONE; // as tlsecho: workers accept themselves
  const keys = newTicketKeys().toString('hex');
  for (let i = 0; i < count; i++) cluster.fork({ [KEYS_ENV]: keys });
} else serve(process.env[KEYS_ENV] ? Buffer.from(process.env[KEYS_ENV], 'hex') : newTicketKeys());
