// Starts bench/node-floor-server.ts with as many processes as tlsecho runs.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from './ports.js';
import { startGroup } from './processes.js';

export interface RunningFloor {
  child: ChildProcess;
  port: number;
}

export async function startNodeFloor(o: {
  node: string;
  cert: string;
  key: string;
  processes: number;
}): Promise<RunningFloor> {
  const port = await freePort();
  const script = fileURLToPath(new URL('./node-floor-server.js', import.meta.url));
  const child = startGroup(o.node, [script, String(port), o.cert, o.key, String(o.processes)], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  await waitForPort(port, () =>
    child.exitCode !== null ? `node:tls floor server exited (${child.exitCode})` : undefined,
  );
  return { child, port };
}
