// The HTTPS routes, as one pure function of the request and the connection: `/` (the echo, for
// every method, as text, JSON or HTML) and `/ping` (the seed's ponger). The HTTP/1 and HTTP/2
// engines turn the Answer into bytes; observe.ts counts and logs it.
import type { OutgoingHttpHeaders } from 'node:http2';
import type { Connection } from './connection.js';
import { echoDocument, echoLine, jsonBody, negotiate } from './echo.js';
import { htmlBody, PAGE_CSP } from './html.js';
import type { Route } from './metrics.js';
import type { EchoRequest } from './request.js';
import type { Served } from './state.js';

export interface Answer {
  status: number;
  /** Header pairs, lowercase names, flat ([name, value, …]); content-length is added by the engine. */
  headers: readonly string[];
  /** A string, so that node:http writes it with the head as one chunk (one TLS record). */
  body: string;
  /** The metric label of the route that answered. */
  route: Route;
  /** HTTP/1: close the connection after this answer (the request was refused mid-way). */
  close?: boolean;
  /**
   * The engines' wire forms of the head (h1.ts, h2.ts), built on first use. An Answer is never
   * changed once made, so constant answers and a connection's text echo build them once.
   */
  h1Headers?: string[];
  /** h1Headers with `keep-alive: timeout=N`, for the keep-alive timeout it was built for. */
  h1KeepAlive?: { timeoutMs: number; list: string[] };
  h2Head?: OutgoingHttpHeaders;
  /** The same as a flat list, where respond() takes one (h2.ts copies it per response). */
  h2List?: readonly string[];
}

// no-store: an echo is about one connection and must never come from a cache (which also makes
// `Vary: Accept` moot, so the negotiated forms do without it: a header less on every answer).
const COMMON = ['cache-control', 'no-store', 'x-content-type-options', 'nosniff'];
const TEXT = [...COMMON, 'content-type', 'text/plain; charset=utf-8'];
const ECHO_JSON = [...COMMON, 'content-type', 'application/json; charset=utf-8'];
const ECHO_HTML = [
  ...COMMON,
  'content-type',
  'text/html; charset=utf-8',
  'content-security-policy',
  PAGE_CSP,
  'referrer-policy',
  'no-referrer',
];

const PONG: Answer = { status: 200, headers: TEXT, body: 'pong\n', route: '/ping' };
const PING_NOT_ALLOWED: Answer = {
  status: 405,
  headers: [...TEXT, 'allow', 'GET, HEAD'],
  body: '405 method not allowed: /ping answers GET and HEAD\n',
  route: '/ping',
};
const NOT_FOUND: Answer = {
  status: 404,
  headers: TEXT,
  body: '404 not found: this server answers / (the echo, any method) and GET /ping\n',
  route: 'other',
};

/** A refusal with a one-line reason, for the engines' own checks (400, 413, 421, 501, …). */
export function refusal(status: number, reason: string, close = true): Answer {
  return { status, headers: TEXT, body: `${status} ${reason}\n`, route: 'other', close };
}

export function tooLarge(maxBodySize: number): Answer {
  return refusal(413, `Content Too Large: the body may be at most ${maxBodySize} bytes (--max-body-size)`);
}

export function misdirected(host: string): Answer {
  return refusal(
    421,
    `Misdirected Request: this server's certificate does not cover ${host}; open a new connection for it`,
    false,
  );
}

export function route(req: EchoRequest, c: Connection, served: Served, echoBodyLimit: number): Answer {
  if (req.path === '/') {
    const format = negotiate(req.accept, req.query);
    if (format === 'text')
      return (c.textAnswer ??= { status: 200, headers: TEXT, body: `${echoLine(c.facts)}\n`, route: '/' });
    const doc = echoDocument(c, req, served.facts, echoBodyLimit, served.material.leaf.names);
    return format === 'json'
      ? { status: 200, headers: ECHO_JSON, body: jsonBody(doc), route: '/' }
      : { status: 200, headers: ECHO_HTML, body: htmlBody(doc), route: '/' };
  }
  if (req.path === '/ping') return req.method === 'GET' || req.method === 'HEAD' ? PONG : PING_NOT_ALLOWED;
  return NOT_FOUND;
}
