// The CA as a library: what `tlsecho ca` does, callable from the demo and from tests.
import { existsSync, readFileSync } from 'node:fs';
import { CommandError, UsageError } from '../config/errors.js';
import { fingerprintOfPem, type Fingerprint } from './fingerprint.js';
import { authorityWith, prepareAuthority, type State } from './authority.js';
import { checkNames } from './constraints.js';
import { describe, issueLeaf, MAX_LEAF_DAYS, type KeyAlg, type Signer } from './issue.js';
import { validateDnsName, validateIp } from './names.js';
import {
  checkExistingLeaf,
  intermediatePaths,
  leafPaths,
  loadRoot,
  rootPaths,
  writeAllOrNothing,
  type PendingFile,
} from './store.js';

export { prepareAuthority, type Authority, type AuthorityRequest } from './authority.js';

export interface IssueRequest {
  out: string;
  /** DNS names and IP addresses of the server certificate; none for a client-only run. */
  dnsNames: string[];
  ipAddresses: string[];
  /** Also issue a client certificate (mutual TLS) for this name. */
  client?: string;
  alg?: KeyAlg;
  rsaBits?: number;
  days?: number;
  force?: boolean;
  /** Sign leaves with an intermediate CA (made once, then reused like the root). */
  intermediate?: boolean;
  /** Name constraints of a new root (and its intermediate): DNS names and IP ranges. */
  nameConstraints?: string[];
}

export interface IssuedFiles {
  cert: string;
  key: string;
  /** An existing leaf with exactly the requested names, kept instead of re-issued. */
  reused?: boolean;
}

export interface IssueResult {
  root: {
    cert: string;
    key: string;
    state: 'created' | 'reused';
    alg: KeyAlg;
    fingerprint: Fingerprint;
    subject: string;
  };
  intermediate?: { cert: string; key: string; state: State; subject: string; fingerprint: Fingerprint };
  server?: IssuedFiles & { names: string[]; validTo: Date };
  client?: IssuedFiles;
}

/** Creates or reuses the root in `out`, then issues the requested leaves; all files or none. */
export async function issueCertificates(req: IssueRequest): Promise<IssueResult> {
  const dnsNames = req.dnsNames.map(validateDnsName);
  const ipAddresses = req.ipAddresses.map(validateIp);
  const clientName = req.client === undefined ? undefined : validateDnsName(req.client);
  if (dnsNames.length + ipAddresses.length === 0 && !clientName)
    throw new UsageError('no names to issue a certificate for');
  const days = req.days ?? MAX_LEAF_DAYS;

  // An existing leaf for exactly these names, from this CA, is kept; any other existing leaf is an
  // error unless --force. Both are decided before anything is made, so an error leaves the folder
  // as it was.
  const existingRoot = await loadRoot(req.out);
  const issuerPath = existsSync(intermediatePaths(req.out).cert)
    ? intermediatePaths(req.out).cert
    : undefined;
  const issuerPem = issuerPath ? readFileSync(issuerPath, 'utf8') : existingRoot?.certPem;
  const serverFirst = dnsNames[0] ?? ipAddresses[0];
  let serverPaths = serverFirst ? leafPaths(req.out, serverFirst) : undefined;
  let clientPaths = clientName ? leafPaths(req.out, clientName) : undefined;
  const keep = (p: typeof serverPaths, names: string[]) => {
    if (!p || req.force || !(existsSync(p.key) || existsSync(p.cert))) return undefined;
    const found =
      issuerPem && existsSync(p.key) && existsSync(p.cert)
        ? checkExistingLeaf(p, names, issuerPem)
        : undefined;
    if (found?.reusable) return { cert: p.cert, key: p.key, names, validTo: found.validTo, reused: true };
    const path = existsSync(p.key) ? p.key : p.cert;
    throw new CommandError(
      `${path} already exists${found ? ` and cannot be reused: ${found.why}` : ''} (use --force to re-issue)`,
    );
  };
  const keptServer = keep(serverPaths, [...dnsNames, ...ipAddresses]);
  const keptClient = keep(clientPaths, clientName ? [clientName] : []);
  if (keptServer) serverPaths = undefined;
  if (keptClient) clientPaths = undefined;

  const ca = await authorityWith(
    {
      out: req.out,
      alg: req.alg,
      rsaBits: req.rsaBits,
      intermediate: req.intermediate,
      nameConstraints: req.nameConstraints,
    },
    existingRoot,
  );
  const caPems = [ca.root.certPem, ...ca.chain];
  checkNames(caPems, [...dnsNames, ...ipAddresses, ...(clientName ? [clientName] : [])]);
  const files: PendingFile[] = [...ca.pending];
  const result: IssueResult = {
    root: {
      ...rootPaths(req.out),
      state: ca.root.state,
      alg: ca.root.key.alg,
      fingerprint: fingerprintOfPem(ca.root.certPem),
      subject: describe(ca.root.certPem).subject,
    },
    ...(keptServer ? { server: keptServer } : {}),
    ...(keptClient ? { client: { cert: keptClient.cert, key: keptClient.key, reused: true } } : {}),
  };
  if (ca.intermediate)
    result.intermediate = {
      ...intermediatePaths(req.out),
      state: ca.intermediate.state,
      subject: describe(ca.intermediate.certPem).subject,
      fingerprint: fingerprintOfPem(ca.intermediate.certPem),
    };
  const issuer: Signer = ca.issuer;
  // cert.pem holds the leaf and the intermediates above it: the chain a server must send.
  const withChain = (leafPem: string) => [leafPem, ...ca.chain].join('');
  if (serverPaths) {
    const leaf = await issueLeaf({ issuer, dnsNames, ipAddresses, usage: 'server', days });
    files.push(
      { path: serverPaths.key, data: leaf.keyPem, secret: true },
      { path: serverPaths.cert, data: withChain(leaf.certPem), secret: false },
    );
    result.server = {
      cert: serverPaths.cert,
      key: serverPaths.key,
      names: [...dnsNames, ...ipAddresses],
      validTo: describe(leaf.certPem).validTo,
    };
  }
  if (clientPaths && clientName) {
    const leaf = await issueLeaf({
      issuer,
      dnsNames: [clientName],
      ipAddresses: [],
      usage: 'client',
      days,
    });
    files.push(
      { path: clientPaths.key, data: leaf.keyPem, secret: true },
      { path: clientPaths.cert, data: withChain(leaf.certPem), secret: false },
    );
    result.client = { cert: clientPaths.cert, key: clientPaths.key };
  }
  writeAllOrNothing(files);
  return result;
}

export interface IntermediateCa {
  root: Signer;
  intermediate: Signer;
  state: State;
  paths: { cert: string; key: string };
}

/**
 * The folder's intermediate CA, made (and written, with a new root if there is none) when
 * missing: for callers that sign their own leaves with it, such as test fixtures.
 */
export async function ensureIntermediate(
  out: string,
  opts: { alg?: KeyAlg; rsaBits?: number } = {},
): Promise<IntermediateCa> {
  const ca = await prepareAuthority({ out, ...opts, intermediate: true });
  writeAllOrNothing(ca.pending);
  return {
    root: ca.root,
    intermediate: ca.intermediate!,
    state: ca.intermediate!.state,
    paths: intermediatePaths(out),
  };
}
