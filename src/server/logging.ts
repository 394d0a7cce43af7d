// Logs via pino: JSON lines for machines (--log-format json) or a compact human line (text):
//   2025-01-02T03:04:05.678Z INFO Received GET /ping client=10.0.0.5 sni=server1.tlsecho.test status=200 ms=0.21
// Writes go through pino's asynchronous destination so logging never blocks a request.
import { pino, type Logger } from 'pino';

export type { Logger };
export type LogFormat = 'text' | 'json';

// pino's own fields that the text line renders itself or leaves out.
const SKIP = new Set(['level', 'time', 'msg', 'pid', 'hostname']);
const BARE = /^[\w.:/@%+,\-[\]]+$/;

/** One JSON log record as `time LEVEL msg key=value …`, quoting values that need it. */
export function textLine(record: Record<string, unknown>): string {
  let out = `${String(record.time)} ${String(record.level).toUpperCase()} ${String(record.msg ?? '')}`;
  for (const key in record) {
    if (SKIP.has(key)) continue;
    const v = record[key];
    if (v === undefined) continue;
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    out += ` ${key}=${typeof v === 'string' && !BARE.test(s) ? JSON.stringify(s) : s}`;
  }
  return `${out}\n`;
}

/**
 * A pino logger writing to stdout. `sync` is for worker processes sharing one stdout: each line
 * is then a single write(2), so lines from different workers never interleave.
 */
export function createLogger(opts: {
  format: LogFormat;
  level: string;
  sync?: boolean;
  base?: Record<string, unknown>;
}): Logger {
  const dest = pino.destination({ dest: 1, sync: opts.sync ?? false });
  destinations.push(dest);
  const stream =
    opts.format === 'json'
      ? dest
      : { write: (line: string) => dest.write(textLine(JSON.parse(line) as Record<string, unknown>)) };
  const logger = pino(
    {
      level: opts.level,
      base: opts.format === 'json' ? { pid: process.pid, ...opts.base } : (opts.base ?? null),
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    stream,
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
