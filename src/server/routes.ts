// The HTTPS routes, as one pure function of the request and the connection: `/` (the echo, for
// every method, as text, JSON or HTML) and `/ping` (the seed's ponger). The HTTP/1 and HTTP/2
// engines turn the Answer into bytes; observe.ts counts and logs it.
import type { Connection } from './connection.js';
import { echoDocument, jsonBody, negotiate, textBody } from './echo.js';
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
}

const COMMON = ['cache-control', 'no-store', 'x-content-type-options', 'nosniff'];
const TEXT = [...COMMON, 'content-type', 'text/plain; charset=utf-8'];
const ECHO_TEXT = [...TEXT, 'vary', 'Accept'];
const ECHO_JSON = [...COMMON, 'content-type', 'application/json; charset=utf-8', 'vary', 'Accept'];
const ECHO_HTML = [
  ...COMMON,
  'content-type',
  'text/html; charset=utf-8',
  'vary',
  'Accept',
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
    if (format === 'text') return { status: 200, headers: ECHO_TEXT, body: textBody(c), route: '/' };
    const doc = echoDocument(c, req, served.facts, echoBodyLimit, served.material.leaf.names);
    return format === 'json'
      ? { status: 200, headers: ECHO_JSON, body: jsonBody(doc), route: '/' }
      : { status: 200, headers: ECHO_HTML, body: htmlBody(doc), route: '/' };
  }
  if (req.path === '/ping') return req.method === 'GET' || req.method === 'HEAD' ? PONG : PING_NOT_ALLOWED;
  return NOT_FOUND;
}
