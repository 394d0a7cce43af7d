// `tlsecho ca install` / `uninstall`: puts the root into (or takes it out of) the NSS databases
// Chromium and Firefox read on Linux, like `mkcert -install` (the system and Java stores are in
// os-stores.ts); for macOS and Windows the commands to run are printed, not run.
import { X509Certificate } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { resolve } from 'node:path';
import { CommandError } from '../config/errors.js';
import { readUserFile } from '../config/user-file.js';
import { addCert, checkCertutil, createDb, deleteCert, listCerts, setTrust } from './certutil.js';
import { fingerprintOfDer } from './fingerprint.js';
import { discoverNssDbs, explicitNssDbs, type FoundDb } from './nss-dbs.js';
import { rootPaths } from './store.js';

/** Trusted to issue TLS server certificates; nothing else (no S/MIME, no code signing). */
export const ROOT_TRUST = 'C,,';

export interface TrustedRoot {
  path: string;
  pem: string;
  commonName: string;
  sha256: string;
  /** Windows' thumbprint and what `security delete-certificate -Z` takes. */
  sha1: string;
  /** The NSS nickname: the root's CN plus its fingerprint, so uninstall removes exactly this root. */
  nickname: string;
}

/** Reads <out>/minica.pem; a clear error when it is missing or not a CA certificate. */
export function readRoot(out: string): TrustedRoot {
  const path = resolve(rootPaths(out).cert);
  const pem = readUserFile(path, 'root CA', { pem: 'certificate' });
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pem);
  } catch {
    throw new CommandError(`${path} is not a valid PEM certificate`);
  }
  if (!cert.ca) throw new CommandError(`${path} is not a CA certificate`);
  const fp = fingerprintOfDer(cert.raw);
  const cn = /^CN=(.*)$/m.exec(cert.subject)?.[1] ?? 'tlsecho root CA';
  // certutil reads "token:name" in nicknames, so keep to characters with no meaning to it.
  const commonName = cn.replace(/[^A-Za-z0-9 ._-]/g, '_');
  return {
    path,
    pem,
    commonName,
    sha256: fp.colon,
    sha1: cert.fingerprint.replace(/:/g, ''),
    nickname: `${commonName} sha256-${fp.hex.slice(0, 16)}`,
  };
}

export type Outcome = 'added' | 'trust updated' | 'already present' | 'removed' | 'not present';

export interface DbResult {
  db: FoundDb;
  outcome?: Outcome;
  created?: boolean;
  error?: string;
}

export interface TrustOptions {
  /** NSS database folders to use instead of the discovered ones (--nss-db). */
  nssDbs?: string[];
  /** Home folder to discover databases in; default the user's. */
  home?: string;
}

function targets(opts: TrustOptions): FoundDb[] {
  return opts.nssDbs?.length ? explicitNssDbs(opts.nssDbs) : discoverNssDbs(opts.home ?? homedir());
}

/** Adds the root with trust C,, to every target database; one failing database does not stop the rest. */
export async function installRoot(root: TrustedRoot, opts: TrustOptions = {}): Promise<DbResult[]> {
  await checkCertutil();
  const dbs = targets(opts);
  const results: DbResult[] = [];
  for (const db of dbs) {
    const r: DbResult = { db };
    try {
      if (db.missing) {
        mkdirSync(db.dir, { recursive: true, mode: 0o700 });
        await createDb(db);
        r.created = true;
      }
      const present = (await listCerts(db)).find((e) => e.nickname === root.nickname);
      if (present?.trust === ROOT_TRUST) r.outcome = 'already present';
      else if (present) {
        await setTrust(db, root.nickname, ROOT_TRUST);
        r.outcome = 'trust updated';
      } else {
        await addCert(db, root.nickname, root.path, ROOT_TRUST);
        // NSS keeps an existing nickname when the same certificate is already stored under another.
        if (!(await listCerts(db)).some((e) => e.nickname === root.nickname))
          throw new CommandError(`the root is already in ${db.dir} under another nickname; remove it first`);
        r.outcome = 'added';
      }
    } catch (err) {
      r.error = err instanceof CommandError ? err.message : String(err);
    }
    results.push(r);
  }
  return results;
}

/** Removes the root (by its nickname) from every target database that exists. */
export async function uninstallRoot(root: TrustedRoot, opts: TrustOptions = {}): Promise<DbResult[]> {
  await checkCertutil();
  const dbs = targets(opts).filter((db) => !db.missing);
  const results: DbResult[] = [];
  for (const db of dbs) {
    const r: DbResult = { db, outcome: 'not present' };
    try {
      // Bounded: one delete per stored copy, and there is at most one per nickname in practice.
      for (let i = 0; i < 5; i++) {
        if (!(await listCerts(db)).some((e) => e.nickname === root.nickname)) break;
        await deleteCert(db, root.nickname);
        r.outcome = 'removed';
      }
    } catch (err) {
      r.error = err instanceof CommandError ? err.message : String(err);
    }
    results.push(r);
  }
  return results;
}

/** The commands for the other systems' trust stores (administrator rights needed; not run here). */
export function otherSystemsHint(root: TrustedRoot, action: 'install' | 'uninstall'): string[] {
  if (action === 'install')
    return [
      'On other systems (run there, as administrator; tlsecho does not):',
      `  macOS:   sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ${root.path}`,
      `  Windows: certutil -addstore -f ROOT ${root.path}`,
      `           or PowerShell: Import-Certificate -FilePath ${root.path} -CertStoreLocation Cert:\\LocalMachine\\Root`,
    ];
  return [
    'On other systems (run there, as administrator; tlsecho does not):',
    `  macOS:   sudo security delete-certificate -Z ${root.sha1} /Library/Keychains/System.keychain`,
    `  Windows: certutil -delstore ROOT ${root.sha1}`,
    `           or PowerShell: Remove-Item Cert:\\LocalMachine\\Root\\${root.sha1}`,
  ];
}
