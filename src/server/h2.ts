// HTTP/2 on the HTTPS port: node:http2 (nghttp2) runs each session on a TLS connection that
// negotiated h2, handed over by the TLS listener through the server's 'connection' event. nghttp2
// enforces the protocol (frames, HPACK, flow control, stream states; its reset-flood limit
// answers CVE-2023-44487 with GOAWAY); this engine adds what the echo needs:
// - 421 Misdirected Request when a stream's :authority is not covered by the certificate this
//   connection was opened with (RFC 9110 §15.5.20): a coalescing client then opens a new one;
// - bodies read up to --max-body-size, 413 beyond, then RST_STREAM(NO_ERROR) so the client stops
//   sending (RFC 9113 §8.1);
// - idle sessions closed with GOAWAY after --keep-alive-timeout; graceful stop by GOAWAY, letting
//   open streams finish.
import http2 from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { idleSweep, type Connection } from './connection.js';
import type { Observe } from './observe.js';
import { hostOnly, parseTarget, type EchoRequest } from './request.js';
import { misdirected, route, tooLarge, type Answer } from './routes.js';
import type { ServerContext } from './state.js';

const { NGHTTP2_NO_ERROR } = http2.constants;

export interface H2Engine {
  readonly server: http2.Http2Server;
  serve(socket: TLSSocket, c: Connection): void;
  /** GOAWAY to every session: no new streams, open ones finish (graceful stop). */
  closeGracefully(): void;
  closeAll(): void;
  /** Stops the engine's timer once its sessions are gone. */
  dispose(): void;
  readonly open: number;
}

/**
 * Whether `respond()` takes the headers as a flat list ([name, value, …], documented in Node 24).
 * The object form is copied into a null-prototype object for every response: with an answer's
 * five headers, preparing the list costs about a third as much (docs/performance.md). Used from
 * 24.22, the release checked here; earlier 24.x releases (the list came in one of them), Node 22
 * and Node 20 keep the object form.
 */
const [NODE_MAJOR = 0, NODE_MINOR = 0] = process.versions.node.split('.').map(Number);
const RESPOND_TAKES_LIST = NODE_MAJOR > 24 || (NODE_MAJOR === 24 && NODE_MINOR >= 22);

/** An answer's headers for `respond()`, built once per answer. */
function responseHead(a: Answer, length: number): http2.OutgoingHttpHeaders {
  if (RESPOND_TAKES_LIST) {
    a.h2List ??= [':status', String(a.status), ...a.headers, 'content-length', String(length)];
    // A copy each time: respond() appends the date to the list it is given.
    return a.h2List.slice() as unknown as http2.OutgoingHttpHeaders;
  }
  if (a.h2Head) return a.h2Head;
  const head: http2.OutgoingHttpHeaders = { ':status': a.status };
  for (let i = 0; i < a.headers.length; i += 2) head[a.headers[i]!] = a.headers[i + 1]!;
  head['content-length'] = length;
  return (a.h2Head = head);
}

const END_STREAM = { endStream: true };
const ignore = () => {};
const MORE = { endStream: false };

export function createH2(ctx: ServerContext, observe: Observe): H2Engine {
  const s = ctx.settings;
  const server = http2.createServer({
    settings: { maxConcurrentStreams: s.maxConcurrentStreams, maxHeaderListSize: s.maxHeaderSize },
    // Node's default (128 pairs) stays; --max-header-size bounds the bytes.
  });
  const sessions = new Map<http2.ServerHttp2Session, Connection>();
  let pending: Connection | undefined;

  // Emitted synchronously from the 'connection' event, so `pending` is this session's connection.
  server.on('session', (session: http2.ServerHttp2Session) => {
    if (!pending) return void session.destroy();
    sessions.set(session, pending);
    pending = undefined;
    session.once('close', () => sessions.delete(session));
    session.on('error', () => {}); // protocol errors end the session; nghttp2 sent the GOAWAY
    if (ctx.shuttingDown) session.close();
  });

  // Idle sessions (no stream open, none begun for --keep-alive-timeout) end with GOAWAY, found by
  // one timer for all, as HTTP/1's are: session.setTimeout() would refresh a timer on every frame.
  const sweep = idleSweep(s.keepAliveTimeoutMs, (now) => {
    for (const [session, c] of sessions)
      if (c.active === 0 && now - (c.idleSince || c.openedAt) > s.keepAliveTimeoutMs && !session.closed)
        session.close();
  });

  /** Writes the answer and observes it; returns when it was written. */
  const send = (stream: http2.ServerHttp2Stream, c: Connection, r: EchoRequest, a: Answer, start: number) => {
    if (stream.destroyed || stream.closed) return performance.now();
    const head = r.method === 'HEAD';
    stream.respond(responseHead(a, Buffer.byteLength(a.body)), head ? END_STREAM : MORE);
    if (!head) stream.end(a.body);
    const end = performance.now();
    observe(c, r.method, r.path, a.status, a.route, start, end);
    if (a.close && !stream.readableEnded) stream.close(NGHTTP2_NO_ERROR);
    return end;
  };

  server.on(
    'stream',
    (
      stream: http2.ServerHttp2Stream,
      headers: http2.IncomingHttpHeaders,
      flags: number,
      rawHeaders: string[],
    ) => {
      const start = performance.now();
      stream.on('error', ignore); // a reset by the client: nothing left to answer
      const c = sessions.get(stream.session as http2.ServerHttp2Session);
      if (!c) return void stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      c.active++;
      let answered = false;
      const method = String(headers[':method'] ?? 'GET');
      const targetText = String(headers[':path'] ?? headers[':authority'] ?? '');
      const target = parseTarget(targetText);
      const host = (headers[':authority'] as string | undefined) ?? (headers.host as string | undefined);
      const request: EchoRequest = {
        method,
        target: targetText,
        path: target.path,
        query: target.query,
        httpVersion: '2',
        headers: rawHeaders,
        host,
        accept: headers.accept as string | undefined,
        body: undefined,
        streamId: stream.id,
      };
      const reply = (a: Answer) => {
        answered = true;
        const end = send(stream, c, request, a, start);
        if (--c.active === 0) c.idleSince = end;
      };
      const ended = (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0;
      const served = ctx.served;
      // A session mostly asks for one :authority: checked against the certificate once.
      if (host !== undefined && (c.covered?.host !== host || c.covered.served !== served)) {
        const name = hostOnly(host);
        // (a body on its way is then refused by nghttp2: RST_STREAM(NO_ERROR), RFC 9113 §8.1)
        if (!served.covers(name)) return reply(misdirected(name));
        c.covered = { host, served };
      }
      const answer = () => reply(route(request, c, served, s.echoBodyLimit));
      if (ended) return answer();
      if (Number(headers['content-length'] ?? 0) > s.maxBodySize) return reply(tooLarge(s.maxBodySize));

      const chunks: Buffer[] = [];
      let size = 0;
      const timer = setTimeout(
        () => stream.close(http2.constants.NGHTTP2_CANCEL),
        s.requestTimeoutMs,
      ).unref();
      stream.on('data', (chunk: Buffer) => {
        if (size > s.maxBodySize) return;
        size += chunk.length;
        if (size > s.maxBodySize) return reply(tooLarge(s.maxBodySize));
        chunks.push(chunk);
      });
      stream.on('end', () => {
        clearTimeout(timer);
        if (size > s.maxBodySize) return;
        request.body = Buffer.concat(chunks, size);
        answer();
      });
      stream.once('close', () => {
        clearTimeout(timer);
        // Reset or timed out before its answer: the stream no longer keeps the session busy.
        if (!answered && --c.active === 0) c.idleSince = performance.now();
      });
    },
  );

  return {
    server,
    serve(socket, c) {
      pending = c;
      server.emit('connection', socket);
      pending = undefined;
    },
    closeGracefully() {
      for (const session of sessions.keys()) if (!session.closed) session.close();
    },
    closeAll() {
      for (const session of sessions.keys()) session.destroy();
    },
    dispose() {
      clearInterval(sweep);
    },
    get open() {
      return sessions.size;
    },
  };
}
