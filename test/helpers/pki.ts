// Test fixtures: real certificates issued by tlsecho's own CA into a temporary folder.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  issueCertificates,
  prepareAuthority,
  type IssueRequest,
  type IssueResult,
} from '../../src/ca/api.js';
import { fingerprintOfPem } from '../../src/ca/fingerprint.js';
import { issueLeaf } from '../../src/ca/issue.js';
import { tempDir as sandboxDir } from '../../src/util/sandbox.js';

/** A fresh temporary folder, removed by the returned cleanup (call it from `after`). */
export function tempDir(prefix = 'tlsecho-test-'): { dir: string; cleanup: () => void } {
  return sandboxDir(prefix);
}

export interface TestPki extends IssueResult {
  out: string;
  caPem: string;
  certPem: string;
  keyPem: string;
}

export const TEST_DOMAIN = 'tlsecho.test';

/**
 * Issues a root and a server leaf for server{1,2,3}.<domain>, localhost, 127.0.0.1 and ::1
 * (the `tlsecho ca` defaults) into `out`, plus a client certificate if asked.
 */
export async function makePki(out: string, extra: Partial<IssueRequest> = {}): Promise<TestPki> {
  const r = await issueCertificates({
    out,
    dnsNames: ['server1', 'server2', 'server3'].map((s) => `${s}.${TEST_DOMAIN}`).concat('localhost'),
    ipAddresses: ['127.0.0.1', '::1'],
    ...extra,
  });
  return {
    ...r,
    out,
    caPem: readFileSync(r.root.cert, 'utf8'),
    certPem: r.server ? readFileSync(r.server.cert, 'utf8') : '',
    keyPem: r.server ? readFileSync(r.server.key, 'utf8') : '',
  };
}

/**
 * Issues a server leaf for any names from the folder's signing CA (its intermediate if it has
 * one), bypassing the CA's own name-constraint refusal: how a test gets a leaf outside the
 * constraints to show that verifiers refuse it. Returns the PEM chain (leaf + intermediate) and key.
 */
export async function issueUncheckedLeaf(
  out: string,
  dnsNames: string[],
  ipAddresses: string[] = [],
): Promise<{ certPem: string; keyPem: string }> {
  const ca = await prepareAuthority({ out });
  assert.equal(ca.pending.length, 0, `no CA in ${out} yet`);
  const leaf = await issueLeaf({ issuer: ca.issuer, dnsNames, ipAddresses, usage: 'server' });
  return { certPem: [leaf.certPem, ...ca.chain].join(''), keyPem: leaf.keyPem };
}

/**
 * What `tlsecho ca --force` does to a running server's pair: a new leaf and key for `dnsNames`
 * (and 127.0.0.1) into the same files. Returns the new leaf's SHA-256 fingerprint (colon form).
 */
export async function reissueServer(pki: TestPki, dnsNames: string[]): Promise<string> {
  await issueCertificates({ out: pki.out, dnsNames, ipAddresses: ['127.0.0.1'], force: true });
  return fingerprintOfPem(readFileSync(pki.server!.cert, 'utf8')).colon;
}
