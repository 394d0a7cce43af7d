// One TLS connection of the HTTPS port, as the request path sees it: the facts of its handshake,
// computed once, the caches its requests share, and the lifecycle its HTTP engine keeps. Each
// engine finds it by its own key (the TLS socket for HTTP/1, the session for HTTP/2) in a map of
// open connections, so nothing is attached to Node's objects.
import { performance } from 'node:perf_hooks';
import type { ClientHelloCapture } from '../tls/capture.js';
import type { HandshakeReport } from '../tls/report.js';
import type { ConnectionFacts } from './facts.js';
import type { CounterCell } from './metrics.js';
import type { Answer } from './routes.js';
import type { Served } from './state.js';

const FIRST_REQUEST_GRACE_MS = 2000;

/**
 * How often a timeout is checked: a quarter of it, between 100 ms and 1 s (node:http checks its
 * own every 30 s by default, far too coarse for the timeouts tlsecho sets).
 */
export function checkInterval(timeoutMs: number): number {
  return Math.max(100, Math.min(1000, Math.floor(timeoutMs / 4)));
}

/**
 * One timer for the idle connections of an engine (instead of a timer per connection, refreshed
 * by its traffic): `sweep` runs at checkInterval(timeoutMs) with the time now
 * (performance.now()). None when the timeout is off.
 */
export function idleSweep(timeoutMs: number, sweep: (now: number) => void): NodeJS.Timeout | undefined {
  if (timeoutMs <= 0) return undefined;
  return setInterval(() => sweep(performance.now()), checkInterval(timeoutMs)).unref();
}

export class Connection {
  /** The seed's echo line for this connection as an answer, built on first use (routes.ts). */
  textAnswer: Answer | undefined;
  /** The request log's fields for this connection (client, SNI), formatted on first use. */
  logFields: string | undefined;
  /** The tlsecho_requests_total cells of this connection's server name, by `route status` (observe.ts). */
  requestCells: Map<string, CounterCell> | undefined;
  /** Requests (HTTP/2: streams) received whose answer is not yet written. */
  active = 0;
  /** When the connection last became idle after an answer (performance.now()); 0 before. */
  idleSince = 0;
  readonly openedAt = performance.now();
  /** HTTP/1: the last Host value that passed validHost(). */
  validHost: string | undefined;
  /** The request log's message and the requests_total cell of the last answer (observe.ts). */
  last: { method: string; path: string; status: number; msg: string; cell: CounterCell } | undefined;

  /** HTTP/2: the last `:authority` found covered by the certificate, and by which (h2.ts). */
  covered: { host: string; served: Served } | undefined;
  /** The echo's handshake section (offered next to chosen), built on first use. */
  handshake: HandshakeReport | undefined;

  constructor(
    readonly facts: ConnectionFacts,
    /** What the client sent before TLS took the socket (undefined where nothing was captured). */
    readonly hello: ClientHelloCapture | undefined,
  ) {}

  /**
   * Since when nothing has been asked of this connection (performance.now()), or 0 while busy. A new
   * connection counts as quiet only from FIRST_REQUEST_GRACE_MS after it opened: its first request
   * follows the handshake, and on a loaded machine that can take longer than a reused
   * connection's next request (browsers' unused preconnections are still closed soon).
   */
  quietSince(): number {
    if (this.active > 0) return 0;
    return this.idleSince || this.openedAt + FIRST_REQUEST_GRACE_MS;
  }
}
