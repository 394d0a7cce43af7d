// Where Chromium and Firefox keep their NSS certificate databases on Linux (the places
// `mkcert -install` writes to): the shared per-user database, and one per Firefox profile.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../config/errors.js';
import type { NssDb } from './certutil.js';

export interface FoundDb extends NssDb {
  /** Who reads it, for the report: "Chromium (shared)", "Firefox profile", … */
  label: string;
  /** true when it does not exist yet and install should create it. */
  missing?: boolean;
}

/** The format of the database in `dir`, or undefined when it holds none. */
function dbFormat(dir: string): NssDb['format'] | undefined {
  if (existsSync(join(dir, 'cert9.db'))) return 'sql';
  if (existsSync(join(dir, 'cert8.db'))) return 'dbm';
  return undefined;
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Profile folders (those holding a database) under a Firefox root such as ~/.mozilla/firefox. */
function firefoxProfiles(root: string, label: string): FoundDb[] {
  if (!isDir(root)) return [];
  const found: FoundDb[] = [];
  for (const name of readdirSync(root).sort()) {
    const dir = join(root, name);
    const format = isDir(dir) ? dbFormat(dir) : undefined;
    if (format) found.push({ dir, format, label });
  }
  return found;
}

/**
 * The databases of the user whose home is `home`: ~/.pki/nssdb (Chromium and other NSS programs;
 * reported as missing when absent, so install creates it), snap Chromium's, and every Firefox
 * profile (Debian's and snap's).
 */
export function discoverNssDbs(home: string): FoundDb[] {
  const shared = join(home, '.pki', 'nssdb');
  const dbs: FoundDb[] = [
    { dir: shared, format: dbFormat(shared) ?? 'sql', label: 'Chromium (shared ~/.pki/nssdb)' },
  ];
  if (!dbFormat(shared)) dbs[0]!.missing = true;
  const snapChromium = join(home, 'snap', 'chromium', 'current', '.pki', 'nssdb');
  const snapFormat = dbFormat(snapChromium);
  if (snapFormat) dbs.push({ dir: snapChromium, format: snapFormat, label: 'Chromium (snap)' });
  dbs.push(
    ...firefoxProfiles(join(home, '.mozilla', 'firefox'), 'Firefox profile'),
    ...firefoxProfiles(
      join(home, 'snap', 'firefox', 'common', '.mozilla', 'firefox'),
      'Firefox profile (snap)',
    ),
  );
  return dbs;
}

/**
 * Databases named with --nss-db: a folder holding cert9.db/cert8.db, or an existing empty folder
 * (e.g. a new Firefox profile) in which install creates one. A folder that does not exist is a typo.
 */
export function explicitNssDbs(dirs: string[]): FoundDb[] {
  return dirs.map((d) => {
    const dir = resolve(d.replace(/^(sql|dbm):/, ''));
    if (!isDir(dir)) throw new UsageError(`--nss-db ${d}: no such folder`);
    const format = dbFormat(dir);
    return { dir, format: format ?? 'sql', label: 'NSS database', ...(format ? {} : { missing: true }) };
  });
}
