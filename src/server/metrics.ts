// Prometheus metrics (prom-client). Labels are bounded: the route is one of a few known paths,
// the server name is a name of the served certificate (or "other"/"none"), never the client IP.
//
// What every request and every connection updates is counted with plain arithmetic into cells
// the caller keeps (CellCounter, CellHistogram) and handed to prom-client only when the metrics
// are read (a scrape, or the cluster primary gathering its workers): prom-client builds and
// validates a label key on every inc() and observe(), a large share of a keep-alive request's
// CPU (measured in docs/performance.md, "What moved the numbers").
import {
  collectDefaultMetrics,
  Counter,
  Gauge,
  type CounterConfiguration,
  type LabelValues,
  type Metric,
  type MetricObjectWithValues,
  type MetricValueWithName,
  Registry,
} from 'prom-client';

export type Route = '/' | '/ping' | 'other';

/** One label set's count, bumped on the hot path with `cell.n++`. */
export interface CounterCell {
  n: number;
}

/** A prom-client counter fed from cells, one per label set, that callers look up once and keep. */
export class CellCounter<L extends string> {
  readonly counter: Counter<L>;
  private readonly cells = new Map<string, { labels: LabelValues<L>; cell: CounterCell }>();
  private readonly labelNames: readonly L[];

  constructor(config: CounterConfiguration<L>) {
    this.labelNames = config.labelNames ?? [];
    // prom-client calls collect() before every read of the counter.
    this.counter = new Counter({ ...config, collect: () => this.flush() });
  }

  /** The cell of one label set (the same cell every time). */
  cell(labels: LabelValues<L>): CounterCell {
    let key = '';
    for (const name of this.labelNames) key += `${labels[name] ?? ''}\u0000`;
    let entry = this.cells.get(key);
    if (!entry) {
      entry = { labels: { ...labels }, cell: { n: 0 } };
      this.cells.set(key, entry);
      this.counter.inc(entry.labels, 0); // the series exists from its first use, as with inc()
    }
    return entry.cell;
  }

  /** For paths that are not hot: the same as `cell(labels).n++`. */
  inc(labels: LabelValues<L>): void {
    this.cell(labels).n++;
  }

  private flush(): void {
    for (const { labels, cell } of this.cells.values()) {
      if (cell.n === 0) continue;
      this.counter.inc(labels, cell.n);
      cell.n = 0;
    }
  }
}

/** One label set's observations: per-bucket counts (not cumulative), their sum and count. */
export interface HistogramCell {
  readonly buckets: number[];
  sum: number;
  count: number;
}

/**
 * A Prometheus histogram with one label, counted into cells with plain arithmetic and exposed
 * through the registry's collection contract (name, help, type, aggregator, get(), reset()).
 */
export class CellHistogram<L extends string> {
  readonly type = 'histogram';
  readonly aggregator = 'sum'; // the cluster total of every bucket, sum and count
  private readonly cells = new Map<string, HistogramCell>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly label: L,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    // prom-client's types name only its own classes; its registry needs just what this has.
    registry.registerMetric(this as unknown as Metric);
  }

  cell(value: string): HistogramCell {
    let cell = this.cells.get(value);
    if (!cell) {
      cell = { buckets: new Array<number>(this.bounds.length + 1).fill(0), sum: 0, count: 0 };
      this.cells.set(value, cell);
    }
    return cell;
  }

  observe(cell: HistogramCell, value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    cell.buckets[i]!++;
    cell.sum += value;
    cell.count++;
  }

  get(): Promise<MetricObjectWithValues<MetricValueWithName<string>>> {
    const values: MetricValueWithName<string>[] = [];
    for (const [value, cell] of this.cells) {
      let cumulative = 0;
      for (let i = 0; i <= this.bounds.length; i++) {
        cumulative += cell.buckets[i]!;
        const le = i < this.bounds.length ? this.bounds[i]! : '+Inf';
        values.push({
          metricName: `${this.name}_bucket`,
          labels: { le, [this.label]: value },
          value: cumulative,
        });
      }
      values.push({ metricName: `${this.name}_sum`, labels: { [this.label]: value }, value: cell.sum });
      values.push({ metricName: `${this.name}_count`, labels: { [this.label]: value }, value: cell.count });
    }
    // (prom-client's typings declare `type` as a numeric enum; at run time it is this string)
    const metric = { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
    return Promise.resolve(metric as unknown as MetricObjectWithValues<MetricValueWithName<string>>);
  }

  /** Zeroes every series; cells handed out stay valid (callers keep them). */
  reset(): void {
    for (const cell of this.cells.values()) {
      cell.buckets.fill(0);
      cell.sum = 0;
      cell.count = 0;
    }
  }
}

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new CellCounter({
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
  readonly duration = new CellHistogram(
    'tlsecho_request_duration_seconds',
    'time from request headers parsed to response written, HTTPS',
    'route',
    [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
    this.registry,
  );
  readonly handshakes = new CellCounter({
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
  readonly clientHellos = new CellCounter({
    name: 'tlsecho_client_hellos_total',
    help: 'ClientHellos read on the HTTPS port, by the highest TLS version offered and whether h2 was offered',
    labelNames: ['offered_max_version', 'h2_offered'] as const,
    registers: [this.registry],
  });
  readonly connectionsRejected = new Counter({
    name: 'tlsecho_connections_rejected_total',
    help: 'TCP connections to the HTTPS port dropped before TLS, by reason (cap: --max-connections reached)',
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
  if (/UNSUPPORTED_PROTOCOL|VERSION_TOO_LOW/.test(code)) return 'unsupported_protocol';
  if (code === 'ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE') return 'client_cert_missing';
  if (code === 'ERR_SSL_CERTIFICATE_VERIFY_FAILED') return 'client_cert_rejected';
  if (/ALERT_(UNKNOWN_CA|BAD_CERTIFICATE|CERTIFICATE_UNKNOWN)/.test(code)) return 'server_cert_rejected';
  if (/ALERT/.test(code)) return 'client_alert';
  return 'other';
}
