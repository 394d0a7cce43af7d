// h2load (nghttp2's load generator) for the HTTP/2 scenario: keep-alive sessions of `-m` streams
// each, for a fixed time (-D). Its summary gives the counts; its per-request log (--log-file:
// start, status, microseconds to the end of the response) gives the exact percentiles.
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError } from '../src/config/errors.js';
import { median } from './report.js';
import { startGroup } from './processes.js';
import type { WrkRun } from './wrk.js';

export interface H2loadRun extends Pick<WrkRun, 'rps' | 'requests' | 'duration_us' | 'p50_us' | 'p99_us'> {
  /** Requests that failed, errored or timed out, and answers of 4xx/5xx. */
  failed: number;
  errored: number;
  timeout: number;
  status: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Parses h2load's summary; undefined if it is not there. */
export function parseH2load(out: string) {
  const fin = /^finished in ([\d.]+)(m?s), ([\d.]+) req\/s/m.exec(out);
  const req =
    /^requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/m.exec(
      out,
    );
  const codes = /^status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/m.exec(out);
  if (!fin || !req || !codes) return undefined;
  const seconds = Number(fin[1]) / (fin[2] === 'ms' ? 1000 : 1);
  return {
    duration_us: Math.round(seconds * 1e6),
    succeeded: Number(req[4]),
    failed: Number(req[5]),
    errored: Number(req[6]),
    timeout: Number(req[7]),
    status: Number(codes[3]) + Number(codes[4]),
  };
}

export function runH2load(o: {
  h2load: string;
  url: string;
  durationMs: number;
  connections: number;
  streams: number;
  threads: number;
  dir: string;
}): Promise<H2loadRun> {
  const log = join(o.dir, 'h2load.log');
  const args = [
    ...['-c', String(o.connections), '-m', String(o.streams), '-t', String(o.threads)],
    ...['-D', String(Math.max(1, Math.round(o.durationMs / 1000))), '--log-file', log],
    o.url,
  ];
  return new Promise((resolve, reject) => {
    const child = startGroup(o.h2load, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const s = parseH2load(out);
      if (code !== 0 || !s || s.succeeded === 0) {
        rmSync(log, { force: true });
        const last = out.trim().split('\n').filter(Boolean).pop();
        return reject(new CommandError(`h2load ${args.join(' ')} failed (${code}): ${last}`));
      }
      const times: number[] = [];
      for (const line of readFileSync(log, 'utf8').split('\n')) {
        const us = Number(line.split('\t')[2]);
        if (line && Number.isFinite(us)) times.push(us);
      }
      rmSync(log, { force: true });
      times.sort((a, b) => a - b);
      resolve({
        rps: s.succeeded / (s.duration_us / 1e6),
        requests: s.succeeded,
        duration_us: s.duration_us,
        p50_us: times.length ? median(times) : NaN,
        p99_us: percentile(times, 99),
        failed: s.failed,
        errored: s.errored,
        timeout: s.timeout,
        status: s.status,
      });
    });
  });
}

/** Errors that make a run meaningless. */
export function h2loadErrors(r: H2loadRun): string | undefined {
  const bad = { failed: r.failed, errored: r.errored, timeout: r.timeout, 'status >= 400': r.status };
  const found = Object.entries(bad).filter(([, n]) => n > 0);
  return found.length ? found.map(([k, n]) => `${n} ${k}`).join(', ') : undefined;
}
