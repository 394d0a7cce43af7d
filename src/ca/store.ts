// The on-disk layout, compatible with minica so the seed's paths carry over:
//   <out>/minica.pem, <out>/minica-key.pem, <out>/<first name>/cert.pem, <out>/<first name>/key.pem
// Every file of one run is written to a temporary name first and renamed into place only when all
// of them were written, so a failure leaves nothing half-written. Keys are 0600 in 0700 folders.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { CommandError } from '../config/errors.js';
import { readUserFile } from '../config/user-file.js';
import { importKey, type KeyMaterial } from './issue.js';
import { canonicalName, certNames, folderName, issuedBy } from './names.js';

const ROOT_CERT = 'minica.pem';
const ROOT_KEY = 'minica-key.pem';

export function rootPaths(out: string) {
  return { cert: join(out, ROOT_CERT), key: join(out, ROOT_KEY) };
}

/** A two-tier PKI's intermediate CA, beside the root (a minica folder has none). */
const INTERMEDIATE_CERT = 'intermediate.pem';
const INTERMEDIATE_KEY = 'intermediate-key.pem';

export function intermediatePaths(out: string) {
  return { cert: join(out, INTERMEDIATE_CERT), key: join(out, INTERMEDIATE_KEY) };
}

export function leafPaths(out: string, firstName: string) {
  const dir = join(out, folderName(firstName));
  return { dir, cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
}

export interface LoadedRoot {
  certPem: string;
  key: KeyMaterial;
}

/**
 * Loads an existing root, or returns undefined when neither file exists. A half-present root, a
 * file that is not what it should be, or a key that does not match the certificate is an error:
 * the root is never silently replaced.
 */
export async function loadRoot(out: string): Promise<LoadedRoot | undefined> {
  return loadCaPair(rootPaths(out), 'root CA');
}

/** The same checks for a CA certificate and key pair at `p` (the root's or the intermediate's). */
export async function loadCaPair(
  p: { cert: string; key: string },
  role: string,
): Promise<LoadedRoot | undefined> {
  const hasCert = existsSync(p.cert);
  const hasKey = existsSync(p.key);
  if (!hasCert && !hasKey) return undefined;
  if (!hasCert) throw new CommandError(`${p.key} exists but ${p.cert} is missing; restore it or remove both`);
  if (!hasKey) throw new CommandError(`${p.cert} exists but ${p.key} is missing; restore it or remove both`);
  const certPem = readUserFile(p.cert, role, { pem: 'certificate' });
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(certPem);
  } catch {
    throw new CommandError(`${p.cert} is not a valid PEM certificate`);
  }
  if (!cert.ca) throw new CommandError(`${p.cert} is not a CA certificate`);
  const keyPem = readUserFile(p.key, `${role} key`, { pem: 'private key' });
  let keyObject;
  try {
    keyObject = createPrivateKey(keyPem);
  } catch {
    throw new CommandError(`${p.key} is not a valid PEM private key`);
  }
  if (!cert.checkPrivateKey(keyObject))
    throw new CommandError(`${p.key} does not match the certificate ${p.cert}`);
  if (new Date(cert.validTo).getTime() < Date.now())
    throw new CommandError(`${role} ${p.cert} expired on ${new Date(cert.validTo).toISOString()}`);
  let key: KeyMaterial;
  try {
    key = await importKey(keyPem);
  } catch (err) {
    throw new CommandError(`${p.key}: ${(err as Error).message}`);
  }
  return { certPem, key };
}

export interface PendingFile {
  path: string;
  data: string | Uint8Array;
  secret: boolean;
}

/** Writes all files or none. Folders that have to be made are made 0700. */
export function writeAllOrNothing(files: PendingFile[]): void {
  const made: string[] = [];
  const temps: { tmp: string; path: string }[] = [];
  try {
    for (const f of files) {
      const dir = dirname(f.path);
      if (!existsSync(dir)) {
        // One level at a time, recording each folder this run creates so a failure removes it
        // again (and because recursive mkdir spins forever where the kernel answers ENOENT for
        // an existing parent, as /proc does).
        const chain: string[] = [];
        for (let d = dir; !existsSync(d); d = dirname(d)) chain.unshift(d);
        for (const d of chain) {
          mkdirSync(d, { mode: 0o700 });
          made.unshift(d);
        }
      } else if (!statSync(dir).isDirectory()) {
        throw new CommandError(`${dir} is not a folder`);
      }
      const tmp = join(dir, `.${randomBytes(6).toString('hex')}.tmp`);
      writeFileSync(tmp, f.data, { mode: f.secret ? 0o600 : 0o644, flag: 'wx' });
      temps.push({ tmp, path: f.path });
    }
    for (const t of temps) renameSync(t.tmp, t.path);
  } catch (err) {
    for (const t of temps) rmSync(t.tmp, { force: true });
    for (const d of made) rmSync(d, { recursive: true, force: true });
    if (err instanceof CommandError) throw err;
    const e = err as NodeJS.ErrnoException;
    throw new CommandError(`cannot write to ${e.path ?? 'output folder'}: ${e.code ?? e.message}`);
  }
}

/** A leaf kept rather than re-issued needs at least this much validity left. */
const REUSE_MIN_REMAINING_MS = 30 * 24 * 3600 * 1000;

export type ExistingLeaf = { reusable: true; validTo: Date } | { reusable: false; why: string };

/**
 * Whether the leaf already at `paths` can stand for the one requested, so that
 * `tlsecho ca && tlsecho server` can run again and again: exactly the requested names, issued by
 * this root, its key present and matching, and valid for more than 30 more days.
 */
export function checkExistingLeaf(
  paths: { cert: string; key: string },
  names: string[],
  issuerCertPem: string,
): ExistingLeaf {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(readFileSync(paths.cert));
    if (!cert.checkPrivateKey(createPrivateKey(readFileSync(paths.key)))) return no('its key does not match');
  } catch {
    return no('it cannot be read or parsed');
  }
  const root = new X509Certificate(issuerCertPem);
  if (!issuedBy(cert, root)) return no('it was issued by another CA');
  const held = sanNames(cert);
  const wanted = [...new Set(names.map(canonicalName))].sort();
  if (held.join(',') !== wanted.join(',')) return no(`it is for other names (${held.join(', ') || 'none'})`);
  const validTo = new Date(cert.validTo);
  if (new Date(cert.validFrom).getTime() > Date.now()) return no('it is not valid yet');
  if (validTo.getTime() - Date.now() <= REUSE_MIN_REMAINING_MS)
    return no(`it expires on ${validTo.toISOString()}, within 30 days`);
  return { reusable: true, validTo };
}

function no(why: string): ExistingLeaf {
  return { reusable: false, why };
}

/** Sorted SAN entries; IPv6 written short, as the requested names are after validation. */
function sanNames(cert: X509Certificate): string[] {
  return [...new Set(certNames(cert))].sort();
}
