// Log lines, written to stdout in batches: one synchronous write(2) carries every line of an
// event-loop turn, and under load the lines of several turns. A write costs about as much as
// formatting several lines, and a thread-pool hop per asynchronous write more; so a batch is
// written at the end of its turn when the last write was at least SPACING_MS ago, else when
// that much time has passed. A batch that reaches PIPE_BUF is written at once, and the lines
// after it go with the write already due. A line waits SPACING_MS at most (nginx's buffered
// access log waits up to its `flush=` time); exit paths write what is pending at once
// (flushSync).
import { performance } from 'node:perf_hooks';
import { pino } from 'pino';

/** Largest write that a pipe takes atomically: writes from several workers never interleave. */
const PIPE_BUF = 4096;
const SPACING_MS = 5;

/** sonic-boom in its buffer mode (pino.destination's type knows only the string one). */
interface ByteSink {
  write(chunk: Buffer): boolean;
  flushSync(): void;
}

export class LineBatch {
  private readonly dest: ByteSink;
  private pending = '';
  private bytes = 0;
  /** Whether every pending line is ASCII: then a byte per character, encoded as latin1 (a copy). */
  private ascii = true;
  /** The immediate or the timer that writes the pending lines, while one is due. */
  private dueSoon: NodeJS.Immediate | undefined;
  private dueLater: NodeJS.Timeout | undefined;
  private lastWrite = -SPACING_MS;
  private readonly flushSoon = () => {
    this.dueSoon = this.dueLater = undefined;
    this.flush();
  };

  constructor(fd = 1) {
    // Buffers: in its utf8 mode sonic-boom encodes every chunk a second time after writing it.
    this.dest = pino.destination({ dest: fd, sync: true, contentMode: 'buffer' }) as unknown as ByteSink;
  }

  write(line: string): void {
    const n = Buffer.byteLength(line);
    this.add(line, n, n === line.length);
  }

  /** A line known to be ASCII (the request log's, escaped by logSafe): its length is its size. */
  writeAscii(line: string): void {
    this.add(line, line.length, true);
  }

  private add(line: string, n: number, ascii: boolean): void {
    // Whole lines only, at most PIPE_BUF per write. The due write stays due: it takes the lines
    // that follow (a timer cancelled and set again at every cut cost more than the cut itself).
    if (this.bytes + n > PIPE_BUF) this.writeOut();
    this.pending += line;
    this.bytes += n;
    this.ascii &&= ascii;
    if (this.dueSoon === undefined && this.dueLater === undefined) {
      const wait = this.lastWrite + SPACING_MS - performance.now();
      // (ceil: a timer counts from the loop's cached time and would otherwise fire early)
      if (wait <= 0) this.dueSoon = setImmediate(this.flushSoon);
      else this.dueLater = setTimeout(this.flushSoon, Math.ceil(wait));
    }
  }

  /** Writes the pending lines now (pino's logger.flush(cb) calls this too). */
  flush(cb?: (err?: Error) => void): void {
    // Each with its own clear: clearImmediate() given a timer corrupts Node's immediate queue.
    if (this.dueSoon !== undefined) clearImmediate(this.dueSoon);
    if (this.dueLater !== undefined) clearTimeout(this.dueLater);
    this.dueSoon = this.dueLater = undefined;
    this.writeOut();
    cb?.();
  }

  private writeOut(): void {
    if (!this.pending) return;
    const chunk = this.pending;
    const encoding = this.ascii ? 'latin1' : 'utf8';
    this.pending = '';
    this.bytes = 0;
    this.ascii = true;
    this.lastWrite = performance.now();
    this.dest.write(Buffer.from(chunk, encoding));
  }

  /** For exit paths: writes what is pending now. */
  flushSync(): void {
    this.flush();
    this.dest.flushSync();
  }
}
