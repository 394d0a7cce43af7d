// Test fixtures: real certificates issued by tlsecho's own CA into a temporary folder.
import { readFileSync } from 'node:fs';
import { issueCertificates, type IssueRequest, type IssueResult } from '../../src/ca/api.js';
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
