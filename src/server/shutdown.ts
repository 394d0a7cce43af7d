// Graceful stop: readiness goes false, listeners close, idle keep-alive connections close, busy
// ones finish their request (answered with `Connection: close`), all within a deadline.
import type { Server as HttpServer } from 'node:http';
import type { Server as NetServer } from 'node:net';
import type { Http1Server } from './http1.js';
import type { ServerState } from './state.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A listening port and the connections it serves, as the graceful stop sees them. */
export interface Drainable {
  listener: NetServer;
  closeIdle(): void;
  closeAll(): void;
}

export function drainableHttp(server: HttpServer): Drainable {
  return {
    listener: server,
    closeIdle: () => server.closeIdleConnections(),
    closeAll: () => server.closeAllConnections(),
  };
}

export function drainableHttp1(listener: NetServer, http1: Http1Server): Drainable {
  return { listener, closeIdle: () => http1.closeIdle(), closeAll: () => http1.closeAll() };
}

function closeServer(d: Drainable): Promise<void> {
  return new Promise((resolve) => {
    if (!d.listener.listening) return resolve();
    d.listener.close(() => resolve()); // resolves once its last connection is gone
    d.closeIdle();
  });
}

/** Resolves true when everything finished in time, false when connections had to be cut. */
export async function drainAndClose(
  state: ServerState,
  servers: Drainable[],
  opts: { delayMs: number; timeoutMs: number },
): Promise<boolean> {
  state.ready = false;
  if (opts.delayMs > 0) await sleep(opts.delayMs);
  state.shuttingDown = true;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), opts.timeoutMs);
  });
  // Connections that turn idle after their last response are closed as they go.
  const sweep = setInterval(() => servers.forEach((s) => s.closeIdle()), 100);
  const clean = await Promise.race([
    Promise.all(servers.map(closeServer)).then(() => true as const),
    deadline,
  ]);
  clearInterval(sweep);
  clearTimeout(timer);
  if (!clean) servers.forEach((s) => s.closeAll());
  return clean;
}
