// `npm run bench`: tlsecho server against nginx on loopback, same certificate, same TLS settings,
// same wrk, alternating in one run; prints tlsecho/nginx ratios against issue 7's targets and
// writes the whole record as JSON to bench/results/. Everything it starts is stopped at the end,
// on failure and on Ctrl-C. See docs/performance.md.
import { closeSync, openSync, readFileSync, readSync, truncateSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { issueCertificates } from '../src/ca/api.js';
import { CommandError, UsageError } from '../src/config/errors.js';
import { DEFAULT_DOMAIN, serverNames } from '../src/config/shared.js';
import { tempDir } from '../src/util/sandbox.js';
import { timeCa } from './ca-timing.js';
import { startNginx } from './nginx.js';
import { startNodeFloor } from './node-floor.js';
import { parseBenchOptions, type BenchOptions, type ScenarioName } from './options.js';
import { checkServer } from './probe.js';
import {
  installCleanup,
  processTree,
  sampleRss,
  stopAll,
  stopGroup,
  treeCpuMs,
  treeRss,
} from './processes.js';
import { fmt, median, renderTable, spread, target, writeResults, type Row } from './report.js';
import { handshakeCounts } from './server-metrics.js';
import { startTlsecho } from './tlsecho.js';
import { ensureTools, versionOf } from './tools.js';
import { fullHandshakes } from './full-handshake.js';
import { runWrk, writeWrkScript, wrkErrors, type WrkRun } from './wrk.js';

const SCENARIO: Record<ScenarioName, { label: string; path: string; headers: string[] }> = {
  echo: { label: 'echo, keep-alive', path: '/', headers: [] },
  ping: { label: '/ping, keep-alive', path: '/ping', headers: [] },
  json: { label: 'JSON echo, keep-alive', path: '/', headers: ['Accept: application/json'] },
  // wrk reconnects offering its previous TLS session: resumed wherever the server allows it.
  handshake: { label: 'echo, new connection each (wrk)', path: '/', headers: ['Connection: close'] },
  'full-handshake': { label: '/ping, full TLS handshake each (s_time)', path: '/ping', headers: [] },
};

type ServerName = 'tlsecho' | 'nginx' | 'node-floor';
type Measured = Pick<WrkRun, 'rps' | 'requests' | 'duration_us'> & Partial<WrkRun>;
type Run = Measured & {
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

async function bench(o: BenchOptions, dir: string): Promise<number> {
  const tools = ensureTools();
  const started = new Date();
  const loadBefore = loadavg();
  if (loadBefore[0]! > cpus().length * 0.5)
    say(`warning: load average ${loadBefore[0]!.toFixed(2)} on ${cpus().length} CPUs; numbers will be noisy`);

  // One ECDSA P-256 certificate from tlsecho's CA, served by both.
  const pki = await issueCertificates({
    out: join(dir, 'pki'),
    dnsNames: [...serverNames(DEFAULT_DOMAIN), 'localhost'],
    ipAddresses: ['127.0.0.1', '::1'],
  });
  const cert = pki.server!.cert;
  const key = pki.server!.key;
  const caFile = pki.root.cert;
  const ca = readFileSync(caFile, 'utf8');

  let caTimes: { tlsecho: number[]; openssl: number[] } | undefined;
  if (o['ca-reps'] > 0) {
    say(`timing 'tlsecho ca' and openssl, ${o['ca-reps']} times each`);
    caTimes = timeCa({
      node: o.node,
      cli: o.cli,
      openssl: tools.openssl,
      dir: join(dir, 'ca'),
      reps: o['ca-reps'],
    });
  }

  const extraArgs = o['tlsecho-args'].split(/\s+/).filter(Boolean);
  const tlsechoOpts = { node: o.node, cli: o.cli, cert, key, ca: caFile, extraArgs };
  const startMs: number[] = [];
  for (let i = 0; i < o['startup-reps']; i++) {
    const t = await startTlsecho({ ...tlsechoOpts, logFile: join(dir, `startup-${i}.log`) });
    startMs.push(t.startMs);
    await stopGroup(t.child);
  }

  say(`starting tlsecho server${extraArgs.map((a) => ` ${a}`).join('')} and nginx`);
  const tlsecho = await startTlsecho({ ...tlsechoOpts, logFile: join(dir, 'tlsecho.log') });
  startMs.push(tlsecho.startMs);
  const nginx = await startNginx({
    nginx: tools.nginx,
    dir: join(dir, 'nginx'),
    cert,
    key,
    accessLog: o['nginx-access-log'],
  });
  // The node:tls floor runs as many processes as tlsecho's workers (its primary only forks).
  const tlsechoProcesses = processTree(tlsecho.child.pid!).length;
  const floor = o['node-floor']
    ? await startNodeFloor({
        node: o.node,
        cert,
        key,
        processes: tlsechoProcesses > 1 ? tlsechoProcesses - 1 : 1,
      })
    : undefined;
  const servers: ServerName[] = floor ? ['tlsecho', 'nginx', 'node-floor'] : ['tlsecho', 'nginx'];
  const ports: Record<ServerName, number> = {
    tlsecho: tlsecho.httpsPort,
    nginx: nginx.port,
    'node-floor': floor?.port ?? 0,
  };
  const pids: Record<ServerName, number> = {
    tlsecho: tlsecho.child.pid!,
    nginx: nginx.child.pid!,
    'node-floor': floor?.child.pid ?? 0,
  };
  const tls = {
    tlsecho: await checkServer('tlsecho', ports.tlsecho, ca),
    nginx: await checkServer('nginx', ports.nginx, ca),
  };
  await sleep(1000);
  const idle = { tlsecho: treeRss(pids.tlsecho), nginx: treeRss(pids.nginx) };

  const script = writeWrkScript(dir);
  const measure = (server: ServerName, s: ScenarioName, durationMs: number): Promise<Measured> =>
    s === 'full-handshake'
      ? fullHandshakes({
          openssl: tools.openssl,
          port: ports[server],
          ca: caFile,
          durationMs,
          clients: o['handshake-clients'],
        })
      : runWrk({
          wrk: tools.wrk,
          script,
          url: `https://localhost:${ports[server]}${SCENARIO[s].path}`,
          durationMs,
          connections: o.connections,
          threads: o.threads,
          headers: SCENARIO[s].headers,
        });

  if (o.warmup > 0)
    for (const server of servers) {
      say(`warming up ${server}`);
      await measure(server, 'echo', o.warmup);
    }

  const runs: Run[] = [];
  const peak = { tlsecho: 0, nginx: 0, 'node-floor': 0 };
  for (let round = 1; round <= o.rounds; round++)
    for (const scenario of o.scenarios) {
      // Rotate who goes first, so none always runs on a machine another just warmed.
      const shift = (round - 1) % servers.length;
      const order = [...servers.slice(shift), ...servers.slice(0, shift)];
      for (const server of order) {
        if (server === 'tlsecho') truncateSync(tlsecho.logFile, 0);
        const hs0 = server === 'tlsecho' ? await handshakeCounts(tlsecho.httpPort) : undefined;
        const rss = sampleRss(pids[server]);
        const cpu0 = treeCpuMs(pids[server]);
        const m = await measure(server, scenario, o.duration);
        const cpu_us_per_request = ((treeCpuMs(pids[server]) - cpu0) * 1000) / m.requests;
        const r: Run = { ...m, cpu_us_per_request, scenario, server, round };
        peak[server] = Math.max(peak[server], rss.stop());
        const errors = r.p50_us === undefined ? undefined : wrkErrors(r as WrkRun);
        if (errors)
          throw new CommandError(`${server}, ${SCENARIO[scenario].label}: wrk saw errors: ${errors}`);
        if (server === 'tlsecho') {
          const hs1 = hs0 && (await handshakeCounts(tlsecho.httpPort));
          const handshakes = hs1 && hs1.full + hs1.resumed - hs0!.full - hs0!.resumed;
          if (hs1 && handshakes) r.resumed_share = (hs1.resumed - hs0!.resumed) / handshakes;
          await sleep(200); // let an asynchronous logger flush
          r.log_lines = countLines(tlsecho.logFile);
        }
        runs.push(r);
        say(
          `round ${round}/${o.rounds} ${scenario.padEnd(9)} ${server.padEnd(10)} ${fmt.num(r.rps).padStart(7)} req/s` +
            (r.p50_us === undefined ? '' : `  p50 ${fmt.ms(r.p50_us)} ms  p99 ${fmt.ms(r.p99_us!)} ms`) +
            `  cpu ${fmt.num(r.cpu_us_per_request)} µs/req` +
            (r.resumed_share === undefined || !scenario.endsWith('handshake')
              ? ''
              : `  ${fmt.num(r.resumed_share * 100)}% resumed`) +
            (r.read ? `  (${r.read} read errors)` : ''),
        );
      }
    }
  await sleep(1000);
  const idleAfter = { tlsecho: treeRss(pids.tlsecho), nginx: treeRss(pids.nginx) };

  // Medians per scenario and server, then the table.
  const med = (s: ScenarioName, server: ServerName, k: 'rps' | 'p50_us' | 'p99_us' | 'cpu_us_per_request') =>
    median(runs.filter((r) => r.scenario === s && r.server === server).map((r) => r[k] ?? NaN));
  // tlsecho/nginx within each round: a round's runs are seconds apart, so the range shows how much
  // the machine moved under one round's figures (the table's ratio is of the medians).
  const roundRatios = (s: ScenarioName, k: 'rps' | 'p99_us') =>
    Array.from({ length: o.rounds }, (_, i) => {
      const of = (server: ServerName) =>
        runs.find((r) => r.scenario === s && r.server === server && r.round === i + 1)?.[k] ?? NaN;
      return of('tlsecho') / of('nginx');
    });
  const rows: Row[] = [];
  const targets = [];
  const summary: Record<string, object> = {};
  for (const s of o.scenarios) {
    const rps = { tlsecho: med(s, 'tlsecho', 'rps'), nginx: med(s, 'nginx', 'rps') };
    const p50 = { tlsecho: med(s, 'tlsecho', 'p50_us'), nginx: med(s, 'nginx', 'p50_us') };
    const p99 = { tlsecho: med(s, 'tlsecho', 'p99_us'), nginx: med(s, 'nginx', 'p99_us') };
    const cpu = {
      tlsecho: med(s, 'tlsecho', 'cpu_us_per_request'),
      nginx: med(s, 'nginx', 'cpu_us_per_request'),
    };
    const floorRps = floor ? med(s, 'node-floor', 'rps') : undefined;
    const floorCpu = floor ? med(s, 'node-floor', 'cpu_us_per_request') : undefined;
    const rpsTarget =
      s === 'echo'
        ? target('keep-alive echo req/s', rps.tlsecho / rps.nginx, 'min', 0.5)
        : s === 'handshake' || s === 'full-handshake'
          ? target(`${SCENARIO[s].label}/s`, rps.tlsecho / rps.nginx, 'min', 0.8)
          : undefined;
    const p99Target =
      s === 'echo' ? target('keep-alive echo p99', p99.tlsecho / p99.nginx, 'max', 2) : undefined;
    targets.push(...[rpsTarget, p99Target].filter((t) => t !== undefined));
    const unit = s.endsWith('handshake') ? 'conn/s' : 'req/s';
    rows.push({
      label: `${SCENARIO[s].label}: ${unit}`,
      tlsecho: fmt.num(rps.tlsecho),
      nginx: fmt.num(rps.nginx),
      ratio: rps.tlsecho / rps.nginx,
      rounds: spread(roundRatios(s, 'rps')),
      target: rpsTarget,
      ...(floorRps === undefined ? {} : { floor: fmt.num(floorRps), floorRatio: rps.tlsecho / floorRps }),
    });
    rows.push({
      label: '  server CPU per request, µs',
      tlsecho: fmt.num(cpu.tlsecho),
      nginx: fmt.num(cpu.nginx),
      ratio: cpu.tlsecho / cpu.nginx,
      ...(floorCpu === undefined ? {} : { floor: fmt.num(floorCpu), floorRatio: cpu.tlsecho / floorCpu }),
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
      ...(floor ? { node_floor: { rps: floorRps, cpu_us_per_request: floorCpu } } : {}),
    };
  }
  rows.push(
    { label: 'RSS idle after start, MB', tlsecho: fmt.mb(idle.tlsecho), nginx: fmt.mb(idle.nginx) },
    { label: 'RSS peak under load, MB', tlsecho: fmt.mb(peak.tlsecho), nginx: fmt.mb(peak.nginx) },
    { label: 'RSS idle after load, MB', tlsecho: fmt.mb(idleAfter.tlsecho), nginx: fmt.mb(idleAfter.nginx) },
    { label: 'tlsecho server start to ready, ms', tlsecho: fmt.num(median(startMs)), nginx: '' },
  );
  if (caTimes)
    rows.push({
      label: 'tlsecho ca vs openssl (root+leaf), ms',
      tlsecho: fmt.num(median(caTimes.tlsecho)),
      nginx: `${fmt.num(median(caTimes.openssl))} (openssl)`,
      ratio: median(caTimes.tlsecho) / median(caTimes.openssl),
    });

  const logged = runs.filter((r) => r.log_lines !== undefined && r.log_lines < r.requests);
  for (const r of logged)
    say(
      `warning: tlsecho logged ${r.log_lines} lines for ${r.requests} requests (${r.scenario}, round ${r.round})`,
    );

  const record = {
    started: started.toISOString(),
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model,
      loadavg_before: loadBefore,
      loadavg_after: loadavg(),
    },
    versions: {
      node: process.version,
      tlsecho_node: o.nodeVersion,
      nginx: versionOf(tools.nginx, ['-v']),
      wrk: versionOf(tools.wrk, ['-v']),
      openssl: versionOf(tools.openssl, ['version']),
    },
    settings: {
      duration_ms: o.duration,
      rounds: o.rounds,
      warmup_ms: o.warmup,
      wrk_threads: o.threads,
      wrk_connections: o.connections,
      tlsecho_args: extraArgs,
      nginx_access_log: o['nginx-access-log'],
      tlsecho_logging: 'request log to a file (stdout/stderr redirected), one line per request',
    },
    negotiated: tls,
    targets,
    summary,
    memory_bytes: { idle, peak_under_load: peak, idle_after_load: idleAfter },
    tlsecho_start_to_ready_ms: startMs,
    ca_ms: caTimes,
    runs,
  };
  const path = writeResults(o.results, record);

  const wrkSettings = `wrk -t${o.threads} -c${o.connections} -d${o.duration / 1000}s, median of ${o.rounds} rounds`;
  const nginxVersion = record.versions.nginx.replace(/^nginx version: /, '');
  process.stdout.write(
    `\ntlsecho server ${extraArgs.join(' ') || '(defaults)'} on Node ${o.nodeVersion} vs ${nginxVersion} on ${cpus().length} CPUs (${wrkSettings})\n` +
      `verified client: tlsecho ${tls.tlsecho.protocol} ${tls.tlsecho.cipher}, nginx ${tls.nginx.protocol} ${tls.nginx.cipher}; ` +
      `wrk offers its last session again when it reconnects (resumption, if the server takes it)\n\n` +
      `${renderTable(rows)}\n\n` +
      `targets: ${targets.filter((t) => t.ok).length} of ${targets.length} met; results in ${path}\n`,
  );
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const o = parseBenchOptions(argv);
  if (!o) return 0;
  const { dir, cleanup } = tempDir('tlsecho-bench-');
  installCleanup(cleanup);
  try {
    return await bench(o, dir);
  } finally {
    await stopAll();
    cleanup();
  }
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    const known = err instanceof UsageError || err instanceof CommandError;
    process.stderr.write(
      `bench: ${known ? (err as Error).message : ((err as Error).stack ?? String(err))}\n`,
    );
    process.exitCode = err instanceof UsageError ? 2 : 1;
  },
);
