// The `install` and `uninstall` actions of `tlsecho ca`: change the chosen trust stores (NSS
// databases, the Linux system store, Java's cacerts) and say what happened in each. Exit 1 when
// any failed, after trying all of them; a store named with --stores that lacks the rights to be
// changed fails the run before anything is touched.
import { CommandError, UsageError } from '../config/errors.js';
import { onPath } from '../util/tools.js';
import { constraintsOf } from './constraints.js';
import {
  javaChange,
  javaPrecheck,
  keytool,
  systemChange,
  systemFlavor,
  systemPrecheck,
  type StoreChange,
} from './os-stores.js';
import { installRoot, otherSystemsHint, readRoot, uninstallRoot, type DbResult } from './trust-store.js';

const STORES = ['system', 'nss', 'java'] as const;
export type StoreName = (typeof STORES)[number];

/**
 * The stores to change: --stores as given; only NSS when --nss-db names databases; else every
 * store whose tool is here (NSS: certutil; system: update-ca-certificates/-trust; Java: keytool).
 */
function chooseStores(list: string[] | undefined, nssDbs: string[] | undefined) {
  if (list?.length) {
    for (const s of list)
      if (!(STORES as readonly string[]).includes(s))
        throw new UsageError(`unknown store '${s}' in --stores (stores: ${STORES.join(', ')})`);
    return { stores: new Set(list as StoreName[]), explicit: true };
  }
  if (nssDbs?.length) return { stores: new Set<StoreName>(['nss']), explicit: true };
  const found = new Set<StoreName>();
  if (onPath('certutil')) found.add('nss');
  if (systemFlavor()) found.add('system');
  if (keytool()) found.add('java');
  return { stores: found, explicit: false };
}

export async function trustAction(
  action: 'install' | 'uninstall',
  out: string,
  nssDbs: string[] | undefined,
  storeList?: string[],
): Promise<number> {
  const { stores, explicit } = chooseStores(storeList, nssDbs);
  const root = readRoot(out);
  // Rights first: a store named with --stores that cannot be changed stops the run before any
  // store is touched; one found on its own is skipped with the command that would change it.
  const lacking = new Map<StoreName, string>();
  if (stores.has('system')) {
    const why = systemPrecheck();
    if (why) lacking.set('system', why);
  }
  if (stores.has('java')) {
    const why = javaPrecheck();
    if (why) lacking.set('java', why);
  }
  if (explicit && lacking.size) {
    const [store, why] = [...lacking][0]!;
    throw new CommandError(
      `cannot ${action} the root in the ${store} store: needs ${why}; nothing was changed`,
    );
  }
  const results = stores.has('nss')
    ? await (action === 'install' ? installRoot : uninstallRoot)(root, { nssDbs })
    : [];
  const lines = [`root CA ${root.path}: ${root.commonName}`, `  SHA-256 fingerprint: ${root.sha256}`];
  if (stores.has('nss') && results.length === 0) lines.push('  no NSS databases found (nothing to remove)');
  for (const r of results) lines.push(`  ${describeResult(r, root.nickname)}`);
  const failed = results.filter((r) => r.error);
  const changed = results.some(
    (r) => r.outcome === 'added' || r.outcome === 'trust updated' || r.outcome === 'removed',
  );
  if (changed) lines.push('Restart Chromium and Firefox for the change to take effect.');
  const others: StoreChange[] = [];
  for (const store of ['system', 'java'] as const) {
    if (!stores.has(store)) continue;
    const why = lacking.get(store);
    if (why) lines.push(`  skipped the ${store} store: needs ${why}`);
    else others.push(store === 'system' ? systemChange(root, action) : javaChange(root, action));
  }
  for (const c of others) lines.push(`  ${describeChange(c)}`);
  if (stores.size === 0)
    lines.push('  no trust store found (no certutil, update-ca-certificates, update-ca-trust or keytool)');
  lines.push(...otherSystemsHint(root, action));
  process.stdout.write(`${lines.join('\n')}\n`);
  const otherFailed = others.filter((c) => c.error);
  if (failed.length || otherFailed.length)
    throw new CommandError(
      `${action} failed for ${failed.length + otherFailed.length} store(s) or database(s); see above`,
    );
  // Said once the root is in, so that a failed run keeps to its one line of error.
  if (action === 'install' && !constraintsOf(root.pem))
    process.stderr.write(
      `warning: ${root.path} has no name constraints: once installed it can vouch for any name; ` +
        "a root made with 'tlsecho ca --name-constraints' in a new --out folder can only vouch for yours\n",
    );
  return 0;
}

function describeChange(c: StoreChange): string {
  if (c.error) return `FAILED ${c.where}: ${c.error}`;
  if (c.needs) return `skipped ${c.where}: needs ${c.needs}`;
  switch (c.outcome) {
    case 'added':
      return `added to ${c.where}`;
    case 'already present':
      return `already in ${c.where}`;
    case 'removed':
      return `removed from ${c.where}`;
    default:
      return `not in ${c.where}`;
  }
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
