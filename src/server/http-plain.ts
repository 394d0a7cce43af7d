// The plain-HTTP port: /root_ca (trust bootstrap), /healthz, /readyz, /metrics. The echo is never
// served in clear text: / and /ping redirect to HTTPS, anything else gets a 404 naming the routes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ServerContext } from './state.js';

const TEXT = 'text/plain; charset=utf-8';
const HELP =
  'this is the plain-HTTP port of tlsecho: GET /root_ca (root CA PEM), /healthz, /readyz, /metrics; ' +
  'the echo and /ping are served over HTTPS only\n';
// A host name or a bracketed IPv6 address, optionally with a port: what a redirect may point to.
const HOST = /^(?<name>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]+\])(?::(?<port>\d{1,5}))?$/;

function reply(res: ServerResponse, status: number, body: string | Buffer, type = TEXT, extra = {}) {
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  res.end(body);
}

/**
 * Where the HTTPS twin of this request lives. A Host without a port means the user reached us on
 * the standard port 80 (a Service or Compose mapping), so HTTPS is on the standard 443 too.
 */
export function httpsLocation(host: string | undefined, url: string, httpsPort: number): string | undefined {
  const m = host ? HOST.exec(host) : null;
  if (!m?.groups) return undefined;
  const port = m.groups.port === undefined || httpsPort === 443 ? '' : `:${httpsPort}`;
  return `https://${m.groups.name}${port}${url}`;
}

export function httpHandler(s: ServerContext) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const readOnly = req.method === 'GET' || req.method === 'HEAD';
    if (s.shuttingDown) res.shouldKeepAlive = false;
    const done = (route: string) => {
      s.metrics.httpRequests.inc({ route, status: res.statusCode });
      if (!s.settings.accessLog) return;
      const fields = {
        client: req.socket.remoteAddress?.replace(/^::ffff:(?=\d)/, ''),
        status: res.statusCode,
      };
      const msg = `Received ${req.method} ${route === 'other' ? path.slice(0, 200) : path} (http)`;
      // Probes and scrapes come every few seconds: keep them out of the info log.
      if (route === '/healthz' || route === '/readyz' || route === '/metrics') s.logger.debug(fields, msg);
      else s.logger.info(fields, msg);
    };
    const known = ['/root_ca', '/healthz', '/readyz', '/metrics'].includes(path);
    if (known && !readOnly) {
      reply(res, 405, '405 method not allowed: use GET or HEAD\n', TEXT, { allow: 'GET, HEAD' });
      return done(path);
    }
    switch (path) {
      case '/root_ca':
        reply(res, 200, s.served.material.ca, 'application/x-pem-file');
        return done(path);
      case '/healthz':
        reply(res, 200, 'ok\n');
        return done(path);
      case '/readyz':
        if (s.ready) reply(res, 200, 'ready\n');
        else reply(res, 503, 'not ready: shutting down\n');
        return done(path);
      case '/metrics':
        s.metricsText().then(
          (text) => {
            reply(res, 200, text, 'text/plain; version=0.0.4; charset=utf-8');
            done(path);
          },
          (err: Error) => {
            reply(res, 500, `metrics unavailable: ${err.message}\n`);
            done(path);
          },
        );
        return;
    }
    const location =
      readOnly && (path === '/' || path === '/ping')
        ? httpsLocation(req.headers.host, url, s.httpsPort)
        : undefined;
    if (location) reply(res, 308, `use HTTPS: ${location}\n`, TEXT, { location });
    else reply(res, 404, `404 not found: ${HELP}`);
    done(location ? path : 'other');
  };
}
