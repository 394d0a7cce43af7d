// One configuration layer for every command: flags over environment variables over an optional
// YAML file (--config FILE) over defaults. Every value is parsed and validated at start, and an
// error names the option and where its bad value came from.
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { CommandError, UsageError } from './errors.js';
import { readUserFile } from './user-file.js';

export type Kind = 'string' | 'int' | 'bool' | 'list' | 'duration';

type ValueOf<K extends Kind> = K extends 'string'
  ? string
  : K extends 'int' | 'duration'
    ? number // durations are milliseconds
    : K extends 'bool'
      ? boolean
      : string[];

export interface Option<K extends Kind = Kind> {
  kind: K;
  description: string;
  /** Environment variable; defaults to TLSECHO_<NAME>. `false` for flag-only options. */
  env?: string | false;
  default?: ValueOf<K>;
  /** Allowed values for a string option. */
  choices?: readonly string[];
  min?: number;
  max?: number;
  short?: string;
}

export type OptionTable = Record<string, Option>;

/** An option's value: one of its `choices` when it lists them, else what its kind parses to. */
type ValueOfOption<O> = O extends { choices: readonly (infer C)[] }
  ? C
  : O extends Option<infer K>
    ? ValueOf<K>
    : never;

/** The resolved values: options with a default are always present. */
export type Resolved<T extends OptionTable> = {
  [N in keyof T]: T[N] extends { default: unknown } ? ValueOfOption<T[N]> : ValueOfOption<T[N]> | undefined;
};

/** The defaults of a table, as resolving no flags, variables or file would give them. */
export function defaultsOf<T extends OptionTable>(table: T): Resolved<T> {
  return Object.fromEntries(Object.entries(table).map(([name, o]) => [name, o.default])) as Resolved<T>;
}

/** An option of a table; a default outside its `choices` does not compile. */
export function opt<K extends Kind, O extends Option<K>>(
  o: O & { kind: K } & (O extends { choices: readonly (infer C)[] } ? { default?: C } : unknown),
): O {
  return o;
}

function envName(name: string, o: Option): string | undefined {
  if (o.env === false) return undefined;
  return o.env ?? `TLSECHO_${name.replace(/-/g, '_').toUpperCase()}`;
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses '1s', '500ms', '2m', '1h' or a bare number of seconds into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim());
  if (!m) return undefined;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? 's']!);
}

function convert(name: string, o: Option, raw: unknown, source: string): unknown {
  const where = `--${name}${source === 'flag' ? '' : ` (from ${source})`}`;
  const bad = (expected: string) =>
    new UsageError(`invalid ${where}: ${JSON.stringify(raw)} is not ${expected}`);
  switch (o.kind) {
    case 'string': {
      if (typeof raw !== 'string' && typeof raw !== 'number') throw bad('a string');
      const s = String(raw);
      if (o.choices && !o.choices.includes(s)) throw bad(`one of ${o.choices.join(', ')}`);
      return s;
    }
    case 'int': {
      const n = typeof raw === 'number' ? raw : /^-?\d+$/.test(String(raw).trim()) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n)) throw bad('an integer');
      if ((o.min !== undefined && n < o.min) || (o.max !== undefined && n > o.max))
        throw bad(`an integer from ${o.min ?? '-∞'} to ${o.max ?? '∞'}`);
      return n;
    }
    case 'duration': {
      const ms = typeof raw === 'number' ? raw * 1000 : parseDuration(String(raw));
      if (ms === undefined || !Number.isFinite(ms)) throw bad('a duration (e.g. 500ms, 2s, 1m)');
      if ((o.min !== undefined && ms < o.min) || (o.max !== undefined && ms > o.max))
        throw bad(`a duration from ${o.min ?? 0}ms to ${o.max ?? '∞'}ms`);
      return ms;
    }
    case 'bool': {
      if (typeof raw === 'boolean') return raw;
      const s = String(raw).trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off', ''].includes(s)) return false;
      throw bad('a boolean (true/false)');
    }
    case 'list': {
      const items = Array.isArray(raw) ? raw.map(String) : String(raw).split(',');
      return items.map((s) => s.trim()).filter((s) => s.length > 0);
    }
  }
}

export interface ParsedCommandLine<T extends OptionTable> {
  values: Resolved<T>;
  positionals: string[];
  help: boolean;
}

const CONFIG_OPTION = 'config';

/**
 * Resolves a command's options from argv, the environment and an optional YAML file.
 * The YAML file is a flat mapping of option names (as on the command line) to values.
 */
export function resolveOptions<T extends OptionTable>(
  table: T,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ParsedCommandLine<T> {
  const parseSpec: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    [CONFIG_OPTION]: { type: 'string' },
  };
  for (const [name, o] of Object.entries(table)) {
    parseSpec[name] = {
      type: o.kind === 'bool' ? 'boolean' : 'string',
      ...(o.short ? { short: o.short } : {}),
    };
  }
  let parsed;
  try {
    // allowNegative: a switch that defaults to on (--access-log) is turned off as --no-access-log.
    parsed = parseArgs({
      args: [...argv],
      options: parseSpec,
      allowPositionals: true,
      allowNegative: true,
      strict: true,
    });
  } catch (err) {
    // parseArgs' messages are clear but long; keep the first sentence, and say where the
    // options are listed.
    const first = String((err as Error).message)
      .split('. ')[0]!
      .replace(/\.$/, '');
    throw new UsageError(`${first} (run with --help for the options)`);
  }
  const flags = parsed.values as Record<string, string | boolean | undefined>;

  const configPath = (flags[CONFIG_OPTION] as string | undefined) ?? env.TLSECHO_CONFIG;
  const fileValues = configPath ? readConfigFile(configPath, table) : {};

  const values: Record<string, unknown> = {};
  for (const [name, o] of Object.entries(table)) {
    const ev = envName(name, o);
    let raw: unknown;
    let source: string;
    if (flags[name] !== undefined) {
      raw = flags[name];
      source = 'flag';
    } else if (ev && env[ev] !== undefined && env[ev] !== '') {
      raw = env[ev];
      source = `environment variable ${ev}`;
    } else if (name in fileValues) {
      raw = fileValues[name];
      source = `config file ${configPath}`;
    } else {
      values[name] = o.default;
      continue;
    }
    values[name] = convert(name, o, raw, source);
  }
  return { values: values as Resolved<T>, positionals: parsed.positionals, help: flags.help === true };
}

function readConfigFile(path: string, table: OptionTable): Record<string, unknown> {
  let text: string;
  try {
    text = readUserFile(path, 'config file', { allowEmpty: true });
  } catch (err) {
    // Bad input like a bad flag: exit code 2.
    throw err instanceof CommandError ? new UsageError(err.message) : err;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new UsageError(`config file ${path} is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    throw new UsageError(`config file ${path} must be a mapping of option names to values`);
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(doc)) {
    // Accept camelCase and snake_case spellings of the kebab-case option names.
    const name = key.replace(/_/g, '-').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    if (!(name in table))
      throw new UsageError(
        `config file ${path}: unknown key '${key}' (known: ${Object.keys(table).join(', ')})`,
      );
    out[name] = value;
  }
  return out;
}

/** The text of `tlsecho <command> --help`: every option with its variable and default. */
export function helpText(command: string, summary: string, usage: string, table: OptionTable): string {
  const rows: string[][] = [];
  for (const [name, o] of Object.entries(table)) {
    // A switch that is on by default is turned off with --no-<name>; say so where it matters.
    const flag =
      o.kind !== 'bool' ? `--${name} ${placeholder(o)}` : o.default === true ? `--[no-]${name}` : `--${name}`;
    const ev = envName(name, o);
    const def = o.default === undefined ? '' : ` [default: ${formatDefault(o)}]`;
    const choices = o.choices ? ` (${o.choices.join('|')})` : '';
    rows.push([flag, `${o.description}${choices}${def}${ev ? ` [env: ${ev}]` : ''}`]);
  }
  rows.push([
    '--config FILE',
    'YAML file of option values (flags and env override it) [env: TLSECHO_CONFIG]',
  ]);
  rows.push(['-h, --help', 'show this help']);
  const width = Math.min(28, Math.max(...rows.map((r) => r[0]!.length)) + 2);
  const body = rows.map(
    ([f, d]) => `  ${f!.padEnd(width)}${f!.length >= width ? `\n  ${' '.repeat(width)}` : ''}${d}`,
  );
  return `tlsecho ${command}: ${summary}\n\nUsage: ${usage}\n\nOptions:\n${body.join('\n')}\n`;
}

function placeholder(o: Option): string {
  switch (o.kind) {
    case 'int':
      return 'N';
    case 'duration':
      return 'DURATION';
    case 'list':
      return 'A,B,...';
    default:
      return o.choices ? 'CHOICE' : 'VALUE';
  }
}

function formatDefault(o: Option): string {
  if (o.kind === 'duration' && typeof o.default === 'number') return `${o.default}ms`;
  if (Array.isArray(o.default)) return o.default.join(',') || '(none)';
  return String(o.default);
}
