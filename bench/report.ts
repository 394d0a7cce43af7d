// Medians, ratios against the targets of issue 7, the printed table and the JSON record.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export interface Target {
  name: string;
  ratio: number;
  /** 'min': ratio must be at least `goal`; 'max': at most. */
  kind: 'min' | 'max';
  goal: number;
  ok: boolean;
}

export function target(name: string, ratio: number, kind: 'min' | 'max', goal: number): Target {
  return { name, ratio, kind, goal, ok: kind === 'min' ? ratio >= goal : ratio <= goal };
}

export interface Row {
  label: string;
  tlsecho: string;
  nginx: string;
  ratio?: number;
  /** Lowest and highest tlsecho/nginx of a single round: how far one round can be off here. */
  rounds?: [number, number];
  target?: Target;
  /** The bare node:tls server's figure (--node-floor), and tlsecho's against it. */
  floor?: string;
  floorRatio?: number;
}

const num = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '-';
export const fmt = { num, ms: (us: number) => num(us / 1000, 2), mb: (b: number) => num(b / 1048576, 1) };

/** min and max of xs, or undefined for fewer than two finite values. */
export function spread(xs: number[]): [number, number] | undefined {
  const finite = xs.filter(Number.isFinite);
  return finite.length < 2 ? undefined : [Math.min(...finite), Math.max(...finite)];
}

export function renderTable(rows: Row[]): string {
  const withFloor = rows.some((r) => r.floor !== undefined);
  const head = [
    '',
    'tlsecho',
    'nginx',
    'ratio',
    'rounds',
    'target',
    ...(withFloor ? ['node:tls floor', 'tlsecho/floor'] : []),
  ];
  const body = rows.map((r) => [
    r.label,
    r.tlsecho,
    r.nginx,
    r.ratio === undefined ? '' : num(r.ratio, 2),
    r.rounds ? `${num(r.rounds[0], 2)}–${num(r.rounds[1], 2)}` : '',
    r.target
      ? `${r.target.kind === 'min' ? '>=' : '<='} ${r.target.goal} ${r.target.ok ? 'ok' : 'MISSED'}`
      : '',
    ...(withFloor ? [r.floor ?? '', r.floorRatio === undefined ? '' : num(r.floorRatio, 2)] : []),
  ]);
  const widths = head.map((_, i) => Math.max(...[head, ...body].map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === 0 || i === 5 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}

export function writeResults(folder: string, record: object): string {
  mkdirSync(folder, { recursive: true });
  const path = join(folder, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, `${JSON.stringify(record, null, 2)}\n`);
  return path;
}
