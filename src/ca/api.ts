// The CA as a library: what `tlsecho ca` does, callable from the demo and from tests.
import { existsSync } from 'node:fs';
import { CommandError, UsageError } from '../config/errors.js';
import { fingerprintOfPem, type Fingerprint } from './fingerprint.js';
import { createRoot, describe, issueLeaf, MAX_LEAF_DAYS, type KeyAlg } from './issue.js';
import { validateDnsName, validateIp } from './names.js';
import {
  checkExistingLeaf,
  leafPaths,
  loadRoot,
  rootPaths,
  writeAllOrNothing,
  type PendingFile,
} from './store.js';

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

  const files: PendingFile[] = [];
  let root = await loadRoot(req.out);

  // An existing leaf for exactly these names is kept; any other existing leaf is an error unless
  // --force. Both are decided before anything is made, so an error leaves the folder as it was.
  const serverFirst = dnsNames[0] ?? ipAddresses[0];
  let serverPaths = serverFirst ? leafPaths(req.out, serverFirst) : undefined;
  let clientPaths = clientName ? leafPaths(req.out, clientName) : undefined;
  const keep = (p: typeof serverPaths, names: string[]) => {
    if (!p || req.force || !(existsSync(p.key) || existsSync(p.cert))) return undefined;
    const found =
      root && existsSync(p.key) && existsSync(p.cert) ? checkExistingLeaf(p, names, root.certPem) : undefined;
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
  const state = root ? 'reused' : 'created';
  if (!root) {
    const made = await createRoot({ alg: req.alg ?? 'ecdsa', rsaBits: req.rsaBits });
    root = { certPem: made.certPem, key: made.key };
    const p = rootPaths(req.out);
    files.push(
      { path: p.key, data: made.keyPem, secret: true },
      { path: p.cert, data: made.certPem, secret: false },
    );
  }
  const result: IssueResult = {
    root: {
      ...rootPaths(req.out),
      state,
      alg: root.key.alg,
      fingerprint: fingerprintOfPem(root.certPem),
      subject: describe(root.certPem).subject,
    },
    ...(keptServer ? { server: keptServer } : {}),
    ...(keptClient ? { client: { cert: keptClient.cert, key: keptClient.key, reused: true } } : {}),
  };
  if (serverPaths) {
    const leaf = await issueLeaf({ root, dnsNames, ipAddresses, usage: 'server', days });
    files.push(
      { path: serverPaths.key, data: leaf.keyPem, secret: true },
      { path: serverPaths.cert, data: leaf.certPem, secret: false },
    );
    result.server = {
      cert: serverPaths.cert,
      key: serverPaths.key,
      names: [...dnsNames, ...ipAddresses],
      validTo: describe(leaf.certPem).validTo,
    };
  }
  if (clientPaths && clientName) {
    const leaf = await issueLeaf({ root, dnsNames: [clientName], ipAddresses: [], usage: 'client', days });
    files.push(
      { path: clientPaths.key, data: leaf.keyPem, secret: true },
      { path: clientPaths.cert, data: leaf.certPem, secret: false },
    );
    result.client = { cert: clientPaths.cert, key: clientPaths.key };
  }
  writeAllOrNothing(files);
  return result;
}
