// Reads a connection's ClientHello before node:tls takes the socket, then hands every byte back.
//
// Why this way: node:tls gives no access to the ClientHello (OpenSSL's client_hello callback is
// not exposed), and a TLSSocket built on a net.Socket reads through the socket's native handle,
// not through its JavaScript stream. What Node does support is a net.Socket with data already in
// its readable buffer: the TLSSocket constructor feeds that buffer to OpenSSL first ("Socket
// already has some buffered data - emulate receiving it" in lib/_tls_wrap.js, in Node 20 and 24).
// So the bytes are read in paused mode, put back with the documented `readable.unshift()`, and
// the socket is given to the tls.Server with `emit('connection', socket)`, the documented way to
// inject a connection (net.Server 'connection' event). No private API is touched.
import { createServer, type Server, type ServerOpts, type Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { tcpOf } from '../util/node-internals.js';
import { frameClientHello, parseFramed, type ClientHelloResult, type Framing } from './client-hello.js';

export type CaptureStatus =
  /** A whole ClientHello was read; the handshake can start. */
  | 'complete'
  /** The first bytes are not a TLS handshake record: plain HTTP or another protocol. */
  | 'not_tls'
  /** A ClientHello larger than MAX_CLIENT_HELLO_BYTES, or no end to it in that many bytes. */
  | 'too_large'
  /** Framing that no TLS stack would accept (a record of the wrong type, an empty record …). */
  | 'malformed'
  /** The client sent no complete ClientHello within the time allowed. */
  | 'timeout'
  /** The client closed (or the socket failed) before a complete ClientHello. */
  | 'closed';

export interface ClientHelloCapture {
  status: CaptureStatus;
  /** Why status is not "complete", in one line. */
  reason?: string;
  /** Every byte read. Unless status is "closed", they are back in the socket's buffer. */
  bytes: Buffer;
  /** Whether `bytes` went back into the socket (false only when it had ended or failed). */
  handedBack: boolean;
  /** Milliseconds from the start of the capture to its end. */
  waitedMs: number;
  /**
   * The parsed ClientHello or the reason it could not be, parsed anew on each call (5 µs), so the
   * dozens of objects of a parse are not held for the whole life of every connection: the server
   * parses once for its metric as the capture ends (twice with the lab, to pick its listener) and
   * once more only for a JSON or HTML echo, which keeps the report it builds for the connection.
   */
  hello(): ClientHelloResult;
}

export interface CaptureOptions {
  /** Give up waiting after this long (the handshake timeout starts only after). Default 10 s. */
  timeoutMs?: number;
}

/**
 * Buffers `socket`'s first bytes until they hold a whole ClientHello (or show they never will),
 * then unshifts them so a TLS server can read them again. Never rejects. The socket must not be
 * read by anyone else meanwhile (no 'data' listener). Hand it on (emit 'connection') as soon as
 * the promise resolves, with no other await in between: the capture's 'error' listener is gone
 * by then, and the TLS socket brings its own.
 */
export function captureClientHello(
  socket: Socket,
  options: CaptureOptions = {},
): Promise<ClientHelloCapture> {
  return new Promise((resolve) => capture(socket, options, resolve));
}

const EMPTY = Buffer.alloc(0);

/** captureClientHello with a callback, called synchronously at the end: no promise per connection. */
function capture(socket: Socket, options: CaptureOptions, resolve: (c: ClientHelloCapture) => void): void {
  const started = performance.now();
  // Everything read so far, joined once per read and kept joined, so finish() has nothing to copy.
  let read: Buffer = EMPTY;
  let done = false;
  let framing: Framing | undefined;
  const finish = (status: CaptureStatus, reason?: string) => {
    if (done) return;
    done = true;
    clearTimeout(timer);
    socket.removeListener('readable', onReadable);
    socket.removeListener('end', onEnd);
    socket.removeListener('error', onError);
    socket.removeListener('close', onEnd);
    // After 'end' or an error the stream refuses unshift; the connection is over anyway.
    const handedBack = status !== 'closed' && !socket.destroyed && !socket.readableEnded;
    if (handedBack && read.length) socket.unshift(read);
    resolve({
      status,
      ...(reason === undefined ? {} : { reason }),
      bytes: read,
      handedBack,
      waitedMs: performance.now() - started,
      hello: () =>
        status === 'complete' && framing ? parseFramed(framing, read) : { unparsed: reason ?? status },
    });
  };
  const onReadable = () => {
    let chunk: Buffer | null;
    while (!done && (chunk = socket.read() as Buffer | null) !== null) {
      read = read.length === 0 ? chunk : Buffer.concat([read, chunk]);
      const f = frameClientHello(read);
      if (f.status === 'complete') {
        framing = f;
        finish('complete');
      } else if (f.status !== 'need_more') finish(f.status, f.reason);
    }
  };
  const onEnd = () =>
    finish('closed', `the client closed after ${read.length} bytes, before a complete ClientHello`);
  const onError = (err: Error) => finish('closed', `socket error after ${read.length} bytes: ${err.message}`);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const timer = setTimeout(
    () => finish('timeout', `no complete ClientHello within ${timeoutMs} ms (${read.length} bytes read)`),
    timeoutMs,
  );
  socket.on('readable', onReadable);
  socket.on('end', onEnd);
  socket.on('error', onError);
  socket.on('close', onEnd);
  // A socket accepted with pauseOnConnect has not started reading; 'readable' needs it to.
  if (!done) socket.read(0);
}

// Keyed on the TCP socket, which the TLSSocket keeps as its parent for as long as it lives.
const captures = new WeakMap<Socket, ClientHelloCapture>();

/** The capture made for the connection under `tlsSocket` by `listenWithClientHello`, if any. */
export function captureOf(tlsSocket: TLSSocket): ClientHelloCapture | undefined {
  const tcp = tcpOf(tlsSocket);
  return tcp ? captures.get(tcp) : undefined;
}

export interface FrontOptions extends CaptureOptions {
  /** net.Server options for the listening server (noDelay, keepAlive …); pauseOnConnect is always on. */
  server?: Omit<ServerOpts, 'pauseOnConnect'>;
  /**
   * Called for every capture as it ends, before the socket goes on (counting metrics belongs
   * here); returning false drops the connection instead (a server that will not wait twice).
   */
  onCapture?: (capture: ClientHelloCapture, socket: Socket) => boolean | void;
}

/**
 * A net.Server whose connections are captured and then handed to `tlsServer` (which must not
 * listen itself), or to the TLS server it picks for the capture: listen on the returned server
 * instead. Connections that closed during the capture are destroyed (onCapture has seen them);
 * all others, plain HTTP included, go on to the TLS server, whose handshake sees every byte the
 * client sent.
 */
export function listenWithClientHello(
  tlsServer: TlsServer | ((capture: ClientHelloCapture) => TlsServer),
  options: FrontOptions = {},
): Server {
  const pick = typeof tlsServer === 'function' ? tlsServer : () => tlsServer;
  return createServer({ ...options.server, pauseOnConnect: true }, (socket) => {
    capture(socket, options, (c) => {
      const go = options.onCapture?.(c, socket);
      if (!c.handedBack || go === false) {
        socket.destroy();
        return;
      }
      captures.set(socket, c);
      pick(c).emit('connection', socket);
    });
  });
}
