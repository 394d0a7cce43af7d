// `npm run bench`: tlsecho server against nginx on loopback, same certificate, same TLS settings,
// same wrk (h2load for HTTP/2), alternating in one run, with bare Node servers as floors (--floors);
// prints tlsecho/nginx and tlsecho/floor ratios against their targets and
// writes the whole record as JSON to bench/results/. Everything it starts is stopped at the end,
// on failure and on Ctrl-C. See docs/performance.md.
//
// A run is four steps: set up (certificate, CA timing, start-up timing, the servers), run the
// rounds (rounds.ts), summarize (summary.ts), then record and print.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { issueCertificates } from '../src/ca/api.js';
import { CommandError, UsageError } from '../src/config/errors.js';
import { DEFAULT_DOMAIN, serverNames } from '../src/config/shared.js';
import { tempDir } from '../src/util/sandbox.js';
import { timeCa } from './ca-timing.js';
import { startNginx } from './nginx.js';
import { startNodeFloor, type RunningFloor } from './node-floor.js';
import { parseBenchOptions, type BenchOptions } from './options.js';
import { checkH2, checkServer } from './probe.js';
import { installCleanup, processTree, stopAll, stopGroup, treeRss } from './processes.js';
import { fmt, median, renderTable, writeResults, type Row } from './report.js';
import {
  floorName,
  runRounds,
  type FloorName,
  type Run,
  type ServerName,
  type ServersUnderTest,
} from './rounds.js';
import { summarize, type Summary } from './summary.js';
import { startTlsecho } from './tlsecho.js';
import { ensureTools, versionOf } from './tools.js';

const say = (msg: string) => process.stderr.write(`bench: ${msg}\n`);

type Memory = Record<'tlsecho' | 'nginx', number>;

/** Everything measured before the rounds, and the servers the rounds drive. */
interface Setup extends ServersUnderTest {
  tools: ReturnType<typeof ensureTools>;
  extraArgs: string[];
  floors: FloorName[];
  negotiated: Record<string, { protocol: string; cipher: string }>;
  caTimes: { tlsecho: number[]; openssl: number[] } | undefined;
  startMs: number[];
  idle: Memory;
}

async function setUp(o: BenchOptions, dir: string): Promise<Setup> {
  const tools = ensureTools();
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

  let caTimes: Setup['caTimes'];
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
  // The floors run as many processes as tlsecho's workers (its primary only forks).
  const tlsechoProcesses = processTree(tlsecho.child.pid!).length;
  const floors = new Map<FloorName, RunningFloor>();
  for (const kind of o.floors)
    floors.set(
      floorName(kind),
      await startNodeFloor({
        kind,
        node: o.node,
        cert,
        key,
        processes: tlsechoProcesses > 1 ? tlsechoProcesses - 1 : 1,
      }),
    );
  const ports = { tlsecho: tlsecho.httpsPort, nginx: nginx.port } as Record<ServerName, number>;
  const pids = { tlsecho: tlsecho.child.pid!, nginx: nginx.child.pid! } as Record<ServerName, number>;
  for (const [name, f] of floors) {
    ports[name] = f.port;
    pids[name] = f.child.pid!;
  }
  const negotiated: Setup['negotiated'] = {
    tlsecho: await checkServer('tlsecho', ports.tlsecho, ca),
    nginx: await checkServer('nginx', ports.nginx, ca),
  };
  if (o.scenarios.includes('h2')) {
    negotiated['tlsecho h2'] = await checkH2('tlsecho', ports.tlsecho, ca);
    negotiated['nginx h2'] = await checkH2('nginx', ports.nginx, ca);
    if (floors.has('http2-floor')) await checkH2('node:http2 floor', ports['http2-floor'], ca);
  }
  await sleep(1000);
  return {
    servers: ['tlsecho', 'nginx', ...floors.keys()],
    ports,
    pids,
    tlsecho,
    tools,
    caFile,
    extraArgs,
    floors: [...floors.keys()],
    negotiated,
    caTimes,
    startMs,
    idle: { tlsecho: treeRss(pids.tlsecho), nginx: treeRss(pids.nginx) },
  };
}

/** The rows after the scenarios': memory, start-up and the CA. */
function otherRows(setup: Setup, memory: { peak: Memory; idleAfter: Memory }): Row[] {
  const { idle, startMs, caTimes } = setup;
  const { peak, idleAfter } = memory;
  const rows: Row[] = [
    { label: 'RSS idle after start, MB', tlsecho: fmt.mb(idle.tlsecho), nginx: fmt.mb(idle.nginx) },
    { label: 'RSS peak under load, MB', tlsecho: fmt.mb(peak.tlsecho), nginx: fmt.mb(peak.nginx) },
    { label: 'RSS idle after load, MB', tlsecho: fmt.mb(idleAfter.tlsecho), nginx: fmt.mb(idleAfter.nginx) },
    { label: 'tlsecho server start to ready, ms', tlsecho: fmt.num(median(startMs)), nginx: '' },
  ];
  if (caTimes)
    rows.push({
      label: 'tlsecho ca vs openssl (root+leaf), ms',
      tlsecho: fmt.num(median(caTimes.tlsecho)),
      nginx: `${fmt.num(median(caTimes.openssl))} (openssl)`,
      ratio: median(caTimes.tlsecho) / median(caTimes.openssl),
    });
  return rows;
}

/** The whole record, written to the results folder; returns it and its path. */
function record(
  o: BenchOptions,
  setup: Setup,
  measured: { runs: Run[]; peak: Record<ServerName, number>; idleAfter: Memory },
  s: Summary,
  machine: { started: Date; loadBefore: number[] },
) {
  const versions = {
    node: process.version,
    tlsecho_node: o.nodeVersion,
    nginx: versionOf(setup.tools.nginx, ['-v']),
    wrk: versionOf(setup.tools.wrk, ['-v']),
    h2load: versionOf(setup.tools.h2load, ['--version']),
    openssl: versionOf(setup.tools.openssl, ['version']),
  };
  const rec = {
    started: machine.started.toISOString(),
    machine: {
      cpus: cpus().length,
      cpu_model: cpus()[0]?.model,
      loadavg_before: machine.loadBefore,
      loadavg_after: loadavg(),
    },
    versions,
    settings: {
      duration_ms: o.duration,
      rounds: o.rounds,
      warmup_ms: o.warmup,
      wrk_threads: o.threads,
      wrk_connections: o.connections,
      h2load_streams_per_connection: o['h2-streams'],
      floors: setup.floors,
      tlsecho_args: setup.extraArgs,
      nginx_access_log: o['nginx-access-log'],
      tlsecho_logging: 'request log to a file (stdout/stderr redirected), one line per request',
    },
    negotiated: setup.negotiated,
    targets: s.targets,
    summary: s.summary,
    memory_bytes: { idle: setup.idle, peak_under_load: measured.peak, idle_after_load: measured.idleAfter },
    tlsecho_start_to_ready_ms: setup.startMs,
    ca_ms: setup.caTimes,
    runs: measured.runs,
  };
  return { versions, path: writeResults(o.results, rec) };
}

function print(o: BenchOptions, setup: Setup, rows: Row[], s: Summary, nginxVersion: string, path: string) {
  const { negotiated: tls, extraArgs } = setup;
  const wrkSettings =
    `wrk -t${o.threads} -c${o.connections} -d${o.duration / 1000}s` +
    (o.scenarios.includes('h2') ? `, h2load -c${o.connections} -m${o['h2-streams']}` : '') +
    `, median of ${o.rounds} rounds`;
  process.stdout.write(
    `\ntlsecho server ${extraArgs.join(' ') || '(defaults)'} on Node ${o.nodeVersion} vs ${nginxVersion.replace(/^nginx version: /, '')} on ${cpus().length} CPUs (${wrkSettings})\n` +
      `verified client: tlsecho ${tls.tlsecho!.protocol} ${tls.tlsecho!.cipher}, nginx ${tls.nginx!.protocol} ${tls.nginx!.cipher}; ` +
      `wrk offers its last session again when it reconnects (resumption, if the server takes it)\n\n` +
      `${renderTable(rows)}\n\n` +
      (s.paired ? `${s.paired}\n` : '') +
      `targets: ${s.targets.filter((t) => t.ok).length} of ${s.targets.length} met; results in ${path}\n`,
  );
}

async function bench(o: BenchOptions, dir: string): Promise<number> {
  const started = new Date();
  const loadBefore = loadavg();
  if (loadBefore[0]! > cpus().length * 0.5)
    say(`warning: load average ${loadBefore[0]!.toFixed(2)} on ${cpus().length} CPUs; numbers will be noisy`);

  const setup = await setUp(o, dir);
  const { runs, peak } = await runRounds(o, setup, dir);
  await sleep(1000);
  const idleAfter = { tlsecho: treeRss(setup.pids.tlsecho), nginx: treeRss(setup.pids.nginx) };

  const s = summarize(o, runs, setup.floors);
  for (const r of runs.filter((r) => r.log_lines !== undefined && r.log_lines < r.requests))
    say(
      `warning: tlsecho logged ${r.log_lines} lines for ${r.requests} requests (${r.scenario}, round ${r.round})`,
    );
  const { versions, path } = record(o, setup, { runs, peak, idleAfter }, s, { started, loadBefore });
  print(o, setup, [...s.rows, ...otherRows(setup, { peak, idleAfter })], s, versions.nginx, path);
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
