// tlsecho server as a user runs it: the CLI, its logs going to a file (as they would to a
// container runtime), waiting for the `ready` line of docs/architecture.md.
import type { ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandError } from '../src/config/errors.js';
import { cleanEnv } from '../src/util/sandbox.js';
import { HOST } from './ports.js';
import { startGroup, stopGroup } from './processes.js';

export interface RunningTlsecho {
  child: ChildProcess;
  httpsPort: number;
  httpPort: number;
  /** Milliseconds from spawn to the `ready` line. */
  startMs: number;
  /** The file its stdout and stderr (the request log) go to. */
  logFile: string;
}

const READY_TEXT = /\bready\b.*\bhttps_port=(\d+).*\bhttp_port=(\d+)/;

function readyPorts(line: string): [number, number] | undefined {
  if (line.startsWith('{')) {
    try {
      const j = JSON.parse(line) as { msg?: string; https_port?: number; http_port?: number };
      if (j.msg === 'ready' && j.https_port && j.http_port) return [j.https_port, j.http_port];
    } catch {
      return undefined;
    }
    return undefined;
  }
  const m = READY_TEXT.exec(line);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export async function startTlsecho(o: {
  node: string;
  cli: string;
  cert: string;
  key: string;
  ca: string;
  logFile: string;
  extraArgs: string[];
  timeoutMs?: number;
}): Promise<RunningTlsecho> {
  const args = [
    o.cli,
    'server',
    '--host',
    HOST,
    '--https-port',
    '0',
    '--http-port',
    '0',
    '--cert-file',
    o.cert,
    '--key-file',
    o.key,
    '--ca-file',
    o.ca,
    ...o.extraArgs,
  ];
  // O_APPEND, so the harness can truncate the log between runs while the server keeps writing.
  const fd = openSync(o.logFile, 'a');
  const t0 = performance.now();
  const child = startGroup(o.node, args, { stdio: ['ignore', fd, fd], env: cleanEnv() });
  closeSync(fd);
  const deadline = Date.now() + (o.timeoutMs ?? 20_000);
  let offset = 0;
  let partial = '';
  while (Date.now() < deadline) {
    const text = readFileSync(o.logFile, 'utf8');
    partial += text.slice(offset);
    offset = text.length;
    const lines = partial.split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      const ports = readyPorts(line);
      if (ports)
        return {
          child,
          httpsPort: ports[0],
          httpPort: ports[1],
          startMs: performance.now() - t0,
          logFile: o.logFile,
        };
    }
    if (child.exitCode !== null || child.signalCode !== null)
      throw new CommandError(
        `tlsecho server exited (${child.exitCode ?? child.signalCode}) before 'ready': ${text.trim().split('\n').pop()}`,
      );
    await sleep(5);
  }
  await stopGroup(child);
  throw new CommandError(`tlsecho server logged no 'ready' line within ${o.timeoutMs ?? 20_000} ms`);
}
