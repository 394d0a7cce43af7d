// The measured part of a bench run: a warm-up per server, then every scenario in every round on
// every server that speaks it (the floors of its protocol), taking turns, each run with its server's CPU time, peak memory and (for tlsecho)
// resumption share and request log lines.
import { closeSync, openSync, readSync, truncateSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandError } from '../src/config/errors.js';
import { fullHandshakes } from './full-handshake.js';
import { h2loadErrors, runH2load, type H2loadRun } from './h2load.js';
import type { FloorKind } from './node-floor.js';
import type { BenchOptions, ScenarioName } from './options.js';
import { sampleRss, treeCpuMs } from './processes.js';
import { fmt } from './report.js';
import { handshakeCounts } from './server-metrics.js';
import type { RunningTlsecho } from './tlsecho.js';
import { runWrk, writeWrkScript, wrkErrors, type WrkRun } from './wrk.js';

export const SCENARIO: Record<ScenarioName, { label: string; path: string; headers: string[] }> = {
  echo: { label: 'echo, keep-alive', path: '/', headers: [] },
  ping: { label: '/ping, keep-alive', path: '/ping', headers: [] },
  json: { label: 'JSON echo, keep-alive', path: '/', headers: ['Accept: application/json'] },
  // wrk reconnects offering its previous TLS session: resumed wherever the server allows it.
  handshake: { label: 'echo, new connection each (wrk)', path: '/', headers: ['Connection: close'] },
  'full-handshake': { label: '/ping, full TLS handshake each (s_time)', path: '/ping', headers: [] },
  h2: { label: 'echo, HTTP/2 keep-alive (h2load)', path: '/', headers: [] },
};

export type FloorName = `${FloorKind}-floor`;
export type ServerName = 'tlsecho' | 'nginx' | FloorName;
export const floorName = (k: FloorKind): FloorName => `${k}-floor`;

/** The floors that speak a scenario's protocol: node:http2 for h2, node:tls and node:http for the rest. */
export function floorsOf(s: ScenarioName): FloorName[] {
  return s === 'h2' ? ['http2-floor'] : ['tls-floor', 'http-floor'];
}
type Measured = Pick<WrkRun, 'rps' | 'requests' | 'duration_us'> & Partial<WrkRun>;
export type Run = Measured & {
  scenario: ScenarioName;
  server: ServerName;
  round: number;
  /** CPU time the server's processes used per request (robust on a busy machine). */
  cpu_us_per_request: number;
  /** tlsecho only: share of its TLS handshakes in this run that resumed a session (/metrics). */
  resumed_share?: number;
  /** tlsecho only: request log lines written during the run. */
  log_lines?: number;
};

/** The servers under test, as the rounds drive them. */
export interface ServersUnderTest {
  servers: ServerName[];
  ports: Record<ServerName, number>;
  pids: Record<ServerName, number>;
  tlsecho: RunningTlsecho;
  tools: { wrk: string; h2load: string; openssl: string };
  caFile: string;
}

const say = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

function countLines(path: string): number {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(1 << 20);
  let lines = 0;
  for (let n; (n = readSync(fd, buf, 0, buf.length, null)) > 0;)
    for (let i = 0; i < n; i++) if (buf[i] === 10) lines++;
  closeSync(fd);
  return lines;
}

/** Runs the warm-up and every round; returns each run and each server's peak memory. */
export async function runRounds(
  o: BenchOptions,
  t: ServersUnderTest,
  dir: string,
): Promise<{ runs: Run[]; peak: Record<ServerName, number> }> {
  const script = writeWrkScript(dir);
  const measure = (server: ServerName, s: ScenarioName, durationMs: number): Promise<Measured> =>
    s === 'h2'
      ? runH2load({
          h2load: t.tools.h2load,
          url: `https://localhost:${t.ports[server]}${SCENARIO[s].path}`,
          durationMs,
          connections: o.connections,
          streams: o['h2-streams'],
          threads: o.threads,
          dir,
        })
      : s === 'full-handshake'
        ? fullHandshakes({
            openssl: t.tools.openssl,
            port: t.ports[server],
            ca: t.caFile,
            durationMs,
            clients: o['handshake-clients'],
          })
        : runWrk({
            wrk: t.tools.wrk,
            script,
            url: `https://localhost:${t.ports[server]}${SCENARIO[s].path}`,
            durationMs,
            connections: o.connections,
            threads: o.threads,
            headers: SCENARIO[s].headers,
          });

  const serversOf = (s: ScenarioName) =>
    t.servers.filter((v) => v === 'tlsecho' || v === 'nginx' || floorsOf(s).includes(v as FloorName));
  if (o.warmup > 0)
    for (const server of t.servers) {
      // Each in the protocol it is measured in; tlsecho and nginx in both when h2 runs.
      const kinds: ScenarioName[] = server === 'http2-floor' ? ['h2'] : ['echo'];
      if ((server === 'tlsecho' || server === 'nginx') && o.scenarios.includes('h2')) kinds.push('h2');
      for (const s of kinds) {
        say(`warming up ${server}${s === 'h2' ? ' (h2)' : ''}`);
        await measure(server, s, o.warmup);
      }
    }

  const runs: Run[] = [];
  const peak = Object.fromEntries(t.servers.map((v) => [v, 0])) as Record<ServerName, number>;
  for (let round = 1; round <= o.rounds; round++)
    for (const scenario of o.scenarios) {
      // Rotate who goes first, so none always runs on a machine another just warmed.
      const servers = serversOf(scenario);
      const shift = (round - 1) % servers.length;
      const order = [...servers.slice(shift), ...servers.slice(0, shift)];
      for (const server of order) {
        const tlsecho = server === 'tlsecho' ? t.tlsecho : undefined;
        if (tlsecho) truncateSync(tlsecho.logFile, 0);
        const hs0 = tlsecho && (await handshakeCounts(tlsecho.httpPort));
        const rss = sampleRss(t.pids[server]);
        const cpu0 = treeCpuMs(t.pids[server]);
        const m = await measure(server, scenario, o.duration);
        const cpu_us_per_request = ((treeCpuMs(t.pids[server]) - cpu0) * 1000) / m.requests;
        const r: Run = { ...m, cpu_us_per_request, scenario, server, round };
        peak[server] = Math.max(peak[server], rss.stop());
        const errors =
          scenario === 'h2'
            ? h2loadErrors(m as H2loadRun)
            : r.p50_us === undefined
              ? undefined
              : wrkErrors(r as WrkRun);
        if (errors)
          throw new CommandError(
            `${server}, ${SCENARIO[scenario].label}: ${scenario === 'h2' ? 'h2load' : 'wrk'} saw errors: ${errors}`,
          );
        if (tlsecho) {
          const hs1 = hs0 && (await handshakeCounts(tlsecho.httpPort));
          const handshakes = hs1 && hs1.full + hs1.resumed - hs0!.full - hs0!.resumed;
          if (hs1 && handshakes) r.resumed_share = (hs1.resumed - hs0!.resumed) / handshakes;
          await sleep(200); // let an asynchronous logger flush
          r.log_lines = countLines(tlsecho.logFile);
        }
        runs.push(r);
        say(progressLine(o, r));
      }
    }
  return { runs, peak };
}

function progressLine(o: BenchOptions, r: Run): string {
  return (
    `round ${r.round}/${o.rounds} ${r.scenario.padEnd(9)} ${r.server.padEnd(11)} ${fmt.num(r.rps).padStart(7)} req/s` +
    (r.p50_us === undefined ? '' : `  p50 ${fmt.ms(r.p50_us)} ms  p99 ${fmt.ms(r.p99_us!)} ms`) +
    `  cpu ${fmt.num(r.cpu_us_per_request)} µs/req` +
    (r.resumed_share === undefined || !r.scenario.endsWith('handshake')
      ? ''
      : `  ${fmt.num(r.resumed_share * 100)}% resumed`) +
    (r.read ? `  (${r.read} read errors)` : '')
  );
}
