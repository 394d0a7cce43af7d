// Starts a floor of bench/node-floor-server.ts with as many processes as tlsecho runs.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from './ports.js';
import { startGroup } from './processes.js';

export const FLOOR_KINDS = ['tls', 'http', 'http2'] as const;
export type FloorKind = (typeof FLOOR_KINDS)[number];

export interface RunningFloor {
  child: ChildProcess;
  port: number;
}

export async function startNodeFloor(o: {
  kind: FloorKind;
  node: string;
  cert: string;
  key: string;
  processes: number;
}): Promise<RunningFloor> {
  const port = await freePort();
  const script = fileURLToPath(new URL('./node-floor-server.js', import.meta.url));
  const child = startGroup(o.node, [script, o.kind, String(port), o.cert, o.key, String(o.processes)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, () =>
    child.exitCode !== null ? `node:${o.kind} floor server exited (${child.exitCode})` : undefined,
  );
  return { child, port };
}
