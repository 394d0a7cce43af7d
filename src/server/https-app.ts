// The HTTPS routes: GET / (the echo, negotiated text/JSON/HTML) and GET /ping (the seed's
// ponger). Synchronous and allocation-light: connection facts and bodies are cached per socket.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { htmlBody, jsonBody, negotiate, textBody } from './echo.js';
import { computeFacts, factsOf, type ConnectionFacts } from './facts.js';
import { PAGE_CSP } from './html.js';
import type { Route } from './metrics.js';
import type { ServerState } from './state.js';

// Response headers as flat [name, value, …] lists built once: Node writes such a list as it is,
// where an object would be spread, walked and copied on every request.
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
const NOT_ALLOWED_HEADERS = [...TEXT, 'allow', 'GET, HEAD'];
const PONG = Buffer.from('pong\n');
const NOT_FOUND = Buffer.from('404 not found: this server answers GET / (the echo) and GET /ping\n');
const NOT_ALLOWED = Buffer.from('405 method not allowed: use GET or HEAD\n');

function send(res: ServerResponse, status: number, headers: readonly string[], body: Buffer) {
  res.writeHead(status, [...headers, 'content-length', String(body.length)]);
  res.end(body);
}

function echo(
  req: IncomingMessage,
  res: ServerResponse,
  f: ConnectionFacts,
  query: string | undefined,
  s: ServerState,
) {
  const format = negotiate(req.headers.accept, query);
  if (format === 'text') send(res, 200, ECHO_TEXT, textBody(f));
  else if (format === 'json') send(res, 200, ECHO_JSON, jsonBody(f, req.headers.host, s.facts));
  else send(res, 200, ECHO_HTML, htmlBody(f, req.headers.host, s.facts));
}

export function httpsHandler(s: ServerState) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const start = performance.now();
    const f = factsOf(req.socket) ?? computeFacts(req.socket as TLSSocket, s.serverNameLabel);
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const readOnly = req.method === 'GET' || req.method === 'HEAD';
    if (s.shuttingDown) res.shouldKeepAlive = false;

    let route: Route;
    if (path === '/') {
      route = '/';
      if (readOnly) echo(req, res, f, q === -1 ? undefined : url.slice(q + 1), s);
      else send(res, 405, NOT_ALLOWED_HEADERS, NOT_ALLOWED);
    } else if (path === '/ping') {
      route = '/ping';
      if (readOnly) send(res, 200, TEXT, PONG);
      else send(res, 405, NOT_ALLOWED_HEADERS, NOT_ALLOWED);
    } else {
      route = 'other';
      send(res, 404, TEXT, NOT_FOUND);
    }

    const seconds = (performance.now() - start) / 1000;
    const status = res.statusCode;
    s.metrics.requests.inc({ route, status, server_name: f.serverNameLabel });
    s.metrics.duration.observe({ route }, seconds);
    if (s.settings.accessLog)
      s.logger.info(
        { client: f.clientIp, sni: f.sni ?? '-', status, ms: Math.round(seconds * 1e5) / 100 },
        `Received ${req.method} ${route === 'other' ? path.slice(0, 200) : path}`,
      );
  };
}
