// Logs via pino: JSON lines for machines (--log-format json) or a compact human line (text):
//   2025-01-02T03:04:05.678Z INFO Received GET /ping client=10.0.0.5 sni=server1.tlsecho.test status=200 ms=0.21
// Lines are written in batches per event-loop turn (log-batch.ts).
import { pino, type Logger } from 'pino';
import { LineBatch } from './log-batch.js';

export type { Logger };
export type LogFormat = 'text' | 'json';

/**
 * A value a client chose (method, path, host, SNI), safe to put in a log line: control characters,
 * backslashes and anything outside printable ASCII become `\uXXXX`, so a client can neither end
 * the line nor make a terminal obey escape sequences.
 */
const UNSAFE = /[^\x20-\x5b\x5d-\x7e]/;
const UNSAFE_ALL = /[^\x20-\x5b\x5d-\x7e]/g;
export function logSafe(s: string): string {
  return UNSAFE.test(s)
    ? s.replace(UNSAFE_ALL, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : s;
}

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
function textLine(time: string, level: string, msg: string, fields?: object, base?: object): string {
  let out = `${time} ${LEVEL_TEXT[level] ?? level.toUpperCase()} ${msg}`;
  if (base) out = appendFields(out, base);
  if (fields) out = appendFields(out, fields);
  return `${out}\n`;
}

// The ISO time of the current millisecond. toISOString() costs about as much as the rest of a
// log line, so it runs once a second; the milliseconds are appended from a table.
const MILLIS = Array.from({ length: 1000 }, (_, i) => `${String(i).padStart(3, '0')}Z`);
let secondStart = -Infinity;
let secondPrefix = '';
let lastMs = NaN;
let lastIso = '';
/** `new Date(ms).toISOString()`, cached: the same millisecond or second as the last call is cheap. */
export function isoTime(ms: number): string {
  if (ms !== lastMs) {
    lastMs = ms;
    const offset = ms - secondStart;
    if (offset < 0 || offset >= 1000) {
      secondStart = ms - (((ms % 1000) + 1000) % 1000); // (before 1970 too)
      secondPrefix = new Date(secondStart).toISOString().slice(0, -4); // `…T03:04:05.`
    }
    lastIso = secondPrefix + MILLIS[ms - secondStart]!;
  }
  return lastIso;
}

const isoNow = () => isoTime(Date.now());

/**
 * The request log's hot path: the same line pino would write for
 * `logger.info({ ...connection fields, status, ms }, msg)`, built by concatenation. Fields that
 * stay the same for a connection (client, SNI) are formatted once per connection by `fields()`.
 * Every part is ASCII (what a client chose goes through logSafe), so a line's length is its size.
 */
export interface RequestLog {
  fields(f: Record<string, string>): string;
  write(msg: string, connectionFields: string, status: number, ms: number): void;
}

const requestLogs = new WeakMap<Logger, RequestLog>();

/** The logger's request log, or undefined when its lines go through pino (silent, tests). */
export function requestLogOf(logger: Logger): RequestLog | undefined {
  return logger.isLevelEnabled('info') ? requestLogs.get(logger) : undefined;
}

function textRequestLog(dest: LineBatch, base: object | undefined): RequestLog {
  return {
    fields: (f) => appendFields(base ? appendFields('', base) : '', f),
    write: (msg, fields, status, ms) =>
      dest.writeAscii(`${isoNow()} ${LEVEL_TEXT.info} ${msg}${fields} status=${status} ms=${ms}\n`),
  };
}

function jsonRequestLog(dest: LineBatch, base: Record<string, unknown>): RequestLog {
  const head = JSON.stringify(base).slice(1, -1);
  return {
    fields: (f) => `${head},${JSON.stringify(f).slice(1, -1)}`,
    write: (msg, fields, status, ms) =>
      dest.writeAscii(
        `{"level":"info","time":"${isoNow()}",${fields},"status":${status},"ms":${ms},"msg":${JSON.stringify(msg)}}\n`,
      ),
  };
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
  const jsonBase = { pid: process.pid, ...base };
  const logger = pino(
    {
      level: opts.level,
      base: opts.format === 'json' ? jsonBase : null,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(opts.format === 'text' ? { hooks: text } : {}),
    },
    dest,
  );
  requestLogs.set(
    logger,
    opts.format === 'json' ? jsonRequestLog(dest, jsonBase) : textRequestLog(dest, base),
  );
  return logger;
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
