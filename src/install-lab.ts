// One-shot step of compose.yaml's lab profile (service `lab-keys`): copies the failure lab that
// `tlsecho ca lab` made (bind-mounted as the file secret `lab`) into a named volume for the
// non-root lab server, as install-key.js does for the main key: each lab name's folder with
// cert.pem (0444) and key.pem (0400), owned by the server's uid, in 0700 folders. Only the served
// names are copied: the lab's own CA keys (_untrusted-root, _intermediate) and the client
// certificate (_client.*) stay on the host. A name no longer in the source is removed.
//   node install-lab.js <source folder> <target folder> <uid>
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { join } from 'node:path';
import { labKindOf } from './lab/names.js';

const [source, target, uidText] = process.argv.slice(2);
const uid = Number(uidText);
if (!source || !target || !Number.isSafeInteger(uid) || uid < 0) {
  process.stderr.write('usage: install-lab.js <source folder> <target folder> <uid>\n');
  process.exit(2);
}

/** The lab names of a folder: a lab kind as first label, with cert.pem and key.pem. */
function labFolders(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => !n.startsWith('_') && !n.startsWith('.') && labKindOf(n) !== undefined)
    .filter((n) => existsSync(join(dir, n, 'cert.pem')) && existsSync(join(dir, n, 'key.pem')))
    .sort();
}

/** Copies a file under a temporary name, sets owner and mode, then renames it into place. */
function install(from: string, to: string, mode: number): void {
  const tmp = `${to}.tmp`;
  copyFileSync(from, tmp);
  chmodSync(tmp, mode);
  chownSync(tmp, uid, uid);
  renameSync(tmp, to);
}

try {
  const names = labFolders(source);
  if (names.length === 0) {
    process.stderr.write(
      `install-lab: ${source} holds no lab names (<kind>.<domain>/cert.pem and key.pem): run 'make lab-certs'\n`,
    );
    process.exit(1);
  }
  for (const name of names) {
    const dir = join(target, name);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    // The key first: a reloading server sees a new pair only once both are in place.
    install(join(source, name, 'key.pem'), join(dir, 'key.pem'), 0o400);
    install(join(source, name, 'cert.pem'), join(dir, 'cert.pem'), 0o444);
    chownSync(dir, uid, uid);
    chmodSync(dir, 0o700);
  }
  for (const stale of readdirSync(target).filter((n) => !names.includes(n)))
    rmSync(join(target, stale), { recursive: true, force: true });
  chownSync(target, uid, uid);
  chmodSync(target, 0o700);
  process.stdout.write(
    `installed ${names.length} lab names from ${source} into ${target} for uid ${uid} (keys 0400): ${names.join(' ')}\n`,
  );
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`install-lab: cannot install ${source} into ${target}: ${e.code ?? e.message}\n`);
  process.exit(1);
}
