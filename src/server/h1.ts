// HTTP/1.x on the HTTPS port: node:http (llhttp, strict: no insecureHTTPParser) parses every
// request; the TLS listener hands it each connection that negotiated http/1.1 or no ALPN through
// the 'connection' event. On top of llhttp this engine applies what RFC 9112 asks of a server and
// node:http leaves to the application:
// - 501 for a transfer coding other than chunked (§6.1), 400 for more than one Host or an invalid
//   one (§3.2), an absolute-form target served as its path (§3.2.2);
// - bodies read up to --max-body-size, 413 beyond (and for a larger Content-Length, before any of
//   it is read; `Expect: 100-continue` gets its 100 only when the body may come);
// - --keep-alive-timeout counted from the last answer and not reset by bytes that start no
//   request (llhttp skips empty lines between requests; node:http would let them keep an idle
//   connection forever);
// - graceful stop without losing a request already on the wire (closeQuiet).
import http from 'node:http';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { checkInterval, idleSweep, type Connection } from './connection.js';
import { plainIp } from './facts.js';
import { keepsAlive, responseInProgress, startConnectionTracking } from '../util/node-internals.js';
import type { Observe } from './observe.js';
import { parseTarget, validHost, type EchoRequest, type HttpVersion } from './request.js';
import { refusal, route, tooLarge, type Answer } from './routes.js';
import type { ServerContext } from './state.js';

/** How long a refused request's remaining bytes are read (and dropped) before the connection goes. */
const LINGER_MS = 1000;

const CLIENT_ERRORS: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
  HPE_INVALID_VERSION: [505, 'HTTP Version Not Supported'],
  // A transfer coding llhttp does not know (nginx answers 501 too); with Content-Length it is 400.
  HPE_INVALID_TRANSFER_ENCODING: [501, 'Not Implemented'],
};

/** The status and reason node:http's client errors get (llhttp's codes, 400 for the rest). */
export function clientErrorStatus(err: { code?: string; reason?: string }): [number, string] {
  if (err.code === 'HPE_INVALID_TRANSFER_ENCODING' && /content-length/i.test(err.reason ?? ''))
    return [400, 'Bad Request'];
  return CLIENT_ERRORS[err.code ?? ''] ?? [400, 'Bad Request'];
}

/**
 * Answers a request node:http refused before it became one (malformed, oversized, too slow), then
 * closes; shared by both ports. An answer still being written to an earlier request on the
 * connection goes out first. Returns the status, or 0 when nothing can be written.
 */
export function answerClientError(err: NodeJS.ErrnoException & { reason?: string }, socket: Socket): number {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return 0;
  }
  const [status, reason] = clientErrorStatus(err);
  const write = () => endWithAnswer(socket, status, reason, `${status} ${reason}\n`);
  const earlier = responseInProgress(socket);
  if (!earlier) write();
  else {
    earlier.once('finish', write);
    setTimeout(() => socket.destroy(), LINGER_MS).unref(); // a client that never reads it
  }
  return status;
}

/**
 * Writes an answer straight to a socket node:http no longer serves (a client error, CONNECT) and
 * closes it: after LINGER_MS at the latest, so the answer can reach the client first.
 */
function endWithAnswer(socket: Socket, status: number, reason: string, body: string, extra = ''): void {
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n${extra}content-type: text/plain; charset=utf-8\r\ncache-control: no-store\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

export interface H1Engine {
  readonly server: http.Server;
  serve(socket: TLSSocket, c: Connection): void;
  /** Closes connections with nothing asked of them for at least `quietMs` (graceful stop). */
  closeQuiet(quietMs: number): void;
  closeAll(): void;
  /** Stops the engine's timers once its connections are gone. */
  dispose(): void;
  readonly open: number;
}

export function createH1(ctx: ServerContext, observe: Observe): H1Engine {
  const s = ctx.settings;
  const server = http.createServer({
    maxHeaderSize: s.maxHeaderSize,
    // Checked here instead, so that the refusal is counted, logged and says what was missing.
    requireHostHeader: false,
    headersTimeout: s.headerTimeoutMs,
    requestTimeout: s.requestTimeoutMs,
    // The keep-alive timeout is this engine's (the sweep below): node:http's would be reset by
    // any byte, and costs a socket timer set after every answer and cleared at the next request.
    keepAliveTimeout: 0,
    connectionsCheckingInterval: checkInterval(s.headerTimeoutMs),
  });
  startConnectionTracking(server);
  const conns = new Map<TLSSocket, Connection>();

  server.on('clientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const status = answerClientError(err, socket);
    if (status === 0) return;
    const c = conns.get(socket);
    ctx.logger.info(
      { client: c?.facts.clientIp ?? plainIp(socket.remoteAddress), code: err.code, status },
      'rejected request on https port',
    );
    ctx.metrics.requests.inc({
      route: 'other',
      status: String(status),
      server_name: c?.facts.serverNameLabel ?? 'n/a',
    });
  });

  const send = (
    c: Connection,
    req: http.IncomingMessage,
    res: http.ServerResponse,
    a: Answer,
    r: EchoRequest | undefined,
    start: number,
  ) => {
    const close = a.close === true || ctx.shuttingDown;
    // node:http only reads the list: an answer's own one is built once and reused.
    const base = (a.h1Headers ??= [...a.headers, 'content-length', String(Buffer.byteLength(a.body))]);
    // keepsAlive() is node:http's decision before writeHead, which may still close when a
    // request expected 100-continue and got none: every such answer here closes (413, refusals).
    res.writeHead(
      a.status,
      close ? [...base, 'connection', 'close'] : keepsAlive(res) ? keepAliveList(a, base) : base,
    );
    res.end(req.method === 'HEAD' ? undefined : a.body);
    const end = performance.now();
    // Idle from the moment its last answer is handed to node:http (a listener on the answer's
    // 'finish' per request cost more than the rest of this bookkeeping together).
    if (--c.active === 0) c.idleSince = end;
    observe(c, req.method ?? 'UNKNOWN', r?.path ?? req.url ?? '', a.status, a.route, start, end);
    if (a.close) lingerAndClose(req);
  };

  // What node:http's own keep-alive timeout would announce: a client (Node's agent among them)
  // then stops reusing a connection before the server closes it.
  const keepAliveList = (a: Answer, base: string[]) => {
    if (s.keepAliveTimeoutMs <= 0) return base;
    if (a.h1KeepAlive?.timeoutMs !== s.keepAliveTimeoutMs)
      a.h1KeepAlive = {
        timeoutMs: s.keepAliveTimeoutMs,
        list: [...base, 'keep-alive', `timeout=${Math.floor(s.keepAliveTimeoutMs / 1000)}`],
      };
    return a.h1KeepAlive.list;
  };

  const handle = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const start = performance.now();
    const socket = req.socket as TLSSocket;
    const c = conns.get(socket);
    if (!c) return void socket.destroy(); // cannot happen: every socket came through serve()
    c.active++;

    const refuse = (status: number, reason: string) =>
      send(c, req, res, refusal(status, reason), undefined, start);
    if (req.httpVersionMajor !== 1)
      return refuse(505, 'HTTP Version Not Supported: use HTTP/1.1 or HTTP/2 (ALPN h2)');
    const te = req.headers['transfer-encoding'];
    if (te !== undefined && te.trim().toLowerCase() !== 'chunked')
      return refuse(501, `Not Implemented: transfer coding ${JSON.stringify(te)} (only chunked is)`);
    const raw = req.rawHeaders;
    let hosts = 0;
    for (let i = 0; i < raw.length; i += 2)
      if (raw[i]!.length === 4 && raw[i]!.toLowerCase() === 'host') hosts++;
    if (hosts > 1) return refuse(400, 'Bad Request: more than one Host header');
    if (hosts === 0 && req.httpVersionMinor === 1)
      return refuse(400, 'Bad Request: HTTP/1.1 requires a Host header');
    const host = req.headers.host;
    if (host !== undefined && host !== c.validHost) {
      if (!validHost(host)) return refuse(400, 'Bad Request: invalid Host header');
      c.validHost = host; // a keep-alive client sends the same Host again: checked once
    }

    const target = parseTarget(req.url ?? '/');
    const request: EchoRequest = {
      method: req.method ?? 'UNKNOWN',
      target: req.url ?? '/',
      path: target.path,
      query: target.query,
      httpVersion: (req.httpVersion === '1.0' ? '1.0' : '1.1') as HttpVersion,
      headers: raw,
      host: target.authority ?? host,
      accept: req.headers.accept,
      body: undefined,
    };
    const answer = () => send(c, req, res, route(request, c, ctx.served, s.echoBodyLimit), request, start);

    const length = req.headers['content-length'];
    if (te === undefined && (length === undefined || length === '0')) return answer();
    const refuseTooLarge = () => send(c, req, res, tooLarge(s.maxBodySize), undefined, start);
    if (length !== undefined && Number(length) > s.maxBodySize) return refuseTooLarge();
    readBody(req, s.maxBodySize).then(
      (body) => {
        if (body === undefined) return refuseTooLarge();
        request.body = body;
        answer();
      },
      () => socket.destroy(),
    );
  };

  server.on('request', handle);
  // CONNECT asks for a tunnel, which an echo server does not offer (node:http hands it over raw).
  server.on('connect', (_req: http.IncomingMessage, socket: Socket) => {
    endWithAnswer(
      socket,
      405,
      'Method Not Allowed',
      '405 Method Not Allowed: CONNECT (this is not a proxy)\n',
      'allow: GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS\r\n',
    );
  });
  // Expect: 100-continue: the client waits for the 100 before sending its body, so a body too
  // large is refused before it is sent.
  server.on('checkContinue', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length <= s.maxBodySize) res.writeContinue();
    handle(req, res);
  });

  // --keep-alive-timeout, counted from each connection's last answer.
  const sweep = idleSweep(s.keepAliveTimeoutMs, (now) => {
    for (const [socket, c] of conns)
      if (c.active === 0 && c.idleSince !== 0 && now - c.idleSince > s.keepAliveTimeoutMs && drained(socket))
        closeSocket(socket);
  });

  return {
    server,
    serve(socket, c) {
      conns.set(socket, c);
      socket.once('close', () => conns.delete(socket));
      server.emit('connection', socket);
    },
    closeQuiet(quietMs) {
      const now = performance.now();
      for (const [socket, c] of conns) {
        const since = c.quietSince();
        if (since !== 0 && now - since >= quietMs && drained(socket)) closeSocket(socket);
      }
    },
    closeAll() {
      for (const socket of conns.keys()) socket.destroy();
    },
    dispose() {
      clearInterval(sweep);
      // close() also stops node:http's timeout checks; the server never listened, so it reports
      // that it was not running, which is expected.
      server.close(() => {});
    },
    get open() {
      return conns.size;
    },
  };
}

/**
 * Whether the last answer has left: a connection counts as idle from the moment its answer is
 * handed to node:http, so one to a client that reads slowly may still be on its way (and a
 * pipelined request behind it unread).
 */
function drained(socket: TLSSocket): boolean {
  return socket.writableLength === 0 && responseInProgress(socket) === undefined;
}

/** Ends a connection between requests: close_notify and FIN, then gone after a moment at most. */
function closeSocket(socket: TLSSocket): void {
  if (socket.destroyed) return;
  socket.end();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}

/** The whole body, or undefined once it grows past `max` (the rest is then never kept). */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.off('data', onData);
        req.off('end', onEnd);
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', reject);
  });
}

/**
 * After refusing a request whose body may still be arriving: keep reading and dropping it for a
 * moment, so that closing with unread data does not reset the connection before the client has
 * read the refusal (RFC 9112 §9.6), then close.
 */
function lingerAndClose(req: http.IncomingMessage): void {
  req.on('data', () => {});
  req.resume();
  setTimeout(() => req.socket.destroy(), LINGER_MS).unref();
}
