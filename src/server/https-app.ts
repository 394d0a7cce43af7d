// The HTTPS routes: GET / (the echo, negotiated text/JSON/HTML) and GET /ping (the seed's
// ponger). Synchronous and allocation-light: connection facts and bodies are cached per socket,
// header blocks are serialized once, and http1.ts writes the answer.
import type { TLSSocket } from 'node:tls';
import { htmlBody, jsonBody, negotiate, textBody } from './echo.js';
import { computeFacts, factsOf } from './facts.js';
import { PAGE_CSP } from './html.js';
import { headerBlock, type Http1Handler, type Http1Response } from './http1.js';
import { requestLogOf } from './logging.js';
import type { CounterCell, Route } from './metrics.js';
import type { ServerState } from './state.js';

const COMMON = ['cache-control', 'no-store', 'x-content-type-options', 'nosniff'];
const TEXT_PAIRS = [...COMMON, 'content-type', 'text/plain; charset=utf-8'];
const TEXT = headerBlock(TEXT_PAIRS);
const ECHO_TEXT = headerBlock([...TEXT_PAIRS, 'vary', 'Accept']);
const ECHO_JSON = headerBlock([
  ...COMMON,
  'content-type',
  'application/json; charset=utf-8',
  'vary',
  'Accept',
]);
const ECHO_HTML = headerBlock([
  ...COMMON,
  'content-type',
  'text/html; charset=utf-8',
  'vary',
  'Accept',
  'content-security-policy',
  PAGE_CSP,
  'referrer-policy',
  'no-referrer',
]);
const NOT_ALLOWED_HEAD = headerBlock([...TEXT_PAIRS, 'allow', 'GET, HEAD']);
const PONG: Http1Response = { status: 200, head: TEXT, body: Buffer.from('pong\n') };
const NOT_FOUND: Http1Response = {
  status: 404,
  head: TEXT,
  body: Buffer.from('404 not found: this server answers GET / (the echo) and GET /ping\n'),
};
const NOT_ALLOWED: Http1Response = {
  status: 405,
  head: NOT_ALLOWED_HEAD,
  body: Buffer.from('405 method not allowed: use GET or HEAD\n'),
};

// Every answer this handler gives, as counted in tlsecho_requests_total.
type Outcome = { route: Route; status: number };
const ECHO: Outcome = { route: '/', status: 200 };
const ECHO_NOT_ALLOWED: Outcome = { route: '/', status: 405 };
const PING: Outcome = { route: '/ping', status: 200 };
const PING_NOT_ALLOWED: Outcome = { route: '/ping', status: 405 };
const OTHER: Outcome = { route: 'other', status: 404 };
const OUTCOMES = [ECHO, ECHO_NOT_ALLOWED, PING, PING_NOT_ALLOWED, OTHER];

export function httpsHandler(s: ServerState): Http1Handler {
  const requestLog = requestLogOf(s.logger);
  // Counter cells per server name (looked up once per connection) and duration cells per route.
  const cellsByName = new Map<string, Map<Outcome, CounterCell>>();
  const requestCells = (serverName: string) => {
    let cells = cellsByName.get(serverName);
    if (!cells) {
      cells = new Map(
        OUTCOMES.map((o) => [o, s.metrics.requests.cell({ ...o, server_name: serverName })] as const),
      );
      cellsByName.set(serverName, cells);
    }
    return cells;
  };
  const durationCells = {
    '/': s.metrics.duration.cell('/'),
    '/ping': s.metrics.duration.cell('/ping'),
    other: s.metrics.duration.cell('other'),
  };

  return (req, socket: TLSSocket): Http1Response => {
    const start = performance.now();
    const f = factsOf(socket) ?? computeFacts(socket, s.serverNameLabel);
    const url = req.url;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const readOnly = req.method === 'GET' || req.method === 'HEAD';

    let outcome = OTHER;
    let res = NOT_FOUND;
    if (path === '/') {
      if (!readOnly) {
        outcome = ECHO_NOT_ALLOWED;
        res = NOT_ALLOWED;
      } else {
        outcome = ECHO;
        const format = negotiate(req.accept, q === -1 ? undefined : url.slice(q + 1));
        if (format === 'text') res = { status: 200, head: ECHO_TEXT, body: textBody(f) };
        else if (format === 'json')
          res = { status: 200, head: ECHO_JSON, body: jsonBody(f, req.host, s.facts) };
        else res = { status: 200, head: ECHO_HTML, body: htmlBody(f, req.host, s.facts) };
      }
    } else if (path === '/ping') {
      outcome = readOnly ? PING : PING_NOT_ALLOWED;
      res = readOnly ? PONG : NOT_ALLOWED;
    }

    const seconds = (performance.now() - start) / 1000;
    f.requestCells ??= requestCells(f.serverNameLabel);
    f.requestCells.get(outcome)!.n++;
    s.metrics.duration.observe(durationCells[outcome.route], seconds);
    if (s.settings.accessLog) {
      const msg = `Received ${req.method} ${outcome === OTHER ? path.slice(0, 200) : path}`;
      const ms = Math.round(seconds * 1e5) / 100;
      const status = res.status;
      if (requestLog) {
        f.logFields ??= requestLog.fields({ client: f.clientIp, sni: f.sni ?? '-' });
        requestLog.write(msg, f.logFields, status, ms);
      } else s.logger.info({ client: f.clientIp, sni: f.sni ?? '-', status, ms }, msg);
    }
    return res;
  };
}
