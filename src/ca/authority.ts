// The CA of an output folder: its root (made once, then reused) and, in a two-tier PKI, its
// intermediate (the same), with the name constraints either carries. Nothing is written here:
// new CA files come back as pending files, so the caller writes them together with the leaves.
import 'reflect-metadata'; // before @peculiar/x509, whose dependency injection needs it
import { X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { id_ce_nameConstraints } from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { CommandError } from '../config/errors.js';
import {
  constraintsOf,
  formatConstraints,
  parseConstraints,
  sameConstraints,
  toExtension,
} from './constraints.js';
import { createIntermediate, createRoot, pathLengthOf, type KeyAlg, type Signer } from './issue.js';
import { issuedBy } from './names.js';
import {
  intermediatePaths,
  loadCaPair,
  loadRoot,
  rootPaths,
  type LoadedRoot,
  type PendingFile,
} from './store.js';

export interface AuthorityRequest {
  out: string;
  /** Key algorithm of a new root (and of everything it signs). */
  alg?: KeyAlg;
  rsaBits?: number;
  /** Make (or keep using) an intermediate CA and sign leaves with it. */
  intermediate?: boolean;
  /** `--name-constraints` items for a new root: DNS names and IP ranges. */
  nameConstraints?: string[];
}

export type State = 'created' | 'reused';

export interface Authority {
  root: Signer & { state: State };
  intermediate?: Signer & { state: State };
  /** The CA that signs leaves: the intermediate when there is one, else the root. */
  issuer: Signer;
  /** CA certificates a leaf's cert.pem carries after the leaf (the chain a server sends). */
  chain: string[];
  /** New CA files to write with the leaves (none when everything was reused). */
  pending: PendingFile[];
}

/** Loads the folder's CA, creating what is missing and asked for; refuses contradictions. */
export async function prepareAuthority(req: AuthorityRequest): Promise<Authority> {
  return authorityWith(req, await loadRoot(req.out));
}

/** prepareAuthority for a caller that has already loaded the folder's root (undefined: none). */
export async function authorityWith(
  req: AuthorityRequest,
  existingRoot: LoadedRoot | undefined,
): Promise<Authority> {
  const wanted = req.nameConstraints?.length ? parseConstraints(req.nameConstraints) : undefined;
  const rp = rootPaths(req.out);
  const ip = intermediatePaths(req.out);
  const pending: PendingFile[] = [];
  const hasIntermediate = existsSync(ip.cert) || existsSync(ip.key);

  let loaded = existingRoot;
  if (!loaded && hasIntermediate)
    throw new CommandError(`${ip.cert} exists but the root ${rp.cert} is missing; restore it or remove both`);
  let root: Authority['root'];
  if (loaded) {
    root = { ...loaded, state: 'reused' };
    if (wanted) {
      const has = constraintsOf(loaded.certPem);
      if (!has)
        throw new CommandError(
          `root CA ${rp.cert} has no name constraints, and they cannot be added to an existing root; make a new root in another --out folder`,
        );
      if (!sameConstraints(has.permitted, wanted))
        throw new CommandError(
          `root CA ${rp.cert} is constrained to ${formatConstraints(has.permitted)}, not to ${formatConstraints(wanted)}; make a new root in another --out folder`,
        );
    }
  } else {
    const made = await createRoot({
      alg: req.alg ?? 'ecdsa',
      rsaBits: req.rsaBits,
      // A root that will sign an intermediate needs room for one CA below it; minica's does not.
      pathLength: req.intermediate ? 1 : 0,
      extensions: wanted ? [toExtension(wanted)] : [],
    });
    loaded = { certPem: made.certPem, key: made.key };
    root = { ...loaded, state: 'created' };
    pending.push(
      { path: rp.key, data: made.keyPem, secret: true },
      { path: rp.cert, data: made.certPem, secret: false },
    );
  }

  let intermediate: Authority['intermediate'];
  const existing = hasIntermediate ? await loadCaPair(ip, 'intermediate CA') : undefined;
  if (existing) {
    checkIssuedBy(existing.certPem, root.certPem, ip.cert, rp.cert);
    intermediate = { ...existing, state: 'reused' };
  } else if (req.intermediate) {
    if (pathLengthOf(root.certPem) === 0)
      throw new CommandError(
        `root CA ${rp.cert} has pathlen:0 (a minica root that signs leaves only) and cannot sign an intermediate; make a two-tier PKI in a new --out folder with --intermediate`,
      );
    // The intermediate repeats the root's constraints, so that it is constrained on its own
    // (a verifier shown it alone, or a trust store holding it, still sees them).
    const nc = new x509.X509Certificate(root.certPem).getExtension(id_ce_nameConstraints);
    const made = await createIntermediate({ root, extensions: nc ? [nc] : [] });
    intermediate = { certPem: made.certPem, key: made.key, state: 'created' };
    pending.push(
      { path: ip.key, data: made.keyPem, secret: true },
      { path: ip.cert, data: made.certPem, secret: false },
    );
  }
  return {
    root,
    intermediate,
    issuer: intermediate ?? root,
    chain: intermediate ? [intermediate.certPem] : [],
    pending,
  };
}

function checkIssuedBy(certPem: string, issuerPem: string, certPath: string, issuerPath: string): void {
  const cert = new X509Certificate(certPem);
  const issuer = new X509Certificate(issuerPem);
  if (!issuedBy(cert, issuer))
    throw new CommandError(
      `${certPath} was not signed by the root ${issuerPath}; restore it or remove both intermediate files`,
    );
}
