// The NSS key log (the SSLKEYLOGFILE format Wireshark reads) from node:tls's 'keylog' events:
// every line appended to one file, created 0600 and kept 0600, since whoever can read it can
// decrypt every recorded connection it covers.
import { closeSync, createWriteStream, fchmodSync, openSync, type WriteStream } from 'node:fs';

/** The line to print when a key log is on. */
export const KEYLOG_WARNING =
  'TLS key log enabled: the secrets written to it make any recording of this traffic decryptable; use it only to debug';

export interface KeyLog {
  path: string;
  /** A listener for tls.Server 'keylog' (line, socket) and tls.TLSSocket 'keylog' (line) alike. */
  write: (line: Buffer) => void;
  /** Flushes and closes the file. */
  close(): Promise<void>;
}

/** Thrown with one line saying what was wrong and what to do. */
export class KeyLogError extends Error {}

/**
 * Opens (creating if missing) `path` for appending with mode 0600 and returns its writer. An
 * existing file is tightened to 0600 rather than left readable by others.
 */
export function openKeyLog(path: string): KeyLog {
  let fd: number;
  try {
    fd = openSync(path, 'a', 0o600);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint =
      e.code === 'ENOENT'
        ? 'create its folder first'
        : e.code === 'EACCES'
          ? 'choose a path you may write'
          : 'choose another path';
    throw new KeyLogError(`cannot open the TLS key log file ${path}: ${e.code ?? e.message}; ${hint}`);
  }
  try {
    fchmodSync(fd, 0o600);
  } catch (err) {
    closeSync(fd);
    throw new KeyLogError(
      `cannot make the TLS key log file ${path} private (mode 0600): ${(err as NodeJS.ErrnoException).code}`,
    );
  }
  const stream: WriteStream = createWriteStream(path, { fd, flags: 'a' });
  // A full disk must not crash the server: the key log is a debugging aid.
  let failed = false;
  stream.on('error', () => (failed = true));
  return {
    path,
    write: (line: Buffer) => {
      if (!failed) stream.write(line);
    },
    close: () => new Promise<void>((resolve) => stream.end(() => resolve())),
  };
}
