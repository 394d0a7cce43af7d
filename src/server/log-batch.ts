// Log lines of one event-loop turn, written to stdout together. Under load one turn answers
// dozens of requests; one synchronous write(2) for all their lines costs less than a write per
// line or a thread-pool hop per asynchronous write, and a line waits at most until the turn ends.
import { pino } from 'pino';

/** Largest write that a pipe takes atomically: writes from several workers never interleave. */
const PIPE_BUF = 4096;

export class LineBatch {
  private readonly dest = pino.destination({ dest: 1, sync: true });
  private pending = '';
  private bytes = 0;
  private scheduled = false;
  private readonly flushSoon = () => this.flush();

  write(line: string): void {
    const n = Buffer.byteLength(line);
    if (this.bytes + n > PIPE_BUF) this.flush(); // whole lines only, at most PIPE_BUF per write
    this.pending += line;
    this.bytes += n;
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(this.flushSoon);
    }
  }

  /** Writes the pending lines now (pino's logger.flush(cb) calls this too). */
  flush(cb?: (err?: Error) => void): void {
    this.scheduled = false;
    if (this.pending) {
      const chunk = this.pending;
      this.pending = '';
      this.bytes = 0;
      this.dest.write(chunk);
    }
    cb?.();
  }

  /** For exit paths: writes what is pending now. */
  flushSync(): void {
    this.flush();
    this.dest.flushSync();
  }
}
