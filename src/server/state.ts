// What the request handlers read on every request, swapped as a whole on certificate rotation.
import type { Logger } from 'pino';
import type { ServerFacts } from './echo.js';
import type { ServerMetrics } from './metrics.js';
import type { Settings } from './options.js';
import type { TlsMaterial } from './tls-material.js';

export interface ServerState {
  settings: Settings;
  logger: Logger;
  metrics: ServerMetrics;
  material: TlsMaterial;
  facts: ServerFacts;
  /** Metric label for an SNI (bounded to the served certificate's names). */
  serverNameLabel: (sni: string | undefined) => string;
  /** False once shutdown began; /readyz then answers 503 and responses close their connection. */
  ready: boolean;
  shuttingDown: boolean;
  /** The HTTPS port actually bound (redirects point to it). */
  httpsPort: number;
  /** The plain-HTTP port actually bound (the 400 on the HTTPS port names it). */
  httpPort: number;
  /** Prometheus text: this process's registry, or the whole cluster's. */
  metricsText(): Promise<string>;
}
