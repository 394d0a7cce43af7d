// `tlsecho ca status`: what the CA folder holds and where its root is trusted. The root and the
// intermediate with fingerprint, expiry and name constraints; every leaf with its names, chain
// and days left; every trust store tlsecho knows, with whether this root is in it. Only reads.
import { X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { CommandError } from '../config/errors.js';
import { listCerts } from './certutil.js';
import { constraintsOf, formatConstraints } from './constraints.js';
import { fingerprintOfDer } from './fingerprint.js';
import { discoverNssDbs, explicitNssDbs } from './nss-dbs.js';
import { inJavaStore, inSystemBundle, javaCacerts, keytool, systemFlavor } from './os-stores.js';
import { intermediatePaths, rootPaths } from './store.js';
import { certNames, issuedBy } from './names.js';
import { pemBody, pemCertificates } from './pem.js';
import { readRoot, ROOT_TRUST } from './trust-store.js';

/** Leaves with fewer days left get a warning: time to re-issue. */
const WARN_DAYS = 30;
const DAY = 86_400_000;

export interface CaStatus {
  path: string;
  subject: string;
  sha256: string;
  notAfter: string;
  daysLeft: number;
  /** Permitted names, or null for an unconstrained CA. */
  nameConstraints: string | null;
}

export interface LeafStatus {
  folder: string;
  names: string[];
  usage: string[];
  /** Subjects from the leaf up, as cert.pem and the folder's CA make it. */
  chain: string[];
  /** Whether that chain ends in this folder's root with valid signatures. */
  chainValid: boolean;
  notAfter: string;
  daysLeft: number;
  warning?: string;
  p12: boolean;
}

export interface StoreStatus {
  store: 'nss' | 'system' | 'java' | 'NODE_EXTRA_CA_CERTS';
  where: string;
  /** true: this root is there (and trusted); false: it is not; null: could not tell. */
  present: boolean | null;
  note?: string;
}

export interface Status {
  root: CaStatus;
  intermediate?: CaStatus;
  leaves: LeafStatus[];
  stores: StoreStatus[];
}

const days = (c: X509Certificate, now: number) => Math.floor((Date.parse(c.validTo) - now) / DAY);
const subjectOf = (c: X509Certificate) => c.subject.replace(/\n/g, ', ');

function caStatus(path: string, pem: string, now: number): CaStatus {
  const c = new X509Certificate(pem);
  const nc = constraintsOf(pem);
  return {
    path: resolve(path),
    subject: subjectOf(c),
    sha256: fingerprintOfDer(c.raw).colon,
    notAfter: new Date(c.validTo).toISOString(),
    daysLeft: days(c, now),
    nameConstraints: nc ? formatConstraints(nc.permitted) : null,
  };
}

function leafStatus(
  folder: string,
  file: string,
  cas: X509Certificate[],
  root: X509Certificate,
  now: number,
): LeafStatus | undefined {
  let certs: X509Certificate[];
  try {
    certs = pemCertificates(readFileSync(file, 'utf8')).map((p) => new X509Certificate(p));
  } catch {
    return undefined;
  }
  const leaf = certs[0];
  if (!leaf || leaf.ca) return undefined;
  // Walk up: first the certificates cert.pem carries, then the folder's CA certificates.
  const chain = [leaf];
  const pool = [...certs.slice(1), ...cas];
  let valid = false;
  for (let i = 0; i < 4; i++) {
    const cur = chain[chain.length - 1]!;
    if (cur.fingerprint256 === root.fingerprint256) {
      valid = true;
      break;
    }
    const up = pool.find((c) => issuedBy(cur, c));
    if (!up) break;
    chain.push(up);
  }
  const left = days(leaf, now);
  const names = certNames(leaf);
  const usage = (leaf.keyUsage ?? []).map((oid) =>
    oid === '1.3.6.1.5.5.7.3.1' ? 'server' : oid === '1.3.6.1.5.5.7.3.2' ? 'client' : oid,
  );
  return {
    folder,
    names,
    usage,
    chain: chain.map(subjectOf),
    chainValid: valid,
    notAfter: new Date(leaf.validTo).toISOString(),
    daysLeft: left,
    ...(left < 0
      ? { warning: 'expired: re-issue it (tlsecho ca --force)' }
      : left < WARN_DAYS
        ? { warning: `expires in ${left} days: re-issue it (tlsecho ca --force)` }
        : {}),
    p12: existsSync(join(folder, 'cert.p12')),
  };
}

async function storeStatus(rootPem: string, out: string, nssDbs?: string[]): Promise<StoreStatus[]> {
  const root = readRoot(out);
  const stores: StoreStatus[] = [];
  const dbs = nssDbs?.length ? explicitNssDbs(nssDbs) : discoverNssDbs(homedir());
  for (const db of dbs) {
    const where = `${db.label} ${db.format}:${db.dir}`;
    if (db.missing) {
      stores.push({ store: 'nss', where, present: false, note: 'no database' });
      continue;
    }
    try {
      const e = (await listCerts(db)).find((x) => x.nickname === root.nickname);
      stores.push({
        store: 'nss',
        where,
        present: e?.trust === ROOT_TRUST,
        ...(e && e.trust !== ROOT_TRUST ? { note: `present with trust ${e.trust}` } : {}),
      });
    } catch (err) {
      stores.push({ store: 'nss', where, present: null, note: (err as Error).message });
    }
  }
  const f = systemFlavor();
  stores.push(
    f
      ? { store: 'system', where: f.bundle, present: inSystemBundle(f, root) }
      : {
          store: 'system',
          where: 'system store',
          present: null,
          note: 'no update-ca-certificates or update-ca-trust',
        },
  );
  const tool = keytool();
  stores.push(
    tool
      ? { store: 'java', where: javaCacerts(tool), present: inJavaStore(tool, root) }
      : { store: 'java', where: 'Java cacerts', present: null, note: 'no keytool' },
  );
  const extra = process.env.NODE_EXTRA_CA_CERTS;
  if (!extra) stores.push({ store: 'NODE_EXTRA_CA_CERTS', where: '(not set)', present: false });
  else {
    let text: string;
    try {
      text = readFileSync(extra, 'utf8');
    } catch {
      stores.push({
        store: 'NODE_EXTRA_CA_CERTS',
        where: extra,
        present: null,
        note: 'cannot read the file',
      });
      return stores;
    }
    stores.push({
      store: 'NODE_EXTRA_CA_CERTS',
      where: extra,
      present: pemBody(text).includes(pemBody(rootPem)),
    });
  }
  return stores;
}

export async function caStatusReport(
  out: string,
  opts: { nssDbs?: string[]; now?: number } = {},
): Promise<Status> {
  const now = opts.now ?? Date.now();
  const rp = rootPaths(out);
  if (!existsSync(rp.cert))
    throw new CommandError(`no root CA at ${resolve(rp.cert)} (run 'tlsecho ca' first)`);
  const root = readRoot(out); // one line for a file that is no CA certificate
  const rootCert = new X509Certificate(root.pem);
  const ip = intermediatePaths(out);
  const intermediatePem = existsSync(ip.cert) ? readFileSync(ip.cert, 'utf8') : undefined;
  const cas = [rootCert, ...(intermediatePem ? [new X509Certificate(intermediatePem)] : [])];
  const leaves: LeafStatus[] = [];
  for (const name of readdirSync(out).sort()) {
    const folder = join(out, name);
    const file = join(folder, 'cert.pem');
    if (!statSync(folder).isDirectory() || !existsSync(file)) continue;
    const s = leafStatus(resolve(folder), file, cas, rootCert, now);
    if (s) leaves.push(s);
  }
  return {
    root: caStatus(rp.cert, root.pem, now),
    ...(intermediatePem ? { intermediate: caStatus(ip.cert, intermediatePem, now) } : {}),
    leaves,
    stores: await storeStatus(root.pem, out, opts.nssDbs),
  };
}

export function renderStatus(s: Status): string {
  const ca = (label: string, c: CaStatus) => [
    `${label} ${c.path}`,
    `  subject: ${c.subject}`,
    `  SHA-256: ${c.sha256}`,
    `  expires: ${c.notAfter} (${c.daysLeft} days left)`,
    `  name constraints: ${c.nameConstraints ?? 'none (it can vouch for any name)'}`,
  ];
  const lines = [...ca('root CA', s.root), ...(s.intermediate ? ca('intermediate CA', s.intermediate) : [])];
  lines.push(s.leaves.length ? 'leaf certificates:' : 'leaf certificates: none');
  for (const l of s.leaves) {
    lines.push(
      `  ${l.folder} (${l.usage.join(', ') || 'no EKU'})`,
      `    names: ${l.names.join(', ')}`,
      `    chain, leaf to root: ${l.chain.join(' | ')}${l.chainValid ? '' : ' (does NOT reach this root)'}`,
      `    expires: ${l.notAfter} (${l.daysLeft} days left)${l.p12 ? '; cert.p12 beside it' : ''}`,
    );
    if (l.warning) lines.push(`    WARNING: ${l.warning}`);
  }
  lines.push('trust stores:');
  for (const t of s.stores) {
    const state = t.present === null ? 'unknown' : t.present ? 'trusted' : 'not trusted';
    lines.push(`  ${t.store} ${t.where}: ${state}${t.note ? ` (${t.note})` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
