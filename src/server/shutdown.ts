// Graceful stop: readiness goes false, listeners close, idle keep-alive connections close, busy
// ones finish their request (answered with `Connection: close`), all within a deadline.
import type { Server } from 'node:http';
import type { ServerState } from './state.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}

/** Resolves true when everything finished in time, false when connections had to be cut. */
export async function drainAndClose(
  state: ServerState,
  servers: Server[],
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
  const sweep = setInterval(() => servers.forEach((s) => s.closeIdleConnections()), 100);
  const clean = await Promise.race([
    Promise.all(servers.map(closeServer)).then(() => true as const),
    deadline,
  ]);
  clearInterval(sweep);
  clearTimeout(timer);
  if (!clean) servers.forEach((s) => s.closeAllConnections());
  return clean;
}
