// The two halves of what the request path reads. ServerContext is fixed for the life of the
// process (settings, logger, metrics, lifecycle). Served is what the current certificate implies;
// rotation builds a new Served and replaces the old one with one assignment, so a request reads
// either the old snapshot or the new one, never half of each.
import type { Logger } from 'pino';
import type { ServerFacts } from './echo.js';
import type { ServerMetrics } from './metrics.js';
import type { Settings } from './options.js';
import type { TlsMaterial } from './tls-material.js';

export interface Served {
  readonly material: TlsMaterial;
  readonly facts: ServerFacts;
  /** Metric label for an SNI (bounded to the served certificate's names). */
  readonly serverNameLabel: (sni: string | undefined) => string;
  /** True when the certificate covers this host name or IP (an `:authority` without its port). */
  readonly covers: (host: string) => boolean;
}

export interface ServerContext {
  readonly settings: Settings;
  readonly logger: Logger;
  readonly metrics: ServerMetrics;
  /** The current snapshot: read it once per request or connection, never keep it. */
  served: Served;
  /** False once shutdown began; /readyz then answers 503. */
  ready: boolean;
  /** True once connections are being drained: every answer then closes its connection. */
  shuttingDown: boolean;
  /** The HTTPS port actually bound (redirects point to it). */
  httpsPort: number;
  /** The plain-HTTP port actually bound (the 400 on the HTTPS port names it). */
  httpPort: number;
  /** Prometheus text: this process's registry, or the whole cluster's. */
  metricsText(): Promise<string>;
}
