// `tlsecho ca lab`: the failure lab's certificates, one folder per name under <certs>/lab/
// (minica layout: <name>/cert.pem, <name>/key.pem), from the main root unless the case needs
// another issuer. Existing folders are reused, so a re-run changes nothing; all files of a run are
// written together or not at all (store.ts).
import 'reflect-metadata';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { UsageError } from '../config/errors.js';
import { LAB_KINDS, type LabKind } from '../lab/names.js';
import {
  createIntermediate,
  createRoot,
  generateKey,
  issueLeaf,
  pemText,
  serialNumber,
  signingAlgorithm,
  type KeyMaterial,
  type Signer,
} from './issue.js';
import { validateDnsName } from './names.js';
import { leafPaths, loadCaPair, loadRoot, rootPaths, writeAllOrNothing, type PendingFile } from './store.js';

const DAY = 86_400_000;

/** Issuers of the lab that are not the main root, kept so re-runs reuse them. */
export function labIssuerPaths(labDir: string) {
  return {
    /** The second, unrelated root of `untrusted` (minica layout in its own folder). */
    untrusted: rootPaths(join(labDir, '_untrusted-root')),
    /** The intermediate of `incomplete-chain`, under the main root; never served. */
    intermediate: leafPaths(labDir, '_intermediate'),
  };
}

export interface LabResult {
  dir: string;
  names: { name: string; kind: LabKind; state: 'created' | 'reused'; cert: string }[];
}

/** A leaf that signs itself (CA:FALSE, serverAuth): what `openssl req -x509` makes by default. */
async function createSelfSignedLeaf(name: string, alg: KeyMaterial['alg'], now: Date) {
  const key = await generateKey(alg);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [name] }],
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 90 * DAY),
    signingAlgorithm: signingAlgorithm(alg),
    keys: key.keys,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: name }], false),
    ],
  });
  return { certPem: pemText(cert.toString('pem')), keyPem: key.keyPem };
}

/** Loads a CA kept by an earlier run, or makes it and queues its files. */
async function keptSigner(
  paths: { cert: string; key: string },
  make: () => Promise<{ certPem: string; keyPem: string; key: KeyMaterial }>,
  files: PendingFile[],
): Promise<Signer> {
  const kept = await loadCaPair(paths, 'lab CA');
  if (kept) return kept;
  const made = await make();
  files.push(
    { path: paths.key, data: made.keyPem, secret: true },
    { path: paths.cert, data: made.certPem, secret: false },
  );
  return { certPem: made.certPem, key: made.key };
}

/**
 * Issues every lab name under `<out>/lab/` (or `dir`) from the root in `out`, which must exist
 * (`tlsecho ca` makes it). incomplete-chain comes last: it is the one that needs an intermediate.
 */
export async function issueLab(o: {
  out: string;
  domain: string;
  dir?: string;
  force?: boolean;
  now?: Date;
}): Promise<LabResult> {
  const domain = validateDnsName(o.domain);
  const dir = o.dir ?? join(o.out, 'lab');
  const now = o.now ?? new Date();
  const root = await loadRoot(o.out);
  if (!root)
    throw new UsageError(`no root CA at ${rootPaths(o.out).cert}: run 'tlsecho ca --out ${o.out}' first`);
  const files: PendingFile[] = [];
  const result: LabResult = { dir, names: [] };
  const issuers = labIssuerPaths(dir);

  for (const kind of LAB_KINDS) {
    const name = `${kind}.${domain}`;
    const p = leafPaths(dir, name);
    if (!o.force && existsSync(p.cert) && existsSync(p.key)) {
      result.names.push({ name, kind, state: 'reused', cert: p.cert });
      continue;
    }
    const leaf = async (
      signer: Signer,
      extra: { dnsNames?: string[]; notBefore?: Date; notAfter?: Date } = {},
    ) =>
      issueLeaf({
        issuer: signer,
        dnsNames: extra.dnsNames ?? [name],
        ipAddresses: [],
        usage: 'server',
        now,
        ...extra,
      });
    let issued: { certPem: string; keyPem: string };
    switch (kind) {
      case 'expired':
        issued = await leaf(root, {
          notBefore: new Date(now.getTime() - 60 * DAY),
          notAfter: new Date(now.getTime() - 30 * DAY),
        });
        break;
      case 'not-yet-valid':
        issued = await leaf(root, {
          notBefore: new Date(now.getTime() + 30 * DAY),
          notAfter: new Date(now.getTime() + 120 * DAY),
        });
        break;
      case 'wrong-name':
        // Valid in every other way, for a name the client did not ask for.
        issued = await leaf(root, { dnsNames: [`another-name.${domain}`] });
        break;
      case 'untrusted':
        issued = await leaf(
          await keptSigner(
            issuers.untrusted,
            async () => {
              const r = await createRoot({ alg: root.key.alg, now });
              return { certPem: r.certPem, keyPem: r.keyPem, key: r.key };
            },
            files,
          ),
        );
        break;
      case 'self-signed':
        issued = await createSelfSignedLeaf(name, root.key.alg, now);
        break;
      case 'incomplete-chain':
        // cert.pem holds the leaf alone: the server sends no intermediate.
        issued = await leaf(
          await keptSigner(
            issuers.intermediate,
            () => createIntermediate({ root, now, days: 3 * 365 }),
            files,
          ),
        );
        break;
      default:
        issued = await leaf(root);
    }
    files.push(
      { path: p.key, data: issued.keyPem, secret: true },
      { path: p.cert, data: issued.certPem, secret: false },
    );
    result.names.push({ name, kind, state: 'created', cert: p.cert });
  }
  // A client certificate for client-cert, so the name can also be seen to work.
  const client = leafPaths(dir, `_client.${domain}`);
  if (o.force || !existsSync(client.cert) || !existsSync(client.key)) {
    const c = await issueLeaf({
      issuer: root,
      dnsNames: [`lab-client.${domain}`],
      ipAddresses: [],
      usage: 'client',
      now,
    });
    files.push(
      { path: client.key, data: c.keyPem, secret: true },
      { path: client.cert, data: c.certPem, secret: false },
    );
  }
  writeAllOrNothing(files);
  return result;
}

/** Where `tlsecho ca lab` put the client certificate for client-cert. */
export function labClientPaths(dir: string, domain: string) {
  return leafPaths(dir, `_client.${domain}`);
}
