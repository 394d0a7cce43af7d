// Child processes for the demo, the way Compose runs services: each its own process, its lines
// streamed with a `name |` prefix, stopped with SIGTERM and, if it will not go, SIGKILL.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../cli.js', import.meta.url));
const PREFIX_WIDTH = 6;

export function prefixed(name: string): string {
  return `${name.padEnd(PREFIX_WIDTH)} | `;
}

/** The environment without MX_* and TLSECHO_* variables: the demo passes every setting as a flag. */
function childEnv(): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(MX_|TLSECHO_)/.test(k)));
}

export interface Service {
  child: ChildProcess;
  /** Resolves with the exit code (128 + signal number style codes are not used: null → 1). */
  exited: Promise<number>;
}

/** Starts `tlsecho <args>`, echoing each line of its output prefixed with `name |`. */
export function startService(name: string, args: string[], onLine?: (line: string) => void): Service {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: childEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const tag = prefixed(name);
  for (const [stream, sink] of [
    [child.stdout!, process.stdout],
    [child.stderr!, process.stderr],
  ] as const) {
    createInterface({ input: stream, crlfDelay: Infinity }).on('line', (line) => {
      sink.write(`${tag}${line}\n`);
      onLine?.(line);
    });
  }
  const exited = new Promise<number>((resolve) => {
    child.on('error', () => resolve(1));
    child.on('exit', (code) => resolve(code ?? 1));
  });
  return { child, exited };
}

/** SIGTERM, then SIGKILL after graceMs; resolves with the exit code. */
export async function stopService(s: Service, graceMs = 5000): Promise<number> {
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGTERM');
  const timer = setTimeout(() => s.child.kill('SIGKILL'), graceMs);
  try {
    return await s.exited;
  } finally {
    clearTimeout(timer);
  }
}
