// `tlsecho ca lab`: the failure lab's certificates, one folder per name under <certs>/lab/
// (minica layout: <name>/cert.pem, <name>/key.pem), from the main root unless the case needs
// another issuer. Existing folders are reused, so a re-run changes nothing; all files of a run are
// written together or not at all (store.ts).
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { UsageError } from '../config/errors.js';
import { LAB_KINDS, type LabKind } from '../lab/names.js';
import {
  createRoot,
  generateKey,
  importKey,
  issueLeaf,
  serialNumber,
  signingAlgorithm,
  type KeyMaterial,
} from './issue.js';
import { validateDnsName } from './names.js';
import { leafPaths, loadRoot, rootPaths, writeAllOrNothing, type PendingFile } from './store.js';

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

interface Signer {
  certPem: string;
  key: KeyMaterial;
}

/**
 * The intermediate of incomplete-chain: a CA under the main root, path length 0. A stand-in for
 * the shared intermediate of `tlsecho ca` (the PKI work), which it should be switched to.
 */
async function createIntermediate(
  root: Signer,
  now: Date,
): Promise<{ certPem: string; keyPem: string; key: KeyMaterial }> {
  const key = await generateKey(root.key.alg);
  const rootCert = new x509.X509Certificate(root.certPem);
  const ski = rootCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [`tlsecho lab intermediate ${randomBytes(3).toString('hex')}`] }, { O: ['tlsecho'] }],
    issuer: rootCert.subject,
    notBefore: new Date(now.getTime() - DAY),
    notAfter: new Date(now.getTime() + 3 * 365 * DAY),
    signingAlgorithm: signingAlgorithm(root.key.alg),
    publicKey: key.keys.publicKey,
    signingKey: root.key.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
      ...(ski ? [new x509.AuthorityKeyIdentifierExtension(ski.keyId, false)] : []),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: key.keyPem, key };
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
  return { certPem: cert.toString('pem'), keyPem: key.keyPem };
}

/** Loads a CA kept by an earlier run, or makes it and queues its files. */
async function keptSigner(
  paths: { cert: string; key: string },
  make: () => Promise<{ certPem: string; keyPem: string; key: KeyMaterial }>,
  files: PendingFile[],
): Promise<Signer> {
  if (existsSync(paths.cert) && existsSync(paths.key)) {
    const { readFileSync } = await import('node:fs');
    return {
      certPem: readFileSync(paths.cert, 'utf8'),
      key: await importKey(readFileSync(paths.key, 'utf8')),
    };
  }
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
          await keptSigner(issuers.intermediate, () => createIntermediate(root, now), files),
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
