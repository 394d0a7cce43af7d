// NSS's `certutil` (libnss3-tools), the one tool that writes the certificate databases Chromium
// and Firefox read on Linux. Every call has a timeout and no terminal: a database protected by a
// primary password fails instead of waiting for a prompt nobody sees.
import { spawn } from 'node:child_process';
import { CommandError } from '../config/errors.js';
import { lastLine } from '../util/tools.js';

const TIMEOUT_MS = 15_000;

const CERTUTIL_MISSING =
  "certutil not found on PATH: install it (Debian/Ubuntu: 'apt-get install libnss3-tools'; " +
  "Fedora/RHEL: 'dnf install nss-tools'; Arch: 'pacman -S nss'; Alpine: 'apk add nss-tools')";

/** An NSS database: `sql:` for cert9.db (the default since NSS 3.35), `dbm:` for legacy cert8.db. */
export interface NssDb {
  dir: string;
  format: 'sql' | 'dbm';
}

function dbSpec(db: NssDb): string {
  return `${db.format}:${db.dir}`;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function certutil(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    // stdin is /dev/null: a password prompt reads end-of-file and certutil fails at once.
    const child = spawn('certutil', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Our own timer, not spawn's `timeout`: that one stays armed when the spawn itself fails.
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d));
    child.stderr.on('data', (d: Buffer) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      reject(err.code === 'ENOENT' ? new CommandError(CERTUTIL_MISSING) : err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (signal)
        reject(new CommandError(`certutil ${args[0]} killed by ${signal} (timeout ${TIMEOUT_MS} ms)`));
      else resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

const reason = (r: Run) => lastLine(r.stderr, r.stdout, r.code);

async function must(args: string[], what: string): Promise<Run> {
  const r = await certutil(args);
  if (r.code !== 0) throw new CommandError(`${what}: ${reason(r)}`);
  return r;
}

/** Fails with the install hint when certutil is not installed. */
export async function checkCertutil(): Promise<void> {
  await certutil(['-H']); // prints usage and exits non-zero; only ENOENT matters
}

/** Creates an empty database with no password (what Chromium would create on first start). */
export async function createDb(db: NssDb): Promise<void> {
  await must(['-N', '-d', dbSpec(db), '--empty-password'], `cannot create NSS database ${db.dir}`);
}

export interface Entry {
  nickname: string;
  /** SSL, S/MIME and code-signing trust, e.g. `C,,` or `CT,C,C`. */
  trust: string;
}

/** Every certificate of the database with its trust flags (`certutil -L`). */
export async function listCerts(db: NssDb): Promise<Entry[]> {
  const r = await must(['-L', '-d', dbSpec(db)], `cannot read NSS database ${db.dir}`);
  const entries: Entry[] = [];
  for (const line of r.stdout.split('\n')) {
    // Rows are the nickname padded with spaces, then the three trust fields.
    const m = /^(.*\S)\s+([A-Za-z]*,[A-Za-z]*,[A-Za-z]*)\s*$/.exec(line);
    if (m) entries.push({ nickname: m[1]!, trust: m[2]! });
  }
  return entries;
}

export async function addCert(db: NssDb, nickname: string, certFile: string, trust: string): Promise<void> {
  await must(
    ['-A', '-d', dbSpec(db), '-n', nickname, '-t', trust, '-i', certFile],
    `cannot add the root to NSS database ${db.dir}`,
  );
}

export async function setTrust(db: NssDb, nickname: string, trust: string): Promise<void> {
  await must(
    ['-M', '-d', dbSpec(db), '-n', nickname, '-t', trust],
    `cannot set trust in NSS database ${db.dir}`,
  );
}

export async function deleteCert(db: NssDb, nickname: string): Promise<void> {
  await must(['-D', '-d', dbSpec(db), '-n', nickname], `cannot remove the root from NSS database ${db.dir}`);
}
