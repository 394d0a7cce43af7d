// Helpers for the Compose tests: run docker/make/git as real processes, find out whether an engine
// answers, and drive one Compose project (unique name, temp certificates) of the root compose.yaml.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runProcess, type CliResult, type RunOptions } from '../helpers/cli.js';

/** The repository root (compose.yaml, Makefile). */
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export type ExecResult = CliResult;

/** Runs a command to completion from the repository root (SIGKILLed after timeoutMs). */
export function exec(cmd: string, args: string[], opts: RunOptions = {}): Promise<ExecResult> {
  return runProcess(cmd, args, { timeoutMs: 60_000, ...opts, cwd: opts.cwd ?? ROOT });
}

/** Throws with the command's output unless it exited 0. */
export async function check(
  cmd: string,
  args: string[],
  opts: Parameters<typeof exec>[2] = {},
): Promise<ExecResult> {
  const r = await exec(cmd, args, opts);
  if (r.code !== 0)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}:\n${r.stdout}\n${r.stderr}`.trim());
  return r;
}

function answers(cmd: string, args: string[]): boolean {
  return spawnSync(cmd, args, { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

/** Why the Docker tests cannot run here, or undefined when they can. */
export function dockerMissing(): string | undefined {
  if (!answers('docker', ['info', '--format', '{{.ServerVersion}}'])) return 'no Docker engine answers';
  if (!answers('docker', ['compose', 'version'])) return "'docker compose' is not available";
  return undefined;
}

/**
 * A PATH with every program of `path` except `names`: a folder of symbolic links, one per
 * program, so a test can prove that nothing it runs needs them (e.g. no setfacl).
 */
export function pathWithout(names: string[], dir: string, path = process.env.PATH ?? ''): string {
  mkdirSync(dir, { recursive: true });
  for (const folder of path.split(':').filter(Boolean)) {
    let entries: string[];
    try {
      entries = readdirSync(folder);
    } catch {
      continue; // a PATH entry that does not exist
    }
    for (const entry of entries) {
      const link = join(dir, entry);
      if (names.includes(entry) || existsSync(link)) continue; // the first on PATH wins, as in a shell
      symlinkSync(join(folder, entry), link);
    }
  }
  return dir;
}

/** Polls `probe` until it returns a value, at most `timeoutMs`; the error carries `describe()`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  describe: () => Promise<string> = async () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
    const v = await probe();
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}\n${await describe()}`);
}

/** One Compose project of the repository's compose.yaml, with its own name and environment. */
export class ComposeProject {
  constructor(
    readonly name: string,
    readonly env: NodeJS.ProcessEnv,
    /** Override files after compose.yaml, relative to the repository root. */
    readonly overrides: string[] = [],
  ) {}

  run(args: string[], timeoutMs = 120_000): Promise<ExecResult> {
    const files = ['compose.yaml', ...this.overrides].flatMap((f) => ['-f', `${ROOT}${f}`]);
    return exec('docker', ['compose', '-p', this.name, ...files, '--project-directory', ROOT, ...args], {
      env: this.env,
      timeoutMs,
    });
  }

  async ok(args: string[], timeoutMs?: number): Promise<ExecResult> {
    const r = await this.run(args, timeoutMs);
    if (r.code !== 0) throw new Error(`docker compose ${args.join(' ')} exited ${r.code}:\n${r.stderr}`);
    return r;
  }

  async logs(service: string): Promise<string> {
    return (await this.run(['logs', '--no-color', service], 30_000)).stdout;
  }

  /** Container id of a service ('' when it has none). */
  async container(service: string): Promise<string> {
    return (await this.run(['ps', '-q', service], 30_000)).stdout.trim();
  }

  async inspect(service: string, format: string): Promise<string> {
    const id = await this.container(service);
    if (!id) throw new Error(`service ${service} has no container`);
    return (await check('docker', ['inspect', '-f', format, id])).stdout.trim();
  }

  /** Removes containers, networks and volumes of the project; safe to call more than once. */
  async down(): Promise<void> {
    await this.run(['down', '-v', '--remove-orphans', '-t', '5'], 120_000);
  }
}

/**
 * The `.env` variables compose.yaml needs for a certificate folder made by `tlsecho ca` under
 * `domain` (server1's pair and the root), with `extra` on top (images, ports, PATH).
 */
export function composeEnv(certs: string, domain: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    HOME: process.env.HOME,
    MX_domain: domain,
    MX_certspath: certs,
    MX_certfile: join(certs, `server1.${domain}`, 'cert.pem'),
    MX_keyfile: join(certs, `server1.${domain}`, 'key.pem'),
    MX_cafile: join(certs, 'minica.pem'),
    ...extra,
  };
}
