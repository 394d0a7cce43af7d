// Per-name counts and latencies, printed as the summary when the client stops.

interface NameStats {
  requests: number;
  ok: number;
  latencies: number[];
  failures: Map<string, number>;
}

/** Nearest-rank percentile of sorted values (p in 0..100). */
export function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export class Stats {
  private readonly byName = new Map<string, NameStats>();

  constructor(names: string[]) {
    for (const n of names) this.entry(n);
  }

  recordSuccess(name: string, latencyMs: number): void {
    const s = this.entry(name);
    s.requests++;
    s.ok++;
    s.latencies.push(latencyMs);
  }

  recordFailure(name: string, reason: string): void {
    const s = this.entry(name);
    s.requests++;
    s.failures.set(reason, (s.failures.get(reason) ?? 0) + 1);
  }

  get requests(): number {
    return [...this.byName.values()].reduce((n, s) => n + s.requests, 0);
  }

  get failed(): number {
    return [...this.byName.values()].reduce((n, s) => n + s.requests - s.ok, 0);
  }

  /** The summary table, one row per name, then one line per failure reason. */
  format(): string[] {
    const ms = (v: number | undefined) => (v === undefined ? '-' : `${v.toFixed(1)}ms`);
    const rows = [['name', 'requests', 'ok', 'failed', 'p50', 'p99']];
    const failureLines: string[] = [];
    for (const [name, s] of this.byName) {
      const sorted = [...s.latencies].sort((a, b) => a - b);
      rows.push([
        name,
        String(s.requests),
        String(s.ok),
        String(s.requests - s.ok),
        ms(percentile(sorted, 50)),
        ms(percentile(sorted, 99)),
      ]);
      for (const [reason, n] of s.failures) failureLines.push(`  ${name}: ${n} x ${reason}`);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const table = rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i]!)).join('  ')}`.trimEnd());
    const head = `summary: ${this.requests} requests, ${this.requests - this.failed} ok, ${this.failed} failed`;
    return [head, ...table, ...(failureLines.length ? ['failures:', ...failureLines] : [])];
  }

  private entry(name: string): NameStats {
    let s = this.byName.get(name);
    if (!s) {
      s = { requests: 0, ok: 0, latencies: [], failures: new Map() };
      this.byName.set(name, s);
    }
    return s;
  }
}
