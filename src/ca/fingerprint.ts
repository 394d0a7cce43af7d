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

/** Accepts either form (any case, with or without colons); returns lowercase hex or undefined. */
export function normalizeFingerprint(text: string): string | undefined {
  const hex = text
    .trim()
    .replace(/^sha256[:=]/i, '')
    .replace(/[:\s]/g, '')
    .toLowerCase();
  return /^[0-9a-f]{64}$/.test(hex) ? hex : undefined;
}
