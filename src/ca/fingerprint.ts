// SHA-256 fingerprints of certificates, in the two forms people compare: openssl's
// `AB:CD:…` (openssl x509 -noout -fingerprint -sha256) and plain lowercase hex.
import { createHash, X509Certificate } from 'node:crypto';

export interface Fingerprint {
  /** `AB:CD:…`, as openssl and browsers show it. */
  colon: string;
  /** lowercase hex, no separators. */
  hex: string;
}

export function fingerprintOfDer(der: Uint8Array): Fingerprint {
  const hex = createHash('sha256').update(der).digest('hex');
  return { hex, colon: hex.toUpperCase().match(/../g)!.join(':') };
}

export function fingerprintOfPem(pem: string): Fingerprint {
  return fingerprintOfDer(new X509Certificate(pem).raw);
}

/**
 * Accepts what `tlsecho ca fingerprint` and `openssl x509 -fingerprint -sha256 -noout` print
 * (`sha256 Fingerprint=AB:…`, `SHA256 Fingerprint=AB:…`), the bare colon form and plain hex, in
 * any case; returns lowercase hex or undefined.
 */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text
    .trim()
    .replace(/^sha-?256(\s+fingerprint)?\s*[:=]\s*/i, '')
    .replace(/[:\s]/g, '')
    .toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}
