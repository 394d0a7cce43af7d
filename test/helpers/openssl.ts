// OpenSSL as the verifier independent of Node's: what the CA makes must pass its strict checks.
import { execFileSync, spawnSync } from 'node:child_process';

/** `openssl x509 -text` of a PEM certificate file (the first certificate in it). */
export const x509Text = (file: string): string =>
  execFileSync('openssl', ['x509', '-noout', '-text', '-in', file], { encoding: 'utf8' });

/** `openssl verify -x509_strict` of `certFile` against the root `caFile`; its status tells the verdict. */
export function opensslVerify(caFile: string, certFile: string, ...args: string[]) {
  return spawnSync('openssl', ['verify', '-x509_strict', ...args, '-CAfile', caFile, certFile], {
    encoding: 'utf8',
  });
}

/** The same for a cert.pem that carries its intermediates: they are offered as untrusted. */
export const verifyChain = (caFile: string, chainFile: string, ...args: string[]) =>
  opensslVerify(caFile, chainFile, '-untrusted', chainFile, ...args);
