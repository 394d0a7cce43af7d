// HTTP/1.1 on the TLS port, without node:http. The echo's answers are small, synchronous and
// never need a request body, yet node:http spent about half of each keep-alive request's CPU on
// its own machinery (IncomingMessage and ServerResponse streams, events, header objects): see
// docs/performance.md. Here http-parser-js parses the request head and this module applies the
// connection rules of RFC 9112 that the echo needs:
// - keep-alive by the request's version and Connection header, pipelined requests answered in order;
// - a request that carries a body (or asks to upgrade) is answered and its connection closed, so a
//   body is never read and never mistaken for the next request (no smuggling, no buffering);
// - 400 for a malformed head, 431 over --max-header-size, 505 for a version other than 1.x,
//   400 for HTTP/1.1 without Host, 408 after --header-timeout, idle connections closed after
//   --keep-alive-timeout, back-pressure when a client stops reading;
// - graceful stop: idle connections close at once, a request under way gets its answer with
//   `connection: close`;
// - after the answer to `connection: close` (or HTTP/1.0) the connection closes as soon as the
//   answer is out; where the client may still be sending, the server only ends its side and
//   waits for the client's (a lingering close, cut after a second).
import { STATUS_CODES } from 'node:http';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import { HTTPParser } from 'http-parser-js';

export interface Http1Request {
  method: string;
  /** The request target as sent (`/`, `/ping?x`). */
  url: string;
  host: string | undefined;
  accept: string | undefined;
}

export interface Http1Response {
  status: number;
  /** Header lines built once with headerBlock(); content-length, date and connection are added. */
  head: string;
  body: Buffer;
}

/** Serializes header pairs once: `name: value\r\n…` (names as given, lowercase by convention). */
export function headerBlock(pairs: readonly string[]): string {
  let out = '';
  for (let i = 0; i < pairs.length; i += 2) out += `${pairs[i]}: ${pairs[i + 1]}\r\n`;
  return out;
}

export type Http1Handler = (req: Http1Request, socket: TLSSocket) => Http1Response;

/** Why a request got no handler answer; `status` is what the client was sent. */
export interface Http1Rejection {
  status: number;
  code: string;
}

export interface Http1Options {
  handler: Http1Handler;
  maxHeaderSize: number;
  headerTimeoutMs: number;
  /** 0 = no limit. */
  keepAliveTimeoutMs: number;
  /** True once the server is stopping: every answer then closes its connection. */
  stopping: () => boolean;
  onRejected: (socket: TLSSocket, r: Http1Rejection) => void;
}

// The parts of http-parser-js's parser this module reads (its instances are plain objects).
interface HeadInfo {
  method: number;
  url: string;
  versionMajor: number;
  versionMinor: number;
  headers: string[];
  upgrade: boolean;
  shouldKeepAlive: boolean;
}
interface Parser {
  maxHeaderSize: number;
  state: string;
  line: string;
  execute(chunk: Buffer): number | Error;
  [HTTPParser.kOnHeadersComplete]: (info: HeadInfo) => number | void;
}

const METHODS: readonly string[] = HTTPParser.methods;
/** Returned from the head callback: stop parsing this connection (it closes after the answer). */
const STOP_PARSING = 2;

interface Connection {
  socket: TLSSocket;
  parser: Parser;
  /** When the request head now arriving began (ms since epoch); 0 between requests. */
  headSince: number;
  /** When the connection last went idle (ms since epoch). */
  idleSince: number;
  /** Answers produced by the current chunk, written together. */
  out: Buffer[];
  /** No more requests: the connection ends once what is queued is written. */
  closing: boolean;
  /**
   * The client may still be sending (a body, bytes after the last request, an idle connection):
   * the server then only ends its side and waits for the client's, so that closing with unread
   * data does not reset the connection before the client has read the answer (RFC 9112 §9.6).
   * Otherwise the connection is closed as soon as the answer is out, as nginx does.
   */
  linger: boolean;
  /** When the server ended its side (ms since epoch); the sweep cuts a client that lingers. */
  endedAt: number;
  /** The last answer's bytes: a keep-alive client asking the same again within the second gets them. */
  last: Answer | undefined;
}

interface Answer {
  res: Pick<Http1Response, 'status' | 'head' | 'body'>;
  date: string;
  /** Bits: 1 connection: close, 2 HTTP/1.0 keep-alive, 4 HEAD (no body). */
  form: number;
  bytes: Buffer;
}

/** How long a client may keep its side open after the server ended the connection. */
const LINGER_MS = 1000;

// `date` is required of an origin server with a clock (RFC 9110 §6.6.1); formatted once a second.
let dateSecond = 0;
let dateText = '';
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== dateSecond) {
    dateSecond = second;
    dateText = new Date(now).toUTCString();
  }
  return dateText;
}

function statusLine(status: number): string {
  return `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\n`;
}

const ERROR_HEAD = headerBlock(['content-type', 'text/plain; charset=utf-8', 'cache-control', 'no-store']);

/** `true` when a header list says a body follows (any Transfer-Encoding, or a non-zero length). */
function announcesBody(name: string, value: string): boolean {
  return name === 'transfer-encoding' || (name === 'content-length' && value.trim() !== '0');
}

export class Http1Server {
  private readonly conns = new Set<Connection>();
  private readonly sweep: NodeJS.Timeout;
  /** Tells clients how long an idle connection stays (whole seconds, never longer than it does). */
  private readonly keepAliveHint: string;

  constructor(private readonly o: Http1Options) {
    const seconds = Math.floor(o.keepAliveTimeoutMs / 1000);
    this.keepAliveHint = seconds > 0 ? `keep-alive: timeout=${seconds}\r\n` : '';
    // One timer for every connection's timeouts, like node:http's connectionsCheckingInterval.
    const every = Math.max(100, Math.min(1000, Math.floor(o.headerTimeoutMs / 4)));
    this.sweep = setInterval(() => this.checkTimeouts(), every).unref();
  }

  /** Serves HTTP/1.1 on each connection this TLS server completes a handshake for. */
  attach(server: TlsServer): void {
    server.on('secureConnection', (socket: TLSSocket) => this.serve(socket));
    server.once('close', () => clearInterval(this.sweep));
  }

  /** Ends every connection that is between requests (graceful stop). */
  closeIdle(): void {
    for (const c of this.conns)
      if (c.headSince === 0 && !c.closing) {
        c.linger = true; // a request may be on its way
        this.endConnection(c);
      }
  }

  /** Cuts every connection (the graceful stop ran out of time). */
  closeAll(): void {
    for (const c of this.conns) c.socket.destroy();
  }

  private serve(socket: TLSSocket): void {
    const parser = new HTTPParser(HTTPParser.REQUEST) as unknown as Parser;
    parser.maxHeaderSize = this.o.maxHeaderSize;
    const now = Date.now();
    // Node's rule too: the header timeout runs from the connection's start for its first request.
    const c: Connection = {
      socket,
      parser,
      headSince: now,
      idleSince: now,
      out: [],
      closing: false,
      linger: false,
      endedAt: 0,
      last: undefined,
    };
    parser[HTTPParser.kOnHeadersComplete] = (info) => this.onHead(c, info);
    this.conns.add(c);
    socket.on('data', (chunk: Buffer) => this.onData(c, chunk));
    socket.on('error', () => socket.destroy()); // resets and TLS alerts: nothing left to answer
    socket.once('close', () => this.conns.delete(c));
  }

  private onData(c: Connection, chunk: Buffer): void {
    if (c.closing) return;
    if (c.headSince === 0) c.headSince = Date.now();
    const result = c.parser.execute(chunk);
    if (result instanceof Error) {
      const oversized = result.message === 'max header size exceeded';
      this.reject(c, oversized ? 431 : 400, oversized ? 'HPE_HEADER_OVERFLOW' : errorCode(result));
      return;
    }
    if (c.closing && result < chunk.length) c.linger = true; // bytes after the last request
    if (!c.closing && c.parser.state === 'REQUEST_LINE' && c.parser.line === '') {
      c.headSince = 0; // nothing of a next request has arrived yet
      c.idleSince = Date.now();
    }
    this.flush(c);
  }

  private onHead(c: Connection, info: HeadInfo): number {
    // http-parser-js checks the size of a head only once a chunk is parsed; a whole oversized head
    // can arrive in one chunk, so it is measured here as well.
    let size = info.url.length;
    let host: string | undefined;
    let hosts = 0;
    let accept: string | undefined;
    let body = false;
    const h = info.headers;
    for (let i = 0; i < h.length; i += 2) {
      const name = h[i]!.toLowerCase();
      const value = h[i + 1]!;
      size += name.length + value.length + 4;
      if (name === 'host') {
        host = value;
        hosts++;
      } else if (name === 'accept') accept = accept === undefined ? value : `${accept}, ${value}`;
      else if (announcesBody(name, value)) body = true;
    }
    if (size > this.o.maxHeaderSize) return this.reject(c, 431, 'HPE_HEADER_OVERFLOW');
    if (info.versionMajor !== 1) return this.reject(c, 505, 'HPE_INVALID_VERSION');
    if ((info.versionMinor === 1 && hosts === 0) || hosts > 1)
      return this.reject(c, 400, hosts ? 'ERR_DUPLICATE_HOST' : 'ERR_MISSING_HOST');

    const close = !info.shouldKeepAlive || body || info.upgrade || this.o.stopping();
    const method = METHODS[info.method] ?? 'UNKNOWN';
    const res = this.o.handler({ method, url: info.url, host, accept }, c.socket);
    const date = httpDate();
    const form = (close ? 1 : 0) | (info.versionMinor === 0 ? 2 : 0) | (method === 'HEAD' ? 4 : 0);
    const last = c.last;
    if (
      last !== undefined &&
      last.res.body === res.body &&
      last.res.head === res.head &&
      last.res.status === res.status &&
      last.date === date &&
      last.form === form
    )
      c.out.push(last.bytes);
    else {
      const head = Buffer.from(
        statusLine(res.status) +
          `date: ${date}\r\n` +
          res.head +
          `content-length: ${res.body.length}\r\n` +
          (close ? 'connection: close\r\n' : info.versionMinor === 0 ? 'connection: keep-alive\r\n' : '') +
          (close ? '' : this.keepAliveHint) +
          '\r\n',
        'latin1',
      );
      const bytes = method === 'HEAD' ? head : Buffer.concat([head, res.body]);
      c.last = { res, date, form, bytes };
      c.out.push(bytes);
    }
    if (close) {
      c.closing = true;
      c.linger = body || info.upgrade;
      return STOP_PARSING;
    }
    return 0;
  }

  /** Writes the answers of one chunk with one TLS write; pauses reading while the client lags. */
  private flush(c: Connection): void {
    if (c.out.length === 0) return;
    const data = c.out.length === 1 ? c.out[0]! : Buffer.concat(c.out);
    c.out = [];
    const socket = c.socket;
    if (c.closing) return this.endConnection(c, data);
    if (!socket.write(data)) {
      socket.pause();
      socket.once('drain', () => socket.resume());
    }
  }

  /** Answers with an error status and closes; returns STOP_PARSING for the head callback. */
  private reject(c: Connection, status: number, code: string): number {
    if (c.closing) return STOP_PARSING;
    c.linger = true; // whatever made the request bad may still be arriving
    this.o.onRejected(c.socket, { status, code });
    const body = Buffer.from(`${status} ${STATUS_CODES[status] ?? ''}\n`);
    c.out.push(
      Buffer.from(
        `${statusLine(status)}date: ${httpDate()}\r\n${ERROR_HEAD}content-length: ${body.length}\r\n` +
          'connection: close\r\n\r\n',
        'latin1',
      ),
      body,
    );
    c.closing = true;
    this.flush(c);
    return STOP_PARSING;
  }

  private endConnection(c: Connection, last?: Buffer): void {
    c.closing = true;
    c.endedAt = Date.now();
    const socket = c.socket;
    if (last) socket.end(last);
    else socket.end();
    // Once the answer, close_notify and FIN are out: nothing more to read, close now.
    if (!c.linger) socket.once('finish', () => socket.destroy());
  }

  private checkTimeouts(): void {
    const now = Date.now();
    for (const c of this.conns) {
      if (c.closing) {
        if (c.endedAt !== 0 && now - c.endedAt > LINGER_MS) c.socket.destroy();
        continue;
      }
      if (c.headSince !== 0) {
        if (now - c.headSince > this.o.headerTimeoutMs) this.reject(c, 408, 'ERR_HTTP_REQUEST_TIMEOUT');
      } else if (this.o.keepAliveTimeoutMs > 0 && now - c.idleSince > this.o.keepAliveTimeoutMs) {
        c.linger = true; // a request may be on its way
        this.endConnection(c);
      }
    }
  }
}

function errorCode(err: Error): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code) return code;
  return err.message === 'invalid request method' ? 'HPE_INVALID_METHOD' : 'HPE_INVALID_REQUEST';
}
