// Looks at the first byte of each connection to the HTTPS port before TLS sees it. A TLS
// handshake starts with 0x16 (a handshake record); anything else gets a clear plain-text 400,
// as nginx answers "400 The plain HTTP request was sent to HTTPS port", instead of a hang or reset.
import type { Socket } from 'node:net';
import type { Server as TlsServer } from 'node:tls';

const TLS_HANDSHAKE_RECORD = 0x16;

export type NotTls = 'plain_http' | 'not_tls' | 'no_data';

function badRequest(httpPort: number): Buffer {
  // (built per rejection: the plain-HTTP port is known only once it is bound)
  const body =
    '400 Bad Request: the plain HTTP request was sent to the HTTPS port. Use https:// here; ' +
    `the root CA to trust is served over plain HTTP on port ${httpPort} at /root_ca\n`;
  return Buffer.from(
    'HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * Puts the sniffer in front of the TLS server's own connection handling. `firstByteTimeoutMs`
 * bounds how long a silent connection may sit before it is dropped.
 */
export function sniffTls(
  server: TlsServer,
  opts: {
    httpPort: () => number;
    firstByteTimeoutMs: number;
    onReject: (socket: Socket, why: NotTls) => void;
  },
): void {
  const tlsListeners = server.listeners('connection') as ((socket: Socket) => void)[];
  server.removeAllListeners('connection');

  server.on('connection', (socket: Socket) => {
    const timer = setTimeout(() => {
      opts.onReject(socket, 'no_data');
      socket.destroy();
    }, opts.firstByteTimeoutMs);
    const onError = () => clearTimeout(timer); // resets before the first byte: nothing to do
    socket.on('error', onError);
    socket.once('close', () => clearTimeout(timer));
    socket.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      socket.pause();
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE_RECORD) {
        void socket.remoteAddress; // cached now, so a failed handshake can still name the client
        socket.off('error', onError);
        for (const listener of tlsListeners) listener.call(server, socket);
        return;
      }
      // An HTTP request starts with a method token in capitals; anything else is just not TLS.
      opts.onReject(
        socket,
        /^[A-Z]{3,10} /.test(chunk.subarray(0, 11).toString('latin1')) ? 'plain_http' : 'not_tls',
      );
      socket.resume(); // read and discard the rest so closing does not reset before the answer arrives
      socket.end(badRequest(opts.httpPort()));
      setTimeout(() => socket.destroy(), 2000).unref();
    });
  });
}
