// The server as a library: startServer() runs the HTTPS echo and the plain-HTTP port in this
// process, with certificate rotation; other parts' tests and the demo use it.
import type { Logger } from 'pino';
import { UsageError } from '../config/errors.js';
import { createEchoServer } from './echo-server.js';
import { createLogger, silentLogger } from './logging.js';
import { clientAuthOf, withDefaults, type ServerOptions, type Settings } from './options.js';
import { CertificateWatcher } from './reload.js';
import { newTicketKeys } from './tls-context.js';
import { loadTlsMaterial, type TlsMaterial } from './tls-material.js';

export type { ServerOptions } from './options.js';

export interface RunningServer {
  httpsPort: number;
  httpPort: number;
  /** With --lab: the port of tls12.<domain>. */
  labTls12Port?: number;
  /** The certificate, key and CA now being served. */
  material(): TlsMaterial;
  /** Checks the certificate files now (what SIGHUP does); 'applied' when a new pair now serves. */
  reload(): 'applied' | 'rejected' | 'unchanged';
  /** Graceful stop (in-flight requests finish); resolves when both ports are closed. */
  close(): Promise<void>;
  /** Like close(), after `delayMs` of failing /readyz; resolves false if connections were cut. */
  shutdown(opts?: { delayMs?: number }): Promise<boolean>;
}

export function checkSettings(s: Settings): void {
  if (s.requestTimeoutMs > 0 && s.headerTimeoutMs > s.requestTimeoutMs)
    throw new UsageError(
      `--header-timeout (${s.headerTimeoutMs}ms) must not be longer than --request-timeout (${s.requestTimeoutMs}ms)`,
    );
  const auth = clientAuthOf(s);
  if (auth !== 'none' && !s.clientCaFile)
    throw new UsageError(
      `--client-auth ${auth} needs --client-ca (the CA PEM client certificates are verified against)`,
    );
  if (auth === 'none' && s.clientCaFile)
    throw new UsageError('--client-auth none contradicts --client-ca; drop one of them');
}

/** Starts the server; rejects with a one-line CommandError for bad files or busy ports. */
export async function startServer(options: ServerOptions & { logger?: Logger }): Promise<RunningServer> {
  const settings = withDefaults(options);
  checkSettings(settings);
  const logger =
    options.logger ??
    (settings.logLevel === 'silent'
      ? silentLogger
      : createLogger({ format: settings.logFormat, level: settings.logLevel }));
  const material = loadTlsMaterial(settings);
  const ticketKeys = newTicketKeys();
  const server = createEchoServer({ settings, material, ticketKeys, logger });
  const ports = await server.listen();
  const watcher = new CertificateWatcher({
    files: settings,
    current: material,
    logger,
    onChange: (m) => server.applyMaterial(m),
    onResult: (result) => server.context.metrics.reloads.inc({ result }),
  }).start(settings.reloadIntervalMs);

  let stopping: Promise<boolean> | undefined;
  const shutdown = (o?: { delayMs?: number }) => {
    watcher.stop();
    return (stopping ??= server.shutdown(o));
  };
  return {
    ...ports,
    material: () => server.context.served.material,
    reload: () => {
      server.reloadLab();
      return watcher.check();
    },
    shutdown,
    close: async () => {
      await shutdown();
    },
  };
}
