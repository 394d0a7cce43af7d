// The demo's certificates: the same files `tlsecho ca` makes, created on the first run and reused
// after that, re-issuing the server leaf only when it no longer fits (expired, other root, no names).
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { issueCertificates } from '../ca/api.js';
import { fingerprintOfPem, type Fingerprint } from '../ca/fingerprint.js';
import { issuedBy } from '../ca/names.js';
import { leafPaths, rootPaths } from '../ca/store.js';
import { serverNames } from '../config/shared.js';

export interface DemoCertificates {
  caFile: string;
  certFile: string;
  keyFile: string;
  fingerprint: Fingerprint;
  /** What happened, for the demo's first lines. */
  note: string;
}

const RENEW_BEFORE_MS = 24 * 3600 * 1000;

export async function ensureDemoCertificates(certsPath: string, domain: string): Promise<DemoCertificates> {
  const names = serverNames(domain);
  const root = rootPaths(certsPath);
  const leaf = leafPaths(certsPath, names[0]!);
  const haveLeaf = existsSync(leaf.cert) && existsSync(leaf.key);
  const stale = haveLeaf && existsSync(root.cert) ? leafProblem(leaf.cert, root.cert, names) : 'missing';
  let note: string;
  if (stale === undefined) {
    note = `reusing certificates in ${certsPath}`;
  } else {
    // The same names `tlsecho ca` issues by default, so the files are interchangeable with it.
    const r = await issueCertificates({
      out: certsPath,
      dnsNames: [...names, 'localhost'],
      ipAddresses: ['127.0.0.1', '::1'],
      force: haveLeaf,
    });
    note =
      `${r.root.state === 'created' ? 'created a root CA and' : 'reused the root CA and'} issued ` +
      `${r.server!.names.join(', ')} in ${certsPath}${haveLeaf ? ` (old certificate: ${stale})` : ''}`;
  }
  return {
    caFile: root.cert,
    certFile: leaf.cert,
    keyFile: leaf.key,
    fingerprint: fingerprintOfPem(readFileSync(root.cert, 'utf8')),
    note,
  };
}

/** Why an existing leaf cannot be reused, or undefined when it can. */
function leafProblem(leafFile: string, rootFile: string, names: string[]): string | undefined {
  let leaf: X509Certificate;
  let root: X509Certificate;
  try {
    leaf = new X509Certificate(readFileSync(leafFile));
    root = new X509Certificate(readFileSync(rootFile));
  } catch {
    return 'unreadable';
  }
  if (new Date(leaf.validTo).getTime() - Date.now() < RENEW_BEFORE_MS) return 'expired or about to';
  if (!issuedBy(leaf, root)) return 'issued by another root';
  const missing = names.find((n) => leaf.checkHost(n, { subject: 'never' }) === undefined);
  return missing ? `does not cover ${missing}` : undefined;
}
