// `npm run bench` end to end on a short budget: real nginx, wrk, h2load, openssl s_time and tlsecho
// (a worker per CPU) on loopback, two rounds of every scenario, with every floor (node:tls and
// node:http for HTTP/1.1, node:http2 for h2). What is checked is that it measures, reports,
// records and cleans up; never how fast anything was.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { TOOLS, which } from '../../bench/tools.js';
import { runProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/pki.js';
import { skipUnless } from '../helpers/requirements.js';

const RUN = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
const H1 = ['echo', 'ping', 'json', 'handshake', 'full-handshake'];
const SCENARIOS = [...H1, 'h2'];
/** The servers each scenario runs on: the floors of its protocol beside tlsecho and nginx. */
const FLOORS: Record<string, string[]> = Object.fromEntries([
  ...H1.map((s) => [s, ['tls-floor', 'http-floor']]),
  ['h2', ['http2-floor']],
]);

// The bench installs its tools itself where it may (root with apt-get), as scripts/test.sh does.
const missing = TOOLS.filter((p) => !which(p));
const installable = process.getuid?.() === 0 && which('apt-get') !== undefined;
const skip = skipUnless(
  'BENCH',
  missing.length && !installable ? `missing ${missing.join(', ')} and not root with apt-get` : undefined,
);

interface BenchRecord {
  summary: Record<
    string,
    {
      rps: { tlsecho: number; nginx: number };
      cpu_us_per_request: { tlsecho: number; nginx: number };
      ratio_rps: number;
      ratio_rps_rounds: number[];
      floors: Record<
        string,
        { rps: number; ratio_rps: number; ratio_rps_rounds: number[]; ratio_rps_paired: number }
      >;
    }
  >;
  targets: { name: string; ratio: number; ok: boolean }[];
  runs: {
    scenario: string;
    server: string;
    round: number;
    rps: number;
    requests: number;
    log_lines?: number;
  }[];
  ca_ms: { tlsecho: number[]; openssl: number[] };
  tlsecho_start_to_ready_ms: number[];
  memory_bytes: Record<'idle' | 'peak_under_load' | 'idle_after_load', { tlsecho: number; nginx: number }>;
}

/** Command lines of the processes still running that mention `text`. */
function processesMentioning(text: string): string[] {
  return execFileSync('ps', ['-eo', 'args='], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes(text));
}

describe('npm run bench', { skip }, () => {
  const t = tempDir('tlsecho-bench-test-');
  after(t.cleanup);

  it('measures tlsecho, nginx and the floors, prints the ratios, records them, leaves nothing behind', async () => {
    const results = join(t.dir, 'results');
    // The bench's working folder (certificates, nginx config, logs) goes under this TMPDIR, so
    // every process it starts names it on its command line.
    const tmp = join(t.dir, 'tmp');
    mkdirSync(tmp);
    const r = await runProcess(
      process.execPath,
      [
        RUN,
        ...['--rounds', '2', '--duration', '1s', '--warmup', '0', '--scenarios', SCENARIOS.join(',')],
        // Fewer connections than the bench's 32: light load, so that a suite running beside it
        // cannot push wrk into timeouts (this test checks the figures exist, not how high).
        ...['--connections', '8', '--handshake-clients', '1', '--node-floor'],
        ...['--ca-reps', '1', '--startup-reps', '0', '--results', results],
      ],
      { env: { TMPDIR: tmp }, timeoutMs: 180_000 },
    );
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);

    // The table: each server's figure, the ratio, the single-round range, the nginx target, then
    // per floor its figure and tlsecho's ratio to it, and the floor target.
    const num = String.raw`[\d,.]+`;
    const h1Floors = `${num} +${num} +${num} +${num}`; // node:tls, /node:tls, node:http, /node:http
    const floorGoal = '>= 0.9 (ok|MISSED)';
    for (const [label, goal, floors] of [
      ['echo, keep-alive: req/s', '>= 0.5 (ok|MISSED) +', `${h1Floors} +${floorGoal}`],
      ['/ping, keep-alive: req/s', '', h1Floors],
      ['JSON echo, keep-alive: req/s', '', h1Floors],
      ['echo, new connection each \\(wrk\\): conn/s', '>= 0.8 (ok|MISSED) +', `${h1Floors} +${floorGoal}`],
      ['/ping, full TLS handshake each \\(s_time\\): conn/s', '>= 0.8 (ok|MISSED) +', h1Floors],
      // node:http2 floor, /node:http2
      ['echo, HTTP/2 keep-alive \\(h2load\\): req/s', '', `${num} +${num} +${floorGoal}`],
    ])
      assert.match(
        r.stdout,
        new RegExp(`^${label} +${num} +${num} +${num} +${num}–${num} +${goal}${floors}$`, 'm'),
      );
    assert.match(
      r.stdout,
      new RegExp(`^ {2}p99 latency, ms +${num} +${num} +${num} +${num}–${num} +<= 2 (ok|MISSED)$`, 'm'),
    );
    assert.match(r.stdout, /^tlsecho ca vs openssl \(root\+leaf\), ms +[\d,]+ +[\d,]+ \(openssl\)/m);
    assert.match(
      r.stdout,
      new RegExp(
        `^tlsecho / floor paired by round, median \\(range\\): echo /node:tls ${num} \\(${num}–${num}\\), ` +
          `echo /node:http ${num} \\(${num}–${num}\\), .*h2 /node:http2 ${num} \\(${num}–${num}\\)$`,
        'm',
      ),
    );
    // …and its figures are the record's paired medians.
    const printed =
      /^tlsecho \/ floor paired by round.*: echo \/node:tls ([\d.]+) .*h2 \/node:http2 ([\d.]+) /m.exec(
        r.stdout,
      );
    assert.match(r.stdout, /^targets: \d of 7 met; results in /m);

    const files = readdirSync(results);
    assert.equal(files.length, 1);
    const record = JSON.parse(readFileSync(join(results, files[0]!), 'utf8')) as BenchRecord;
    assert.deepEqual(
      record.targets.map((x) => x.name),
      [
        'keep-alive echo req/s',
        'keep-alive echo p99',
        'keep-alive echo req/s vs node:http floor',
        'echo, new connection each (wrk)/s',
        'new connections/s (wrk) vs node:tls floor',
        '/ping, full TLS handshake each (s_time)/s',
        'HTTP/2 keep-alive echo req/s vs node:http2 floor',
      ],
    );
    assert.deepEqual(
      [printed?.[1], printed?.[2]],
      [
        record.summary.echo!.floors['tls-floor']!.ratio_rps_paired.toFixed(2),
        record.summary.h2!.floors['http2-floor']!.ratio_rps_paired.toFixed(2),
      ],
    );
    for (const s of SCENARIOS) {
      const sum = record.summary[s]!;
      assert.deepEqual(Object.keys(sum.floors).sort(), FLOORS[s]!.sort());
      const floorRps = Object.values(sum.floors).map((f) => f.rps);
      for (const v of [sum.rps.tlsecho, sum.rps.nginx, ...floorRps, sum.cpu_us_per_request.tlsecho])
        assert.ok(Number.isFinite(v) && v > 0, `${s}: ${JSON.stringify(sum)}`);
      assert.equal(sum.ratio_rps, sum.rps.tlsecho / sum.rps.nginx);
      for (const [name, f] of Object.entries(sum.floors)) {
        assert.equal(f.ratio_rps, sum.rps.tlsecho / f.rps);
        // Per round, tlsecho's run against the floor's of the same round; their median.
        const rate = (server: string, round: number) =>
          record.runs.find((x) => x.scenario === s && x.server === server && x.round === round)!.rps;
        assert.deepEqual(
          f.ratio_rps_rounds,
          [1, 2].map((i) => rate('tlsecho', i) / rate(name, i)),
        );
        assert.equal(f.ratio_rps_paired, (f.ratio_rps_rounds[0]! + f.ratio_rps_rounds[1]!) / 2);
      }
      // Over two rounds the ratio of the medians (a mediant) lies between the rounds' ratios.
      assert.equal(sum.ratio_rps_rounds.length, 2);
      const [lo, hi] = [Math.min(...sum.ratio_rps_rounds), Math.max(...sum.ratio_rps_rounds)];
      assert.ok(lo <= sum.ratio_rps + 1e-9 && sum.ratio_rps <= hi + 1e-9, `${s}: ${JSON.stringify(sum)}`);
    }
    // One run per round, scenario and server; tlsecho logged a line for each request it answered.
    assert.deepEqual(
      record.runs.map((x) => `${x.scenario} ${x.server}`).sort(),
      SCENARIOS.flatMap((s) =>
        ['tlsecho', 'nginx', ...FLOORS[s]!].flatMap((v) => [`${s} ${v}`, `${s} ${v}`]),
      ).sort(),
    );
    for (const run of record.runs.filter((x) => x.server === 'tlsecho'))
      assert.ok(
        run.log_lines! >= run.requests,
        `${run.scenario}: ${run.log_lines} lines, ${run.requests} requests`,
      );
    assert.equal(record.ca_ms.tlsecho.length, 1);
    assert.equal(record.tlsecho_start_to_ready_ms.length, 1);
    assert.ok(record.tlsecho_start_to_ready_ms[0]! > 0);
    for (const m of Object.values(record.memory_bytes))
      assert.ok(m.tlsecho > 0 && m.nginx > 0, JSON.stringify(record.memory_bytes));

    // Every server, load generator and file it made is gone.
    assert.deepEqual(processesMentioning(tmp), []);
    assert.deepEqual(readdirSync(tmp), []);
  });

  it('rejects a bad option with one line naming it and exit 2', async () => {
    const r = await runProcess(process.execPath, [RUN, '--rounds', '0'], { timeoutMs: 30_000 });
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.equal(r.stderr, 'bench: invalid --rounds: "0" is not an integer from 1 to 20\n');
  });
});
