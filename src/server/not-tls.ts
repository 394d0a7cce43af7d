// What reaches the HTTPS port without a TLS handshake. OpenSSL itself recognizes a plain HTTP
// request where a TLS record should start (ERR_SSL_HTTP_REQUEST, the check nginx relies on for
// its "400 The plain HTTP request was sent to HTTPS port"), and sends no alert for it; the
// answer then goes in clear text on the connection underneath the TLS socket. Nothing is looked
// at before TLS, so a normal connection pays nothing for this.
import type { TLSSocket } from 'node:tls';
import { tcpOf } from '../util/node-internals.js';

export type NotTls = 'plain_http' | 'not_tls' | 'no_data';

/** Why a connection that failed its handshake was not TLS at all, or undefined when it was. */
export function notTlsReason(err: NodeJS.ErrnoException, socket: TLSSocket): NotTls | undefined {
  if (err.code === 'ERR_SSL_HTTP_REQUEST' || err.code === 'ERR_SSL_HTTPS_PROXY_REQUEST') return 'plain_http';
  // A TLS record header carries version 3.x; anything else is some other protocol.
  if (err.code === 'ERR_SSL_WRONG_VERSION_NUMBER') return 'not_tls';
  // Connected and closed or timed out without a byte (TCP probes, port scans).
  if (tcpOf(socket)?.bytesRead === 0) return 'no_data';
  return undefined;
}

function badRequest(httpPort: number): string {
  const body =
    '400 Bad Request: the plain HTTP request was sent to the HTTPS port. Use https:// here; ' +
    `the root CA to trust is served over plain HTTP on port ${httpPort} at /root_ca\n`;
  return (
    'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * Answers a plain HTTP request on the HTTPS port with a clear-text 400 and closes the
 * connection; false when the TCP connection is not reachable (the caller then just closes).
 */
export function answerPlainHttp(socket: TLSSocket, httpPort: number): boolean {
  const tcp = tcpOf(socket);
  if (!tcp?.writable) return false;
  tcp.end(badRequest(httpPort));
  // The rest of the request is never read; give the answer a moment to leave before the reset.
  setTimeout(() => socket.destroy(), 1000).unref();
  return true;
}
