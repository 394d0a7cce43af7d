// Graceful stop: readiness goes false (and stays so for --shutdown-delay), the listeners close,
// and open connections are drained without losing a request already on its way:
// - HTTP/1 connections close once nothing has been asked of them for QUIET_MS since their last
//   answer (a client about to reuse a connection sends at once; one quiet that long is not about
//   to); busy ones, and new ones before their first request, get their next answer with
//   `connection: close`;
// - HTTP/2 sessions get GOAWAY and finish their open streams;
// - whatever is left at --shutdown-timeout is cut.
import type { Server as NetServer } from 'node:net';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** How long an HTTP/1 connection must have been quiet to be closed under a stopping server. */
export const QUIET_MS = 1000;

/** A listening port and the connections it serves, as the graceful stop sees them. */
export interface Drainable {
  listener: NetServer;
  /** Called every 100 ms while draining: close what may be closed now. */
  drain(): void;
  /** The deadline passed: cut everything. */
  closeAll(): void;
}

function closeListener(d: Drainable): Promise<void> {
  return new Promise((resolve) => {
    if (!d.listener.listening) return resolve();
    d.listener.close(() => resolve()); // resolves once its last connection is gone
    d.drain();
  });
}

/** Resolves true when everything finished in time, false when connections had to be cut. */
export async function drainAndClose(opts: {
  servers: Drainable[];
  delayMs: number;
  timeoutMs: number;
  /** Readiness goes false (/readyz answers 503). */
  notReady: () => void;
  /** Draining begins: answers from now on close their connection. */
  draining: () => void;
}): Promise<boolean> {
  opts.notReady();
  if (opts.delayMs > 0) await sleep(opts.delayMs);
  opts.draining();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), opts.timeoutMs);
  });
  const sweep = setInterval(() => opts.servers.forEach((s) => s.drain()), 100);
  const clean = await Promise.race([
    Promise.all(opts.servers.map(closeListener)).then(() => true as const),
    deadline,
  ]);
  clearInterval(sweep);
  clearTimeout(timer);
  if (!clean) opts.servers.forEach((s) => s.closeAll());
  return clean;
}
