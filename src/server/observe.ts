// The one step after every HTTPS answer, whichever engine gave it: count it
// (tlsecho_requests_total, the duration histogram) and write its access-log line.
import type { Connection } from './connection.js';
import { requestLogOf, logSafe } from './logging.js';
import type { CounterCell, Route } from './metrics.js';
import type { ServerContext } from './state.js';

export type Observe = (
  c: Connection,
  method: string,
  path: string,
  status: number,
  route: Route,
  startMs: number,
  endMs: number,
) => void;

export function observer(ctx: ServerContext, protocol: 'h1' | 'h2'): Observe {
  const { metrics, logger, settings } = ctx;
  const requestLog = requestLogOf(logger);
  const durationCells = {
    '/': metrics.duration.cell('/'),
    '/ping': metrics.duration.cell('/ping'),
    other: metrics.duration.cell('other'),
  };
  // Counter cells by server name, then by `route status`: looked up once per connection.
  const cellsByName = new Map<string, Map<string, CounterCell>>();
  const cellsOf = (serverName: string) => {
    let cells = cellsByName.get(serverName);
    if (!cells) cellsByName.set(serverName, (cells = new Map()));
    return cells;
  };
  const cellOf = (c: Connection, route: Route, status: number) => {
    const key = `${route} ${status}`;
    const cells = (c.requestCells ??= cellsOf(c.facts.serverNameLabel));
    let cell = cells.get(key);
    if (!cell) {
      cell = metrics.requests.cell({ route, status: String(status), server_name: c.facts.serverNameLabel });
      cells.set(key, cell);
    }
    return cell;
  };
  // Method and path come from the client: escaped, so that no byte of theirs can start a line,
  // and cut, so that a line stays within one atomic write (an HTTP/2 :method is any token up to
  // --max-header-size; llhttp knows its methods).
  const messageOf = (method: string, path: string, route: Route) =>
    `Received ${logSafe(method.slice(0, 32))} ${logSafe(route === 'other' ? path.slice(0, 200) : path)}`;
  const connectionFields = (c: Connection) => ({
    client: c.facts.clientIp,
    sni: c.facts.sni === undefined ? '-' : logSafe(c.facts.sni),
    ...(protocol === 'h2' ? { proto: 'h2' } : {}),
  });

  return (c, method, path, status, route, startMs, endMs) => {
    const seconds = (endMs - startMs) / 1000;
    // A keep-alive client mostly asks the same again: its last answer's cell and log message.
    let last = c.last;
    if (last === undefined || last.method !== method || last.path !== path || last.status !== status) {
      last = { method, path, status, msg: messageOf(method, path, route), cell: cellOf(c, route, status) };
      c.last = last;
    }
    last.cell.n++;
    metrics.duration.observe(durationCells[route], seconds);
    if (!settings.accessLog) return;
    const ms = Math.round(seconds * 1e5) / 100;
    if (requestLog) {
      c.logFields ??= requestLog.fields(connectionFields(c));
      requestLog.write(last.msg, c.logFields, status, ms);
    } else logger.info({ ...connectionFields(c), status, ms }, last.msg);
  };
}
