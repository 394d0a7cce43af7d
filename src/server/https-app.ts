// The HTTPS routes: GET / (the echo, negotiated text/JSON/HTML) and GET /ping (the seed's
// ponger). Synchronous and allocation-light: connection facts and bodies are cached per socket,
// header blocks are serialized once, and http1.ts writes the answer.
import type { TLSSocket } from 'node:tls';
import { htmlBody, jsonBody, negotiate, textBody } from './echo.js';
import { computeFacts, factsOf } from './facts.js';
import { PAGE_CSP } from './html.js';
import { headerBlock, type Http1Handler, type Http1Response } from './http1.js';
import { requestLogOf } from './logging.js';
import type { Route } from './metrics.js';
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

export function httpsHandler(s: ServerState): Http1Handler {
  const requestLog = requestLogOf(s.logger);
  return (req, socket: TLSSocket): Http1Response => {
    const start = performance.now();
    const f = factsOf(socket) ?? computeFacts(socket, s.serverNameLabel);
    const url = req.url;
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const readOnly = req.method === 'GET' || req.method === 'HEAD';

    let route: Route;
    let res: Http1Response;
    if (path === '/') {
      route = '/';
      if (!readOnly) res = NOT_ALLOWED;
      else {
        const format = negotiate(req.accept, q === -1 ? undefined : url.slice(q + 1));
        if (format === 'text') res = { status: 200, head: ECHO_TEXT, body: textBody(f) };
        else if (format === 'json')
          res = { status: 200, head: ECHO_JSON, body: jsonBody(f, req.host, s.facts) };
        else res = { status: 200, head: ECHO_HTML, body: htmlBody(f, req.host, s.facts) };
      }
    } else if (path === '/ping') {
      route = '/ping';
      res = readOnly ? PONG : NOT_ALLOWED;
    } else {
      route = 'other';
      res = NOT_FOUND;
    }

    const seconds = (performance.now() - start) / 1000;
    const status = res.status;
    s.metrics.requests.inc({ route, status, server_name: f.serverNameLabel });
    s.metrics.duration.observe({ route }, seconds);
    if (s.settings.accessLog) {
      const msg = `Received ${req.method} ${route === 'other' ? path.slice(0, 200) : path}`;
      const ms = Math.round(seconds * 1e5) / 100;
      if (requestLog) {
        f.logFields ??= requestLog.fields({ client: f.clientIp, sni: f.sni ?? '-' });
        requestLog.write(msg, f.logFields, status, ms);
      } else s.logger.info({ client: f.clientIp, sni: f.sni ?? '-', status, ms }, msg);
    }
    return res;
  };
}
