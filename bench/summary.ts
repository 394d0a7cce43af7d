// From the runs to the figures: medians per scenario and server, tlsecho/nginx ratios against the
// targets of issue 7, tlsecho/floor ratios against those of issue 14, the table's rows and the
// summary of the JSON record.
import type { BenchOptions, ScenarioName } from './options.js';
import { FLOOR_LABEL, fmt, median, spread, target, type FloorCell, type Row, type Target } from './report.js';
import { floorsOf, SCENARIO, type FloorName, type Run, type ServerName } from './rounds.js';

/** The floor each scenario's floor target is against: the bare server of the same protocol. */
const FLOOR_TARGET: Partial<Record<ScenarioName, { floor: FloorName; name: string }>> = {
  echo: { floor: 'http-floor', name: 'keep-alive echo req/s vs node:http floor' },
  handshake: { floor: 'tls-floor', name: 'new connections/s (wrk) vs node:tls floor' },
  h2: { floor: 'http2-floor', name: 'HTTP/2 keep-alive echo req/s vs node:http2 floor' },
};
const FLOOR_GOAL = 0.9;

export interface Summary {
  rows: Row[];
  targets: Target[];
  summary: Record<string, object>;
  /** tlsecho/floor paired by round: per scenario and floor, the median and range (none without floors). */
  paired: string;
}

export function summarize(o: BenchOptions, runs: Run[], floors: FloorName[]): Summary {
  const med = (s: ScenarioName, server: ServerName, k: 'rps' | 'p50_us' | 'p99_us' | 'cpu_us_per_request') =>
    median(runs.filter((r) => r.scenario === s && r.server === server).map((r) => r[k] ?? NaN));
  // tlsecho/nginx (or a floor) within each round: a round's runs are seconds apart, so the range
  // shows how much the machine moved under one round's figures (the table's ratio is of the medians).
  const roundRatios = (s: ScenarioName, k: 'rps' | 'p99_us', against: ServerName = 'nginx') =>
    Array.from({ length: o.rounds }, (_, i) => {
      const of = (server: ServerName) =>
        runs.find((r) => r.scenario === s && r.server === server && r.round === i + 1)?.[k] ?? NaN;
      return of('tlsecho') / of(against);
    });
  const rows: Row[] = [];
  const targets: Target[] = [];
  const summary: Record<string, object> = {};
  const paired: string[] = [];
  for (const s of o.scenarios) {
    const rps = { tlsecho: med(s, 'tlsecho', 'rps'), nginx: med(s, 'nginx', 'rps') };
    const p50 = { tlsecho: med(s, 'tlsecho', 'p50_us'), nginx: med(s, 'nginx', 'p50_us') };
    const p99 = { tlsecho: med(s, 'tlsecho', 'p99_us'), nginx: med(s, 'nginx', 'p99_us') };
    const cpu = {
      tlsecho: med(s, 'tlsecho', 'cpu_us_per_request'),
      nginx: med(s, 'nginx', 'cpu_us_per_request'),
    };
    const here = floorsOf(s).filter((f) => floors.includes(f));
    const floorRps = Object.fromEntries(here.map((f) => [f, med(s, f, 'rps')]));
    const floorCpu = Object.fromEntries(here.map((f) => [f, med(s, f, 'cpu_us_per_request')]));
    const cells = (of: Record<string, number>, mine: number) =>
      Object.fromEntries(
        here.map((f) => [f, { figure: fmt.num(of[f]!), ratio: mine / of[f]! } satisfies FloorCell]),
      );
    // tlsecho/floor paired by round: the line under the table and the record's fields.
    const perRound = Object.fromEntries(here.map((f) => [f, roundRatios(s, 'rps', f)]));
    for (const f of here) {
      const per = perRound[f]!;
      const range = spread(per);
      paired.push(
        `${s} /${FLOOR_LABEL[f]} ${median(per).toFixed(2)}` +
          (range ? ` (${range[0].toFixed(2)}–${range[1].toFixed(2)})` : ''),
      );
    }
    const ft = FLOOR_TARGET[s];
    const floorTarget =
      ft && here.includes(ft.floor)
        ? target(ft.name, rps.tlsecho / floorRps[ft.floor]!, 'min', FLOOR_GOAL)
        : undefined;
    const rpsTarget =
      s === 'echo'
        ? target('keep-alive echo req/s', rps.tlsecho / rps.nginx, 'min', 0.5)
        : s === 'handshake' || s === 'full-handshake'
          ? target(`${SCENARIO[s].label}/s`, rps.tlsecho / rps.nginx, 'min', 0.8)
          : undefined;
    const p99Target =
      s === 'echo' ? target('keep-alive echo p99', p99.tlsecho / p99.nginx, 'max', 2) : undefined;
    targets.push(...[rpsTarget, p99Target, floorTarget].filter((t) => t !== undefined));
    const unit = s.endsWith('handshake') ? 'conn/s' : 'req/s';
    rows.push({
      label: `${SCENARIO[s].label}: ${unit}`,
      tlsecho: fmt.num(rps.tlsecho),
      nginx: fmt.num(rps.nginx),
      ratio: rps.tlsecho / rps.nginx,
      rounds: spread(roundRatios(s, 'rps')),
      target: rpsTarget,
      floors: cells(floorRps, rps.tlsecho),
      floorTarget,
    });
    rows.push({
      label: '  server CPU per request, µs',
      tlsecho: fmt.num(cpu.tlsecho),
      nginx: fmt.num(cpu.nginx),
      ratio: cpu.tlsecho / cpu.nginx,
      floors: cells(floorCpu, cpu.tlsecho),
    });
    const resumed = median(
      runs.filter((r) => r.scenario === s && r.resumed_share !== undefined).map((r) => r.resumed_share!),
    );
    if (s.endsWith('handshake') && Number.isFinite(resumed))
      rows.push({
        label: '  tlsecho handshakes that resumed, %',
        tlsecho: fmt.num(resumed * 100),
        nginx: '',
      });
    if (s !== 'full-handshake')
      rows.push(
        {
          label: '  p50 latency, ms',
          tlsecho: fmt.ms(p50.tlsecho),
          nginx: fmt.ms(p50.nginx),
          ratio: p50.tlsecho / p50.nginx,
        },
        {
          label: '  p99 latency, ms',
          tlsecho: fmt.ms(p99.tlsecho),
          nginx: fmt.ms(p99.nginx),
          ratio: p99.tlsecho / p99.nginx,
          rounds: spread(roundRatios(s, 'p99_us')),
          target: p99Target,
        },
      );
    summary[s] = {
      rps,
      tlsecho_resumed_share: Number.isFinite(resumed) ? resumed : undefined,
      cpu_us_per_request: cpu,
      p50_us: p50,
      p99_us: p99,
      ratio_rps: rps.tlsecho / rps.nginx,
      ratio_p99: p99.tlsecho / p99.nginx,
      ratio_rps_rounds: roundRatios(s, 'rps'),
      floors: Object.fromEntries(
        here.map((f) => [
          f,
          {
            rps: floorRps[f],
            cpu_us_per_request: floorCpu[f],
            ratio_rps: rps.tlsecho / floorRps[f]!,
            // Paired by round, which cancels the machine's drift between rounds (the median of
            // these is the steadier estimate when the machine's speed moves from round to round).
            ratio_rps_rounds: perRound[f],
            ratio_rps_paired: median(perRound[f]!),
          },
        ]),
      ),
    };
  }
  return {
    rows,
    targets,
    summary,
    paired: paired.length ? `tlsecho / floor paired by round, median (range): ${paired.join(', ')}` : '',
  };
}
