// One way to read a file the user named (a flag, a variable, a config key or a default path), so
// every command words the same problems the same way, in one line that names the option and the
// path: missing, a folder, unreadable, empty, or not the PEM block the option expects.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { CommandError } from './errors.js';

/** What the file must hold; checked before the caller parses it. */
export type PemKind = 'certificate' | 'private key';

export interface UserFileOptions {
  /** Require a PEM block of this kind (a `BEGIN CERTIFICATE` or a `BEGIN … PRIVATE KEY` line). */
  pem?: PemKind;
  /** Added to the "no such file" line; defaults to the `tlsecho ca` hint for its output names. */
  hint?: string;
  /** An empty file is fine (a config file with nothing set). */
  allowEmpty?: boolean;
}

// The messages name the line without its dashes: a full private-key header in a tracked file is
// what test/repo/no-secrets.test.ts and `make export` look for.
const PEM_BEGIN: Record<PemKind, { re: RegExp; line: string }> = {
  certificate: { re: /-----BEGIN CERTIFICATE-----/, line: 'BEGIN CERTIFICATE' },
  'private key': { re: /-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----/, line: 'BEGIN PRIVATE KEY' },
};

// The file names `tlsecho ca` writes (minica's layout): a missing one most likely means the CA
// was never run, or ran into another folder.
const CA_OUTPUTS = new Set(['minica.pem', 'minica-key.pem', 'cert.pem', 'key.pem']);
const RUN_CA_HINT = "run 'npx tlsecho ca' first";

/**
 * Reads `path` for `option` (e.g. `--ca-file`, `config file`) as UTF-8 text, or throws a
 * CommandError with one line such as `cannot read --ca-file certs/x.pem: no such file`.
 */
export function readUserFile(path: string, option: string, o: UserFileOptions = {}): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = o.hint ?? (CA_OUTPUTS.has(basename(path)) ? RUN_CA_HINT : undefined);
    const why =
      code === 'ENOENT'
        ? `no such file${hint ? ` (${hint})` : ''}`
        : code === 'EISDIR'
          ? 'is a folder, not a file'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : code === 'ENOTDIR'
              ? 'a part of the path is not a folder'
              : (code ?? String(err));
    throw new CommandError(`cannot read ${option} ${path}: ${why}`);
  }
  if (!o.allowEmpty && text.trim() === '') throw new CommandError(`${option} ${path} is empty`);
  const pem = o.pem && PEM_BEGIN[o.pem];
  if (pem && !pem.re.test(text))
    throw new CommandError(`${option} ${path} is not a PEM ${o.pem} (no '${pem.line}' line)`);
  return text;
}
