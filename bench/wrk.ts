// wrk as the load generator. A Lua `done` hook prints the summary as JSON (exact microsecond
// percentiles, every error counter); with no per-request hook wrk's request path stays static.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError } from '../src/config/errors.js';
import { startGroup } from './processes.js';

const MARK = 'TLSECHO_BENCH';

const DONE_LUA = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('\\n${MARK} {"duration_us":%d,"requests":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d}\\n',
    summary.duration, summary.requests, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
`;

export interface WrkSummary {
  duration_us: number;
  requests: number;
  bytes: number;
  connect: number;
  read: number;
  write: number;
  /** Responses with a status of 400 or more. */
  status: number;
  timeout: number;
  p50_us: number;
  p90_us: number;
  p99_us: number;
  max_us: number;
}

export interface WrkRun extends WrkSummary {
  rps: number;
}

export function writeWrkScript(dir: string): string {
  const path = join(dir, 'summary.lua');
  writeFileSync(path, DONE_LUA);
  return path;
}

export function runWrk(o: {
  wrk: string;
  script: string;
  url: string;
  durationMs: number;
  connections: number;
  threads: number;
  headers: string[];
}): Promise<WrkRun> {
  const args = [
    '-t',
    String(o.threads),
    '-c',
    String(o.connections),
    '-d',
    `${Math.round(o.durationMs / 1000)}s`,
    '-s',
    o.script,
    ...o.headers.flatMap((h) => ['-H', h]),
    o.url,
  ];
  return new Promise((resolve, reject) => {
    const child = startGroup(o.wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(MARK));
      if (code !== 0 || !line)
        return reject(
          new CommandError(`wrk ${args.join(' ')} failed (${code}): ${out.trim().split('\n').pop()}`),
        );
      const s = JSON.parse(line.slice(MARK.length)) as WrkSummary;
      resolve({ ...s, rps: s.requests / (s.duration_us / 1e6) });
    });
  });
}

/** Errors that make a run meaningless: anything but the server closing idle sockets at the end. */
export function wrkErrors(r: WrkSummary): string | undefined {
  const bad = { connect: r.connect, write: r.write, status: r.status, timeout: r.timeout };
  const found = Object.entries(bad).filter(([, n]) => n > 0);
  return found.length ? found.map(([k, n]) => `${n} ${k}`).join(', ') : undefined;
}
