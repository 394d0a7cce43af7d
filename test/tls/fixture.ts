// A TLS test server built the way the echo is meant to be: node:http2's secure server (HTTP/1.1
// allowed, so every client fits) behind listenWithClientHello, on loopback. It records, per
// connection, the capture and what the handshake negotiated, so tests compare both sides.
import type { AddressInfo, Socket } from 'node:net';
import { createSecureServer } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { answerPlainHttp, notTlsReason } from '../../src/server/not-tls.js';
import { tcpOf } from '../../src/util/node-internals.js';
import { captureOf, listenWithClientHello, type ClientHelloCapture } from '../../src/tls/capture.js';
import type { ClientHello } from '../../src/tls/client-hello.js';
import type { TestPki } from '../helpers/pki.js';
import { parsedOf } from './hello-builder.js';

export interface Negotiated {
  version: string | null;
  cipher: string;
  alpn: string | false | null;
  resumed: boolean;
  servername: string | false | null;
}

export interface Seen {
  capture: ClientHelloCapture;
  /** The client's port: which of many concurrent connections this is. */
  remotePort: number | undefined;
  /** Resolves when the handshake ended either way (or at once for a closed capture). */
  settled: Promise<{
    negotiated?: Negotiated;
    /** What captureOf() found for the TLS socket: must be `capture` itself. */
    lookedUp?: ClientHelloCapture;
    tlsError?: string;
    notTls?: string;
  }>;
}

export interface HelloServer {
  port: number;
  seen: Seen[];
  /** The n-th connection (0-based), once it exists, within 10 s. */
  connection(n: number): Promise<Seen>;
  close(): Promise<void>;
}

export async function startHelloServer(pki: TestPki, timeoutMs = 5000): Promise<HelloServer> {
  const seen: Seen[] = [];
  const settle = new Map<Socket, (v: Awaited<Seen['settled']>) => void>();
  const tlsServer = createSecureServer(
    { key: pki.keyPem, cert: pki.certPem, allowHTTP1: true },
    (req, res) => {
      res.setHeader('content-type', 'text/plain');
      res.end(`hello over ${req.httpVersion}\n`);
    },
  );
  tlsServer.on('secureConnection', (socket: TLSSocket) => {
    const parent = tcpOf(socket)!;
    settle.get(parent)?.({
      negotiated: {
        version: socket.getProtocol(),
        cipher: socket.getCipher().standardName,
        alpn: socket.alpnProtocol,
        resumed: socket.isSessionReused(),
        servername: socket.servername,
      },
      lookedUp: captureOf(socket),
    });
  });
  tlsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const parent = tcpOf(socket)!;
    const notTls = notTlsReason(err, socket);
    settle.get(parent)?.({ tlsError: err.code ?? err.message, ...(notTls ? { notTls } : {}) });
    if (notTls === 'plain_http') answerPlainHttp(socket, 8080);
    else socket.destroy();
  });
  const front = listenWithClientHello(tlsServer, {
    timeoutMs,
    onCapture: (capture, socket) => {
      const settled = new Promise<Awaited<Seen['settled']>>((resolve) => settle.set(socket, resolve));
      if (!capture.handedBack) settle.get(socket)!({});
      seen.push({ capture, settled, remotePort: socket.remotePort });
    },
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  return {
    port: (front.address() as AddressInfo).port,
    seen,
    async connection(n) {
      for (const deadline = Date.now() + 10_000; Date.now() < deadline;) {
        if (seen[n]) return seen[n];
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error(`no connection #${n} within 10 s (${seen.length} seen)`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        front.close(() => resolve());
        front.unref();
      }),
  };
}

/** The parsed ClientHello a connection's capture holds (the test fails if it holds none). */
export const helloOf = (seen: Seen): ClientHello =>
  parsedOf(seen.capture.hello(), `status ${seen.capture.status}`);
