// Real clients for the server tests: HTTPS requests with verification on (trusting only the
// test root), raw TLS and TCP sockets for the misbehaving-client cases.
import { once } from 'node:events';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  peerFingerprint?: string;
  session?: Buffer;
}

export interface HttpsRequest {
  port: number;
  ca: string;
  /** SNI and Host name; omitted = connect by IP, which sends no SNI. */
  servername?: string;
  path?: string;
  method?: string;
  headers?: http.OutgoingHttpHeaders;
  cert?: string;
  key?: string;
  session?: Buffer;
  /** More TLS options (cipher suites, groups, ALPN list …), over the defaults above. */
  tls?: tls.ConnectionOptions;
}

/** One request on a fresh verified TLS connection to 127.0.0.1 (no agent, no reuse). */
export function httpsGet(r: HttpsRequest): Promise<Reply> {
  return new Promise((resolve, reject) => {
    let session: Buffer | undefined;
    const req = https.request(
      {
        host: '127.0.0.1',
        port: r.port,
        servername: r.servername ?? '',
        path: r.path ?? '/',
        method: r.method ?? 'GET',
        headers: { ...(r.servername ? { host: `${r.servername}:${r.port}` } : {}), ...r.headers },
        ca: r.ca,
        cert: r.cert,
        key: r.key,
        session: r.session,
        ALPNProtocols: ['http/1.1'],
        agent: false,
        timeout: 5000,
        // Verification stays on: the server certificate must chain to `ca` and match the name
        // (or 127.0.0.1 when no name is sent).
        checkServerIdentity: (_host: string, cert: tls.PeerCertificate) =>
          tls.checkServerIdentity(r.servername ?? '127.0.0.1', cert),
        ...r.tls,
      } as https.RequestOptions & tls.ConnectionOptions,
      (res) => {
        const socket = res.socket as tls.TLSSocket;
        const peerFingerprint = socket.getPeerCertificate().fingerprint256;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, peerFingerprint, session }),
        );
      },
    );
    req.on('socket', (s: tls.TLSSocket) => s.on('session', (sess: Buffer) => (session = sess)));
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** A plain HTTP request (to the HTTP port, or deliberately to the HTTPS one). */
export function httpGet(port: number, path: string, headers: http.OutgoingHttpHeaders = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, headers, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
  });
}

/** Sends raw bytes over TCP; resolves with everything received until the server closes (bounded). */
export async function rawExchange(
  port: number,
  bytes: Buffer | string,
  opts: { waitMs?: number; keepOpen?: boolean } = {},
): Promise<{ received: string; closedByServer: boolean; elapsedMs: number }> {
  const start = Date.now();
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  let received = '';
  socket.on('data', (d: Buffer) => (received += d.toString('latin1')));
  socket.on('error', () => {});
  socket.write(bytes);
  if (!opts.keepOpen) socket.end();
  const closed = once(socket, 'close').then(() => true);
  const timeout = new Promise<false>((r) => setTimeout(() => r(false), opts.waitMs ?? 5000));
  const closedByServer = await Promise.race([closed, timeout]);
  socket.destroy();
  return { received, closedByServer, elapsedMs: Date.now() - start };
}

/** Plain-text body of a metric line `name{labels} value`, or 0 when absent. */
export function metricValue(text: string, name: string, labels: Record<string, string>): number {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (want.every((w) => line.includes(w))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return 0;
}

/**
 * A verified HTTP/2 session to 127.0.0.1 with `servername` as SNI and `:authority` (the test names
 * resolve to loopback here; the certificate is still checked against the name). Session errors
 * (a GOAWAY with an error code) are left to the caller's 'goaway' and 'close' listeners.
 */
export function h2Session(
  port: number,
  ca: string,
  servername: string,
  extra: tls.ConnectionOptions = {},
): { session: http2.ClientHttp2Session; socket: () => tls.TLSSocket | undefined } {
  let socket: tls.TLSSocket | undefined;
  const session = http2.connect(`https://${servername}:${port}`, {
    createConnection: () =>
      (socket = tls.connect({ host: '127.0.0.1', port, servername, ca, ALPNProtocols: ['h2'], ...extra })),
  });
  session.on('error', () => {});
  return { session, socket: () => socket };
}
