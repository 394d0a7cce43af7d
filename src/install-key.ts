// One-shot step of compose.yaml (service `tls-key`): copies the server's private key from its
// bind-mounted file secret into a named volume, owned by the server's uid and readable by it only.
// Compose (outside Swarm) bind-mounts file secrets with the host file's owner and mode and ignores
// a secret's uid/gid/mode, so the 0600 key `tlsecho ca` writes is unreadable to the non-root
// server; this step runs as root in the container instead, and the host key stays 0600.
//   node install-key.js <source> <folder> <uid>
import { chmodSync, chownSync, copyFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

const [source, folder, uidText] = process.argv.slice(2);
const uid = Number(uidText);
if (!source || !folder || !Number.isSafeInteger(uid) || uid < 0) {
  process.stderr.write('usage: install-key.js <source> <folder> <uid>\n');
  process.exit(2);
}
const target = join(folder, 'key.pem');
const tmp = join(folder, '.key.pem.tmp');
try {
  // Written under a temporary name and renamed, so the server never reads half a key.
  copyFileSync(source, tmp);
  chmodSync(tmp, 0o400);
  chownSync(tmp, uid, uid);
  renameSync(tmp, target);
  chownSync(folder, uid, uid);
  chmodSync(folder, 0o700);
  process.stdout.write(`installed ${source} as ${target} for uid ${uid} (mode 0400)\n`);
} catch (err) {
  const e = err as NodeJS.ErrnoException;
  process.stderr.write(`install-key: cannot install ${source} into ${folder}: ${e.code ?? e.message}\n`);
  process.exit(1);
}
