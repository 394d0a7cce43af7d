// `tlsecho lab check`: calls every lab name with one client and judges what it did against what
// a correct client must do (names.ts). tlsecho's own client is judged by its failure reason; any
// other client (a command with {url}) by its exit code: 0 = it connected, anything else = refused.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describeFailure } from '../client/failures.js';
import { CommandError } from '../config/errors.js';
import { httpsGet } from '../client/http.js';
import type { ResolveFn } from '../client/resolve.js';
import { LAB_CASES, LAB_KINDS, type LabCase } from './names.js';

export interface CheckTarget {
  kind: LabCase['kind'];
  name: string;
  port: number;
  url: string;
  address: string;
}

export interface Verdict {
  target: CheckTarget;
  mustDo: string;
  happened: string;
  correct: boolean;
}

/** The lab's names under `domain` on their ports (tls12 has its own), resolved once. */
export async function labTargets(
  domain: string,
  ports: { https: number; tls12: number },
  resolve: ResolveFn,
): Promise<CheckTarget[]> {
  const targets: CheckTarget[] = [];
  for (const kind of LAB_KINDS) {
    const name = `${kind}.${domain}`;
    const port = kind === 'tls12' ? ports.tls12 : ports.https;
    let address: string;
    try {
      ({ address } = await resolve(name));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      throw new CommandError(
        `cannot resolve ${name} (${code}): serve the lab's names in DNS (the demo's DNS, Compose's aliases), point --dns at a server that has them, or give --address`,
      );
    }
    targets.push({ kind, name, port, url: `https://${name}:${port}/`, address });
  }
  return targets;
}

/**
 * The lab names the server says it serves (the JSON echo of good.<domain>, `lab_names`), or
 * undefined when it cannot be asked (then every name is judged). `tlsecho ca lab` leaves out
 * incomplete-chain under a root that can sign no intermediate, and such a name is not judged.
 */
export async function servedLabNames(
  good: CheckTarget,
  caFile: string,
  timeoutMs: number,
): Promise<Set<string> | undefined> {
  try {
    const ca = readFileSync(caFile, 'utf8');
    const res = await httpsGet(
      { name: good.name, address: good.address, port: good.port },
      '/',
      { ca },
      { timeoutMs, accept: 'application/json' },
    );
    const names = (JSON.parse(res.body) as { lab_names?: unknown }).lab_names;
    return Array.isArray(names) ? new Set(names.map((n) => String(n).toLowerCase())) : undefined;
  } catch {
    return undefined;
  }
}

/** tlsecho's client (verification on, trusting only `caFile`), judged by the exact reason. */
export function tlsechoClient(caFile: string, timeoutMs: number) {
  let ca: string;
  try {
    ca = readFileSync(caFile, 'utf8');
  } catch (err) {
    throw new CommandError(`cannot read --ca-file ${caFile}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  return async (t: CheckTarget): Promise<Verdict> => {
    const c = LAB_CASES[t.kind];
    try {
      const res = await httpsGet(
        { name: t.name, address: t.address, port: t.port },
        '/',
        { ca },
        { timeoutMs },
      );
      const happened = `connected (${res.protocol ?? 'TLS'}, HTTP ${res.status})`;
      const rightVersion = t.kind !== 'tls12' || res.protocol === 'TLSv1.2';
      return {
        target: t,
        mustDo: c.mustDo,
        happened,
        correct: c.connects && res.status === 200 && rightVersion,
      };
    } catch (err) {
      const f = describeFailure(err);
      return {
        target: t,
        mustDo: c.mustDo,
        happened: `refused: ${f.reason}`,
        correct: !c.connects && f.reason === c.reason,
      };
    }
  };
}

/** Any client: `argv` with {url}, {host}, {port} and {address} replaced, judged by its exit code. */
export function commandClient(argv: readonly string[], timeoutMs: number) {
  return (t: CheckTarget): Promise<Verdict> =>
    new Promise((resolve) => {
      const c = LAB_CASES[t.kind];
      const args = argv.map((a) =>
        a
          .replaceAll('{url}', t.url)
          .replaceAll('{host}', t.name)
          .replaceAll('{port}', String(t.port))
          .replaceAll('{address}', t.address),
      );
      const child = spawn(args[0]!, args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr = (stderr + String(d)).slice(-2000)));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      const done = (code: number | null, why?: string) => {
        clearTimeout(timer);
        const line = why ?? stderr.trim().split('\n')[0] ?? '';
        const happened =
          code === 0
            ? 'connected (exit 0)'
            : `refused (exit ${code ?? 'killed'})${line ? `: ${line.slice(0, 100)}` : ''}`;
        resolve({ target: t, mustDo: c.mustDo, happened, correct: c.connects === (code === 0) });
      };
      child.once('error', (err) => done(null, `cannot run ${args[0]}: ${err.message}`));
      child.once('close', (code) => done(code));
    });
}

/** The verdict table, one line per name. */
export function formatVerdicts(verdicts: readonly Verdict[]): string[] {
  const rows = verdicts.map((v) => [v.target.name, v.mustDo, v.happened, v.correct ? '✔' : '✘']);
  const header = ['name', 'a correct client must', 'what happened', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i < r.length - 1 ? c.padEnd(widths[i]!) : c))
      .join('  ')
      .trimEnd();
  const wrong = verdicts.filter((v) => !v.correct).length;
  return [
    line(header),
    ...rows.map(line),
    wrong === 0 ? `all ${verdicts.length} verdicts correct` : `${wrong} of ${verdicts.length} verdicts wrong`,
  ];
}
