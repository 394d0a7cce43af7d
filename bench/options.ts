// The benchmark's knobs: flags over TLSECHO_BENCH_* environment variables over defaults, through
// the same configuration layer as the CLI (src/config/options.ts).
import { fileURLToPath } from 'node:url';
import { opt, resolveOptions, helpText, type Resolved } from '../src/config/options.js';
import { UsageError } from '../src/config/errors.js';
import { FLOOR_KINDS, type FloorKind } from './node-floor.js';
import { node24, versionOf } from './tools.js';

export const SCENARIOS = ['echo', 'ping', 'json', 'handshake', 'full-handshake', 'h2'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

const env = (name: string) => `TLSECHO_BENCH_${name}`;

export const benchOptions = {
  duration: opt({
    kind: 'duration',
    min: 1000,
    max: 300_000,
    default: 5000,
    env: env('DURATION'),
    description: 'length of each wrk run',
  }),
  rounds: opt({
    kind: 'int',
    min: 1,
    max: 20,
    default: 3,
    env: env('ROUNDS'),
    description: 'rounds per scenario (servers alternate; the median is reported)',
  }),
  warmup: opt({
    kind: 'duration',
    min: 0,
    max: 60_000,
    // tlsecho's JIT settles after about 15 s of keep-alive load (V8's --trace-opt), a bare
    // floor's sooner: a short warm-up would measure tlsecho while it is still compiling.
    default: 10_000,
    env: env('WARMUP'),
    description: 'keep-alive warm-up run per server (and per protocol) before the rounds',
  }),
  connections: opt({
    kind: 'int',
    min: 1,
    max: 10_000,
    default: 32,
    env: env('CONNECTIONS'),
    description: 'wrk connections',
  }),
  threads: opt({ kind: 'int', min: 1, max: 64, default: 1, env: env('THREADS'), description: 'wrk threads' }),
  scenarios: opt({
    kind: 'list',
    default: [...SCENARIOS],
    env: env('SCENARIOS'),
    description: `scenarios to run (${SCENARIOS.join(', ')})`,
  }),
  'handshake-clients': opt({
    kind: 'int',
    min: 1,
    max: 64,
    default: 4,
    env: env('HANDSHAKE_CLIENTS'),
    description: "parallel 'openssl s_time -new' processes for the full-handshake scenario",
  }),
  'tlsecho-args': opt({
    kind: 'string',
    default: '--workers 0',
    env: env('TLSECHO_ARGS'),
    description:
      "flags for 'tlsecho server', space-separated, given as --tlsecho-args='--workers 1'; the default uses every CPU, as nginx's worker_processes auto",
  }),
  'nginx-access-log': opt({
    kind: 'bool',
    default: false,
    env: env('NGINX_ACCESS_LOG'),
    description: 'let nginx write an access log (to a file) like tlsecho does, instead of access_log off',
  }),
  'h2-streams': opt({
    kind: 'int',
    min: 1,
    max: 100,
    default: 1,
    env: env('H2_STREAMS'),
    description:
      'concurrent streams per h2load connection in the h2 scenario (1: as many requests in flight as wrk has)',
  }),
  'node-floor': opt({
    kind: 'bool',
    default: false,
    env: env('NODE_FLOOR'),
    description:
      'also measure every floor of --floors (tls, http, http2): bare Node servers with a fixed answer, the least Node itself needs',
  }),
  floors: opt({
    kind: 'list',
    default: [],
    env: env('FLOORS'),
    description: `floors to measure (${FLOOR_KINDS.join(', ')}; bench/node-floor-server.ts): tls a bare node:tls server for the HTTP/1.1 scenarios, http a bare https.createServer for them, http2 a bare http2.createSecureServer for h2`,
  }),
  'ca-reps': opt({
    kind: 'int',
    min: 0,
    max: 50,
    default: 5,
    env: env('CA_REPS'),
    description: "repetitions of 'tlsecho ca' and of the openssl equivalent (0 skips)",
  }),
  'startup-reps': opt({
    kind: 'int',
    min: 0,
    max: 20,
    default: 3,
    env: env('STARTUP_REPS'),
    description: 'extra start-to-ready measurements of tlsecho server',
  }),
  node: opt({
    kind: 'string',
    default: process.execPath,
    env: env('NODE'),
    description:
      "the Node.js binary that runs tlsecho (default: the one running the bench); '24' for Node 24, the container images' runtime, installed by scripts/node24.sh",
  }),
  cli: opt({
    kind: 'string',
    default: fileURLToPath(new URL('../src/cli.js', import.meta.url)),
    env: env('CLI'),
    description: 'the tlsecho CLI to benchmark (default: this build)',
  }),
  results: opt({
    kind: 'string',
    default: fileURLToPath(new URL('../../bench/results', import.meta.url)),
    env: env('RESULTS'),
    description: 'folder for the JSON results',
  }),
};

export type BenchOptions = Resolved<typeof benchOptions> & {
  scenarios: ScenarioName[];
  floors: FloorKind[];
  nodeVersion: string;
};

/** Parses argv and the environment; returns undefined after printing --help. */
export function parseBenchOptions(argv: string[], environment = process.env): BenchOptions | undefined {
  const { values, positionals, help } = resolveOptions(benchOptions, argv, environment);
  if (help) {
    process.stdout.write(
      helpText(
        'bench',
        'tlsecho server against nginx with wrk',
        'npm run bench -- [options]',
        benchOptions,
      ).replace(/^tlsecho bench/, 'bench'),
    );
    return undefined;
  }
  if (positionals.length) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  for (const s of values.scenarios)
    if (!(SCENARIOS as readonly string[]).includes(s))
      throw new UsageError(`unknown scenario '${s}' (scenarios: ${SCENARIOS.join(', ')})`);
  if (values.scenarios.length === 0) throw new UsageError('--scenarios is empty');
  for (const f of values.floors)
    if (!(FLOOR_KINDS as readonly string[]).includes(f))
      throw new UsageError(`unknown floor '${f}' (floors: ${FLOOR_KINDS.join(', ')})`);
  // --node-floor: every floor, as before there was more than the node:tls one.
  if (values['node-floor'] && values.floors.length === 0) values.floors = [...FLOOR_KINDS];
  if (values.node === '24') values.node = node24();
  const nodeVersion = versionOf(values.node, ['--version']);
  const major = /^v(\d+)\./.exec(nodeVersion)?.[1];
  if (!major) throw new UsageError(`--node ${values.node}: not a Node.js binary (${nodeVersion})`);
  if (Number(major) < 20)
    throw new UsageError(`--node ${values.node}: ${nodeVersion}; tlsecho needs Node 20 or later`);
  return { ...(values as BenchOptions), nodeVersion };
}
