// The server's signals, one policy for the single process and the cluster primary: SIGHUP checks
// the certificate files now; the first SIGTERM or SIGINT starts a graceful stop; another one
// while stopping exits at once (an operator who presses Ctrl-C twice means it). Only the
// listeners added here are removed again, so other code's listeners (a test runner's, a
// library's) keep working.
import type { Logger } from 'pino';

export const SERVER_SIGNALS = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

export interface SignalActions {
  logger: Logger;
  /** Logged with the first stop signal: how long in-flight requests get. */
  shutdownTimeoutMs: number;
  /** Whether a stop is under way already (a signal, or the owner giving up on its own). */
  stopping(): boolean;
  /** SIGHUP. */
  reload(): void;
  /** The first SIGTERM/SIGINT. */
  stop(signal: NodeJS.Signals): void;
  /** A SIGTERM/SIGINT while stopping. */
  exitNow(signal: NodeJS.Signals): void;
}

/** Handles the server's signals until the returned function removes the listeners again. */
export function handleSignals(actions: SignalActions): () => void {
  const { logger } = actions;
  return listen((signal) => {
    if (signal === 'SIGHUP') return actions.reload();
    if (actions.stopping()) {
      logger.warn({ signal }, 'second signal: exiting now');
      return actions.exitNow(signal);
    }
    logger.info({ signal, timeout_ms: actions.shutdownTimeoutMs }, 'shutting down');
    actions.stop(signal);
  });
}

/**
 * A cluster worker's signals: ignored, since the primary coordinates the stop and a Ctrl-C
 * reaching the whole process group must not make workers act on their own.
 */
export function ignoreSignals(): () => void {
  return listen(() => {});
}

function listen(listener: (signal: NodeJS.Signals) => void): () => void {
  for (const s of SERVER_SIGNALS) process.on(s, listener);
  return () => {
    for (const s of SERVER_SIGNALS) process.off(s, listener);
  };
}
