// The README's commands, typed as a new user would: every command of its Quickstart, server and
// client sections, as written, in a fresh copy of the repository (the work tree's tracked and new
// files: no node_modules, dist or certs), twice in a row, each checked against the output the
// README shows under it (`# …` lines right after a command; `…` stands for anything).
//
// - A command whose comment says "keeps running" is started in its own process group; the test
//   waits for its lines, runs the next commands, and stops the group at the end of the round.
// - Ports: the README's fixed ports (8443, 8080, 10053) would clash with parallel tests or a stack
//   someone runs, so the test picks free ones, writes them in place of those numbers (commands and
//   expected lines alike), and sets the variables of the defaults the commands rely on:
//   TLSECHO_HTTPS_PORT / TLSECHO_HTTP_PORT (server), TLSECHO_PORT / TLSECHO_HTTP_PORT (client),
//   TLSECHO_PORT (dns). TLSECHO_INTERVAL=200ms shortens the request loops.
// - `bash scripts/test.sh` is the only command not run: it runs this suite.
// - Most of the time is the two `npm ci` and the two builds the Quickstart's first line does;
//   TLSECHO_README_TIMES=1 prints each command's time.
import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort } from '../../src/util/sandbox.js';
import { cleanEnv } from '../helpers/cli.js';
import { tempDir } from '../helpers/pki.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SECTIONS = ['Quickstart', 'The server', 'The client'];
const SKIPPED = /^bash scripts\/test\.sh\b/;

interface Step {
  command: string;
  expect: string[];
  keepsRunning: boolean;
  section: string;
}

/** The commands of the README's sections, with the `# …` output lines shown under each. */
export function readmeSteps(readme: string): Step[] {
  const steps: Step[] = [];
  for (const section of readme.split(/^## /m)) {
    const title = section.split('\n')[0]!;
    if (!SECTIONS.some((s) => title.startsWith(s))) continue;
    for (const block of section.matchAll(/^```sh\n([\s\S]*?)^```$/gm)) {
      for (const line of block[1]!.split('\n')) {
        if (line.trim() === '') continue;
        if (line.startsWith('#')) {
          assert.ok(steps.length > 0, `output line before any command: ${line}`);
          steps.at(-1)!.expect.push(line.replace(/^#\s?/, ''));
        } else {
          steps.push({
            command: line,
            expect: [],
            keepsRunning: /#.*keeps running/.test(line),
            section: title,
          });
        }
      }
    }
  }
  return steps;
}

/** `…` in the README's output stands for anything; the rest is literal. */
function lineRegex(expected: string): RegExp {
  return new RegExp(
    expected
      .split('…')
      .map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*'),
  );
}

/** The repository as a fresh clone would have it, plus this work tree's edits and new files. */
function freshCopy(dest: string): void {
  const files = execFileSync(
    'git',
    ['-C', ROOT, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    {
      encoding: 'utf8',
    },
  )
    .split('\0')
    .filter(Boolean);
  for (const f of files) {
    const from = join(ROOT, f);
    if (!existsSync(from) || !statSync(from).isFile()) continue; // deleted in the work tree
    mkdirSync(dirname(join(dest, f)), { recursive: true });
    copyFileSync(from, join(dest, f));
  }
}

/** Collects a background command's output and waits for lines in it. */
class Running {
  output = '';
  exited: number | null | undefined;
  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => (this.output += d));
    child.stderr!.on('data', (d: Buffer) => (this.output += d));
    child.on('exit', (code) => (this.exited = code));
  }

  async waitFor(res: RegExp[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; i < 10_000 && Date.now() < deadline; i++) {
      if (res.every((re) => re.test(this.output))) return;
      if (this.exited !== undefined) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.fail(`waited for ${res.join(', ')}; exited: ${this.exited}; output:\n${this.output}`);
  }

  /** Resolves to the exit code; SIGKILLs the group after timeoutMs. */
  async done(timeoutMs: number): Promise<number | null> {
    if (this.exited !== undefined) return this.exited;
    const gone = new Promise<number | null>((r) => this.child.once('exit', r));
    const timer = setTimeout(() => process.kill(-this.child.pid!, 'SIGKILL'), timeoutMs);
    const code = await gone;
    clearTimeout(timer);
    return code;
  }

  /** SIGTERM to the whole group (bash, npx, node), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (this.exited !== undefined) return;
    const gone = new Promise((r) => this.child.once('exit', r));
    process.kill(-this.child.pid!, 'SIGTERM');
    const timer = setTimeout(() => process.kill(-this.child.pid!, 'SIGKILL'), 10_000);
    await gone;
    clearTimeout(timer);
  }
}

describe(
  'README commands as written',
  { skip: !existsSync(join(ROOT, '.git')) && 'not a git checkout', timeout: 300_000 },
  () => {
    const tmp = tempDir('tlsecho-readme-');
    const dir = join(tmp.dir, 'tlsecho');
    after(() => tmp.cleanup());

    it('the README lists the commands this test runs', () => {
      const steps = readmeSteps(readFileSync(join(ROOT, 'README.md'), 'utf8'));
      const commands = steps.map((s) => s.command);
      assert.ok(
        commands.some((c) => c.startsWith('npm ci && npm run demo')),
        commands.join('\n'),
      );
      assert.ok(
        commands.some((c) => /^npx tlsecho ca && npx tlsecho server\b/.test(c)),
        commands.join('\n'),
      );
      assert.ok(commands.filter((c) => c.startsWith('npx tlsecho client')).length >= 2, commands.join('\n'));
      assert.ok(steps.filter((s) => s.expect.length > 0).length >= 4, 'most commands show their output');
    });

    it('runs every command of Quickstart, server and client twice in a fresh copy', async () => {
      const steps = readmeSteps(readFileSync(join(ROOT, 'README.md'), 'utf8'));
      freshCopy(dir);
      const ports = {
        https: await freePort('127.0.0.1'),
        http: await freePort('127.0.0.1'),
        dns: await freePort('127.0.0.1'),
      };
      const subst = (s: string) =>
        s
          .replace(/\b8443\b/g, String(ports.https))
          .replace(/\b8080\b/g, String(ports.http))
          .replace(/\b10053\b/g, String(ports.dns));
      const base: NodeJS.ProcessEnv = {};
      for (const [k, v] of Object.entries(cleanEnv())) if (!/^npm_/i.test(k)) base[k] = v;
      Object.assign(base, {
        npm_config_audit: 'false',
        npm_config_fund: 'false',
        npm_config_update_notifier: 'false',
        npm_config_prefer_offline: 'true',
        TLSECHO_INTERVAL: '200ms',
        TLSECHO_HTTPS_PORT: String(ports.https),
        TLSECHO_HTTP_PORT: String(ports.http),
      });
      // `port` is the DNS port for `tlsecho dns` and the HTTPS port for the client.
      const envFor = (command: string) => ({
        ...base,
        TLSECHO_PORT: String(/tlsecho dns\b/.test(command) ? ports.dns : ports.https),
      });

      for (const round of [1, 2]) {
        const running: Running[] = [];
        try {
          for (const step of steps) {
            if (SKIPPED.test(step.command)) continue;
            const command = subst(step.command);
            const expected = step.expect.map((l) => lineRegex(subst(l)));
            const what = `round ${round}, ${step.section}: ${command}`;
            // Its own process group, so stopping it stops bash, npx and node together.
            const child = spawn('bash', ['-c', command], {
              cwd: dir,
              env: envFor(command),
              detached: true,
              stdio: ['ignore', 'pipe', 'pipe'],
            });
            const r = new Running(child);
            running.push(r);
            const started = Date.now();
            if (step.keepsRunning) {
              await r.waitFor(expected.length ? expected : [/./], 60_000).catch((e: Error) => {
                throw new Error(`${what}\n${e.message}`);
              });
            } else {
              const code = await r.done(120_000);
              assert.equal(code, 0, `${what}\nexit ${code}:\n${r.output}`);
              for (const re of expected) assert.match(r.output, re, `${what}\n${r.output}`);
            }
            if (process.env.TLSECHO_README_TIMES) process.stderr.write(`${Date.now() - started}ms ${what}\n`);
          }
        } finally {
          for (const r of running.reverse()) await r.stop();
        }
      }
    });
  },
);
