// The `install` and `uninstall` actions of `tlsecho ca`: run the trust-store change and say what
// happened in each database. Exit 1 when any database failed, after trying all of them.
import { CommandError } from '../config/errors.js';
import { constraintsOf } from './constraints.js';
import { installRoot, otherSystemsHint, readRoot, uninstallRoot, type DbResult } from './trust-store.js';

export async function trustAction(
  action: 'install' | 'uninstall',
  out: string,
  nssDbs: string[] | undefined,
): Promise<number> {
  const root = readRoot(out);
  if (action === 'install' && !constraintsOf(root.pem))
    process.stderr.write(
      `warning: ${root.path} has no name constraints: once installed it can vouch for any name; ` +
        "a root made with 'tlsecho ca --name-constraints' in a new --out folder can only vouch for yours\n",
    );
  const results = await (action === 'install' ? installRoot : uninstallRoot)(root, { nssDbs });
  const lines = [`root CA ${root.path}: ${root.commonName}`, `  SHA-256 fingerprint: ${root.sha256}`];
  if (results.length === 0) lines.push('  no NSS databases found (nothing to remove)');
  for (const r of results) lines.push(`  ${describeResult(r, root.nickname)}`);
  const failed = results.filter((r) => r.error);
  const changed = results.some(
    (r) => r.outcome === 'added' || r.outcome === 'trust updated' || r.outcome === 'removed',
  );
  if (changed) lines.push('Restart Chromium and Firefox for the change to take effect.');
  lines.push(...otherSystemsHint(root, action));
  process.stdout.write(`${lines.join('\n')}\n`);
  if (failed.length)
    throw new CommandError(
      `${action} failed for ${failed.length} of ${results.length} NSS database(s); see above`,
    );
  return 0;
}

function describeResult(r: DbResult, nickname: string): string {
  const where = `${r.db.label} ${r.db.format}:${r.db.dir}`;
  if (r.error) return `FAILED ${where}: ${r.error}`;
  const created = r.created ? ' (database created)' : '';
  switch (r.outcome) {
    case 'added':
      return `added to ${where}${created} as "${nickname}", trust C,,`;
    case 'trust updated':
      return `trust set to C,, in ${where}`;
    case 'already present':
      return `already in ${where}${created}`;
    case 'removed':
      return `removed from ${where}`;
    default:
      return `not in ${where}`;
  }
}
