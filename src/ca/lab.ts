// `tlsecho ca lab`: the failure lab's certificates, one folder per name under <certs>/lab/
// (minica layout: <name>/cert.pem, <name>/key.pem), from the main root unless the case needs
// another issuer. Existing folders are reused, so a re-run changes nothing; all files of a run are
// written together or not at all (store.ts).
import 'reflect-metadata';
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { UsageError } from '../config/errors.js';
import { prepareAuthority } from './authority.js';
import { LAB_KINDS, type LabKind } from '../lab/names.js';
import {
  createIntermediate,
  createRoot,
  generateKey,
  issueLeaf,
  pathLengthOf,
  pemText,
  serialNumber,
  signingAlgorithm,
  type KeyMaterial,
  type Signer,
} from './issue.js';
import { validateDnsName } from './names.js';
import {
  intermediatePaths,
  leafPaths,
  loadCaPair,
  loadRoot,
  rootPaths,
  writeAllOrNothing,
  type PendingFile,
} from './store.js';

const DAY = 86_400_000;

/** Issuers of the lab that are not the main root, kept so re-runs reuse them. */
export function labIssuerPaths(labDir: string) {
  return {
    /** The second, unrelated root of `untrusted` (minica layout in its own folder). */
    untrusted: rootPaths(join(labDir, '_untrusted-root')),
    /**
     * The intermediate of `incomplete-chain` when the CA folder has none of its own (`tlsecho ca
     * --intermediate` makes one) and the root's path length allows one; never served.
     */
    intermediate: leafPaths(labDir, '_intermediate'),
  };
}

export interface LabResult {
  dir: string;
  names: { name: string; kind: LabKind; state: 'created' | 'reused'; cert: string }[];
  /** Names not issued, each with one line saying why and what gives it. */
  skipped: { name: string; kind: LabKind; why: string }[];
  /** Who signed incomplete-chain: the CA's own intermediate, or the lab's (lab/_intermediate). */
  chainIssuer?: 'ca-intermediate' | 'lab-intermediate';
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
  if (!(await loadRoot(o.out)))
    throw new UsageError(`no root CA at ${rootPaths(o.out).cert}: run 'tlsecho ca --out ${o.out}' first`);
  // The folder's CA as `tlsecho ca` sees it: its root, and its intermediate when it has one
  // (checked to be the root's). Nothing is created here: the CA exists, and no tier is asked for.
  const ca = await prepareAuthority({ out: o.out });
  const root = ca.root;
  const files: PendingFile[] = [];
  const result: LabResult = { dir, names: [], skipped: [] };
  const issuers = labIssuerPaths(dir);
  // incomplete-chain must fail only because its intermediate is not sent: the intermediate has
  // to be one the root may sign (a pathlen:0 root may sign none), so the complete chain verifies.
  const chain = ca.intermediate
    ? ({ issuer: 'ca-intermediate', signer: ca.intermediate } as const)
    : pathLengthOf(root.certPem) === 0
      ? undefined
      : ({ issuer: 'lab-intermediate' } as const);

  for (const kind of LAB_KINDS) {
    const name = `${kind}.${domain}`;
    const p = leafPaths(dir, name);
    if (kind === 'incomplete-chain' && !chain) {
      // A chain through an intermediate under a pathlen:0 root fails for two reasons, so the
      // name is not issued; one an earlier tlsecho made that way is removed (it cannot verify).
      const stale = existsSync(p.cert) || existsSync(p.key);
      if (stale) rmSync(join(dir, name), { recursive: true, force: true });
      result.skipped.push({
        name,
        kind,
        why:
          `root CA ${rootPaths(o.out).cert} has pathlen:0 and can sign no intermediate` +
          `${stale ? ' (the earlier one, which could never verify, was removed)' : ''}; ` +
          `for this name make a two-tier CA in a new folder: tlsecho ca --intermediate --out <folder>`,
      });
      continue;
    }
    if (
      !o.force &&
      existsSync(p.cert) &&
      existsSync(p.key) &&
      (kind !== 'incomplete-chain' ||
        chain?.issuer !== 'ca-intermediate' ||
        issuedBy(p.cert, chain.signer.certPem))
    ) {
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
        // cert.pem holds the leaf alone: the server sends no intermediate. It is the CA's own
        // (intermediate.pem) when it has one, else the lab's, under a root that allows it.
        issued = await leaf(
          chain!.issuer === 'ca-intermediate'
            ? chain!.signer
            : await keptSigner(
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
  if (chain) result.chainIssuer = chain.issuer;
  return result;
}

/** Whether the certificate in `certFile` was signed by the CA certificate `caPem`. */
function issuedBy(certFile: string, caPem: string): boolean {
  try {
    const cert = new X509Certificate(readFileSync(certFile));
    const ca = new X509Certificate(caPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey);
  } catch {
    return false;
  }
}

/** The intermediate that completes incomplete-chain's chain, if the lab has that name. */
export function labChainIntermediate(out: string, labDir: string, r: Pick<LabResult, 'chainIssuer'>) {
  if (r.chainIssuer === 'ca-intermediate') return intermediatePaths(out).cert;
  if (r.chainIssuer === 'lab-intermediate') return labIssuerPaths(labDir).intermediate.cert;
  return undefined;
}

/** Where `tlsecho ca lab` put the client certificate for client-cert. */
export function labClientPaths(dir: string, domain: string) {
  return leafPaths(dir, `_client.${domain}`);
}
