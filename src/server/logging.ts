// Logs via pino: JSON lines for machines (--log-format json) or a compact human line (text):
//   2025-01-02T03:04:05.678Z INFO Received GET /ping client=10.0.0.5 sni=server1.tlsecho.test status=200 ms=0.21
// Lines are written in batches per event-loop turn (log-batch.ts).
import { pino, type Logger } from 'pino';
import { LineBatch } from './log-batch.js';

export type { Logger };
export type LogFormat = 'text' | 'json';

const BARE = /^[\w.:/@%+,\-[\]]+$/;
const LEVEL_TEXT: Record<string, string> = {
  trace: 'TRACE',
  debug: 'DEBUG',
  info: 'INFO',
  warn: 'WARN',
  error: 'ERROR',
  fatal: 'FATAL',
};

/** Appends ` key=value` for each field, quoting values that need it. */
function appendFields(out: string, fields: object): string {
  for (const [key, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    const text = typeof v === 'string' || v instanceof Error;
    const s = typeof v === 'string' ? v : v instanceof Error ? v.message : JSON.stringify(v);
    out += ` ${key}=${text && !BARE.test(s) ? JSON.stringify(s) : s}`;
  }
  return out;
}

/** One log line in text form: `time LEVEL msg key=value …`. */
export function textLine(time: string, level: string, msg: string, fields?: object, base?: object): string {
  let out = `${time} ${LEVEL_TEXT[level] ?? level.toUpperCase()} ${msg}`;
  if (base) out = appendFields(out, base);
  if (fields) out = appendFields(out, fields);
  return `${out}\n`;
}

// The ISO time of the current millisecond; at thousands of lines a second most lines share it.
let lastMs = 0;
let lastIso = '';
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

/**
 * A pino logger writing to stdout in batches of whole lines (see LineBatch). The text form is
 * formatted straight from the call's arguments: pino's JSON is never built and parsed again, a
 * round trip that was the largest cost of a request.
 */
export function createLogger(opts: {
  format: LogFormat;
  level: string;
  base?: Record<string, unknown>;
}): Logger {
  const dest = new LineBatch();
  destinations.push(dest);
  const { base } = opts;
  const text = {
    logMethod(this: Logger, args: unknown[], _method: unknown, level: number) {
      const [first, second] = args;
      const fields = typeof first === 'object' && first !== null ? first : undefined;
      const msg = fields ? second : first;
      dest.write(textLine(isoNow(), this.levels.labels[level] ?? 'info', String(msg ?? ''), fields, base));
    },
  };
  return pino(
    {
      level: opts.level,
      base: opts.format === 'json' ? { pid: process.pid, ...base } : null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(opts.format === 'text' ? { hooks: text } : {}),
    },
    dest,
  );
}

const destinations: { flushSync(): void }[] = [];

/** Writes out buffered lines before the process exits. */
export function flushLogs(): void {
  for (const d of destinations)
    try {
      d.flushSync();
    } catch {
      // nothing buffered, or stdout already closed: nothing more can be written
    }
}

export const silentLogger: Logger = pino({ level: 'silent' });
