// JA3 (salesforce/ja3): SSLVersion,Ciphers,Extensions,EllipticCurves,EllipticCurvePointFormats
// in decimal, values joined by "-", GREASE left out, and the MD5 of that string. JA3 keeps the
// order the client sent, so a client that shuffles its extensions (Chromium since 110) gets a
// new JA3 on every connection; JA4 sorts and stays put.
import { createHash } from 'node:crypto';
import type { ClientHello } from './client-hello.js';
import { isGrease } from './iana.js';

export interface Ja3 {
  ja3: string;
  ja3_hash: string;
}

export function ja3String(hello: ClientHello): string {
  const list = (values: number[] | undefined) => (values ?? []).filter((v) => !isGrease(v)).join('-');
  return [
    hello.legacyVersion,
    list(hello.cipherSuites),
    list(hello.extensions.map((e) => e.type)),
    list(hello.supportedGroups),
    (hello.ecPointFormats ?? []).join('-'),
  ].join(',');
}

export function ja3Hash(ja3: string): string {
  return createHash('md5').update(ja3).digest('hex');
}

export function ja3(hello: ClientHello): Ja3 {
  const s = ja3String(hello);
  return { ja3: s, ja3_hash: ja3Hash(s) };
}
