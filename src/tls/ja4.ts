// JA4 TLS client fingerprint, exactly as FoxIO's technical_details/JA4.md defines it, with its
// raw (ja4_r) and original-order (ja4_o, ja4_ro) forms. Where the spec text and FoxIO's own
// tools differ (a non-alphanumeric ALPN), the spec text is followed: docs/handshake.md.
import { createHash } from 'node:crypto';
import type { ClientHello } from './client-hello.js';
import { isGrease } from './iana.js';

export interface Ja4 {
  ja4: string;
  /** Sorted lists in clear: what ja4 hashes. */
  ja4_r: string;
  /** Ciphers and extensions in the order sent (SNI and ALPN kept), hashed. */
  ja4_o: string;
  /** ja4_o's lists in clear. */
  ja4_ro: string;
}

const VERSION_CODES: Record<number, string> = {
  0x0304: '13',
  0x0303: '12',
  0x0302: '11',
  0x0301: '10',
  0x0300: 's3',
  0x0002: 's2',
  0xfeff: 'd1',
  0xfefd: 'd2',
  0xfefc: 'd3',
};

const SNI = 0x0000;
const ALPN = 0x0010;

/** The JA4 fingerprints of a parsed ClientHello; `transport` "t" is TLS over TCP, all tlsecho sees. */
export function ja4(hello: ClientHello, transport: 't' | 'q' | 'd' = 't'): Ja4 {
  const ciphers = hello.cipherSuites.filter((c) => !isGrease(c));
  const extensions = hello.extensions.map((e) => e.type).filter((t) => !isGrease(t));
  const sigs = (hello.signatureAlgorithms ?? []).filter((s) => !isGrease(s)).map(hex);
  const a =
    transport +
    versionCode(hello) +
    (extensions.includes(SNI) ? 'd' : 'i') +
    count(ciphers.length) +
    count(extensions.length) +
    alpnChars(hello.alpn);
  const sortedCiphers = ciphers.map(hex).sort().join(',');
  const sortedExts = extensions
    .filter((t) => t !== SNI && t !== ALPN)
    .map(hex)
    .sort()
    .join(',');
  const originalCiphers = ciphers.map(hex).join(',');
  const originalExts = extensions.map(hex).join(',');
  const withSigs = (exts: string) => (sigs.length && exts ? `${exts}_${sigs.join(',')}` : exts);
  return {
    ja4: `${a}_${hash12(sortedCiphers)}_${hash12(withSigs(sortedExts))}`,
    ja4_r: `${a}_${sortedCiphers}_${withSigs(sortedExts)}`,
    ja4_o: `${a}_${hash12(originalCiphers)}_${hash12(withSigs(originalExts))}`,
    ja4_ro: `${a}_${originalCiphers}_${withSigs(originalExts)}`,
  };
}

/** The highest non-GREASE supported_versions entry, else legacy_version; the record's version never counts. */
function versionCode(hello: ClientHello): string {
  const offered = (hello.supportedVersions ?? []).filter((v) => !isGrease(v));
  const version = hello.supportedVersions ? Math.max(0, ...offered) : hello.legacyVersion;
  return VERSION_CODES[version] ?? '00';
}

function count(n: number): string {
  return String(Math.min(n, 99)).padStart(2, '0');
}

/**
 * First and last character of the first ALPN value; when either byte is not an ASCII letter or
 * digit, the first and last character of the value's hex form instead. "00" without ALPN. A
 * GREASE ALPN value (RFC 8701: two equal bytes 0x?A) is skipped like every GREASE value.
 */
export function alpnChars(alpn: Uint8Array[] | undefined): string {
  const first = alpn?.find((p) => !(p.length === 2 && p[0] === p[1] && (p[0]! & 0x0f) === 0x0a));
  if (!first || first.length === 0) return '00';
  const head = first[0]!;
  const tail = first[first.length - 1]!;
  if (alphanumeric(head) && alphanumeric(tail)) return String.fromCharCode(head, tail);
  const h = Buffer.from(first).toString('hex');
  return h[0]! + h[h.length - 1]!;
}

function alphanumeric(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
}

function hex(code: number): string {
  return code.toString(16).padStart(4, '0');
}

/** First 12 hex digits of SHA-256, or twelve zeros for an empty list (the spec's "no values" marker). */
function hash12(list: string): string {
  return list ? createHash('sha256').update(list).digest('hex').slice(0, 12) : '000000000000';
}
