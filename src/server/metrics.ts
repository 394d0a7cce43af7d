// Prometheus metrics (prom-client). Labels are bounded: the route is one of a few known paths,
// the server name is a name of the served certificate (or "other"/"none"), never the client IP.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Route = '/' | '/ping' | 'other';

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'tlsecho_requests_total',
    help: 'HTTPS requests answered, by route, status and TLS server name (SNI)',
    labelNames: ['route', 'status', 'server_name'] as const,
    registers: [this.registry],
  });
  readonly httpRequests = new Counter({
    name: 'tlsecho_http_requests_total',
    help: 'plain-HTTP requests answered, by route and status',
    labelNames: ['route', 'status'] as const,
    registers: [this.registry],
  });
  readonly duration = new Histogram({
    name: 'tlsecho_request_duration_seconds',
    help: 'time from request headers parsed to response written, HTTPS',
    labelNames: ['route'] as const,
    buckets: [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    registers: [this.registry],
  });
  readonly handshakes = new Counter({
    name: 'tlsecho_tls_handshakes_total',
    help: 'completed TLS handshakes, by protocol version and whether the session was resumed',
    labelNames: ['version', 'resumed'] as const,
    registers: [this.registry],
  });
  readonly handshakeFailures = new Counter({
    name: 'tlsecho_tls_handshake_failures_total',
    help: 'connections to the HTTPS port that did not complete a TLS handshake, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly reloads = new Counter({
    name: 'tlsecho_certificate_reloads_total',
    help: 'certificate file changes seen, by result (applied or rejected)',
    labelNames: ['result'] as const,
    aggregator: 'max', // every worker counts every reload: the cluster total is any one's count
    registers: [this.registry],
  });
  readonly notAfter = new Gauge({
    name: 'tlsecho_certificate_not_after_seconds',
    help: 'expiry (Unix time) of the certificate being served',
    aggregator: 'max',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }
}

/** Maps a TLS client error to a short, bounded reason label. */
export function handshakeFailureReason(err: NodeJS.ErrnoException): string {
  const code = err.code ?? '';
  if (/handshake timeout/i.test(err.message)) return 'timeout';
  if (code === 'ECONNRESET' || code === 'EPIPE') return 'connection_reset';
  if (code === 'ERR_SSL_NO_SHARED_CIPHER') return 'no_shared_cipher';
  if (/UNSUPPORTED_PROTOCOL|VERSION_TOO_LOW|WRONG_VERSION_NUMBER/.test(code)) return 'unsupported_protocol';
  if (code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') return 'client_cert_missing';
  if (code === 'ERR_SSL_CERTIFICATE_VERIFY_FAILED') return 'client_cert_rejected';
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN)/.test(code)) return 'server_cert_rejected';
  if (/ALERT/.test(code)) return 'client_alert';
  return 'other';
}
