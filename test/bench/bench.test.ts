// `npm run bench` end to end on a short budget: real nginx, wrk, openssl s_time and tlsecho (a
// worker per CPU) on loopback, two rounds of every scenario, with the node:tls floor. What
// is checked is that it measures, reports, records and cleans up; never how fast anything was.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { which } from '../../bench/tools.js';
import { runProcess } from '../helpers/cli.js';
import { tempDir } from '../helpers/pki.js';
import { skipUnless } from '../helpers/requirements.js';

const RUN = fileURLToPath(new URL('../../bench/run.js', import.meta.url));
const SCENARIOS = ['echo', 'ping', 'json', 'handshake', 'full-handshake'];
const SERVERS = ['tlsecho', 'nginx', 'node-floor'];

// The bench installs wrk and nginx itself where it may (root with apt-get), as scripts/test.sh does.
const missing = ['wrk', 'nginx', 'openssl'].filter((p) => !which(p));
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
      node_floor: { rps: number };
    }
  >;
  targets: { name: string; ratio: number; ok: boolean }[];
  runs: { scenario: string; server: string; requests: number; log_lines?: number }[];
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

  it('measures tlsecho, nginx and the node:tls floor, prints the ratios, records them, leaves nothing behind', async () => {
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

    // The table: each server's figure, the ratio, the single-round range, the target, the floor.
    const num = String.raw`[\d,.]+`;
    for (const [label, goal] of [
      ['echo, keep-alive: req/s', '>= 0.5 (ok|MISSED)'],
      ['/ping, keep-alive: req/s', ''],
      ['JSON echo, keep-alive: req/s', ''],
      ['echo, new connection each \\(wrk\\): conn/s', '>= 0.8 (ok|MISSED)'],
      ['/ping, full TLS handshake each \\(s_time\\): conn/s', '>= 0.8 (ok|MISSED)'],
    ])
      assert.match(
        r.stdout,
        new RegExp(`^${label} +${num} +${num} +${num} +${num}–${num} +${goal} +${num} +${num}$`, 'm'),
      );
    assert.match(
      r.stdout,
      new RegExp(`^ {2}p99 latency, ms +${num} +${num} +${num} +${num}–${num} +<= 2 (ok|MISSED)`, 'm'),
    );
    assert.match(r.stdout, /^tlsecho ca vs openssl \(root\+leaf\), ms +[\d,]+ +[\d,]+ \(openssl\)/m);
    assert.match(r.stdout, /^targets: \d of 4 met; results in /m);

    const files = readdirSync(results);
    assert.equal(files.length, 1);
    const record = JSON.parse(readFileSync(join(results, files[0]!), 'utf8')) as BenchRecord;
    assert.deepEqual(
      record.targets.map((x) => x.name),
      [
        'keep-alive echo req/s',
        'keep-alive echo p99',
        'echo, new connection each (wrk)/s',
        '/ping, full TLS handshake each (s_time)/s',
      ],
    );
    for (const s of SCENARIOS) {
      const sum = record.summary[s]!;
      for (const v of [sum.rps.tlsecho, sum.rps.nginx, sum.node_floor.rps, sum.cpu_us_per_request.tlsecho])
        assert.ok(Number.isFinite(v) && v > 0, `${s}: ${JSON.stringify(sum)}`);
      assert.equal(sum.ratio_rps, sum.rps.tlsecho / sum.rps.nginx);
      // Over two rounds the ratio of the medians (a mediant) lies between the rounds' ratios.
      assert.equal(sum.ratio_rps_rounds.length, 2);
      const [lo, hi] = [Math.min(...sum.ratio_rps_rounds), Math.max(...sum.ratio_rps_rounds)];
      assert.ok(lo <= sum.ratio_rps + 1e-9 && sum.ratio_rps <= hi + 1e-9, `${s}: ${JSON.stringify(sum)}`);
    }
    // One run per round, scenario and server; tlsecho logged a line for each request it answered.
    assert.deepEqual(
      record.runs.map((x) => `${x.scenario} ${x.server}`).sort(),
      SCENARIOS.flatMap((s) => SERVERS.flatMap((v) => [`${s} ${v}`, `${s} ${v}`])).sort(),
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
