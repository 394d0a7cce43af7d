// Medians, ratios against the targets, the printed table and the JSON record.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FloorName } from './rounds.js';

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
  /** The floors' figures (--floors), each with tlsecho's against it. */
  floors?: Partial<Record<FloorName, FloorCell>>;
  /** The target on tlsecho against the floor of the scenario's protocol. */
  floorTarget?: Target;
}

export interface FloorCell {
  figure: string;
  ratio: number;
}

export const FLOOR_LABEL: Record<FloorName, string> = {
  'tls-floor': 'node:tls',
  'http-floor': 'node:http',
  'http2-floor': 'node:http2',
};

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

const targetCell = (t: Target | undefined) =>
  t ? `${t.kind === 'min' ? '>=' : '<='} ${t.goal} ${t.ok ? 'ok' : 'MISSED'}` : '';

export function renderTable(rows: Row[]): string {
  const floors = (Object.keys(FLOOR_LABEL) as FloorName[]).filter((f) => rows.some((r) => r.floors?.[f]));
  const withFloorTarget = rows.some((r) => r.floorTarget);
  const head = [
    '',
    'tlsecho',
    'nginx',
    'ratio',
    'rounds',
    'target',
    ...floors.flatMap((f) => [`${FLOOR_LABEL[f]} floor`, `/${FLOOR_LABEL[f]}`]),
    ...(withFloorTarget ? ['floor target'] : []),
  ];
  const body = rows.map((r) => [
    r.label,
    r.tlsecho,
    r.nginx,
    r.ratio === undefined ? '' : num(r.ratio, 2),
    r.rounds ? `${num(r.rounds[0], 2)}–${num(r.rounds[1], 2)}` : '',
    targetCell(r.target),
    ...floors.flatMap((f) => {
      const c = r.floors?.[f];
      return c ? [c.figure, num(c.ratio, 2)] : ['', ''];
    }),
    ...(withFloorTarget ? [targetCell(r.floorTarget)] : []),
  ]);
  const left = new Set([0, 5, head.length - (withFloorTarget ? 1 : 0)]);
  const widths = head.map((_, i) => Math.max(...[head, ...body].map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (left.has(i) ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
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
