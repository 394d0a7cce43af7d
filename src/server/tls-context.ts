// The TLS settings: Mozilla's "intermediate" profile (TLS 1.2+, AEAD ciphers with forward
// secrecy), session tickets, and optional mutual TLS. The same function builds the first context
// and every rotated one, so a reload never changes the policy.
import { randomBytes } from 'node:crypto';
import tls from 'node:tls';
import type { ClientAuth } from './options.js';
import type { TlsMaterial } from './tls-material.js';

// https://ssl-config.mozilla.org/guidelines/5.7.json, "intermediate" (TLS 1.3 suites listed too,
// since Node takes both from one string).
export const INTERMEDIATE_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256',
  'DHE-RSA-AES256-GCM-SHA384',
  'DHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Session-ticket keys; workers of one server share them so a ticket resumes on any worker. */
export function newTicketKeys(): Buffer {
  return randomBytes(48);
}

/** What the TLS settings take from the material. */
export type TlsKeyPair = Pick<TlsMaterial, 'cert' | 'key' | 'clientCa'>;

export function secureContextOptions(m: TlsKeyPair, ticketKeys: Buffer): tls.SecureContextOptions {
  return { ...policy(m), ticketKeys };
}

/** The certificate, the policy and the client CA: everything but the session-ticket keys. */
function policy(m: TlsKeyPair): tls.SecureContextOptions {
  return {
    cert: m.cert,
    key: m.key,
    minVersion: 'TLSv1.2',
    ciphers: INTERMEDIATE_CIPHERS,
    ecdhCurve: 'X25519:prime256v1:secp384r1',
    dhparam: 'auto', // RFC 7919 ffdhe2048 for the DHE suites
    honorCipherOrder: false, // intermediate: let clients pick (e.g. ChaCha20 on phones)
    ...(m.clientCa ? { ca: m.clientCa } : {}),
  };
}

/**
 * What node:tls asks of clients. `request` is the one place verification failures do not close
 * the connection: Node still verifies the certificate (socket.authorized, authorizationError) and
 * the echo reports the result, so nothing is skipped, only reported instead of refused.
 */
function clientCertOptions(auth: ClientAuth): Pick<tls.TlsOptions, 'requestCert' | 'rejectUnauthorized'> {
  if (auth === 'require') return { requestCert: true, rejectUnauthorized: true };
  if (auth === 'request') return { requestCert: true, rejectUnauthorized: false };
  return {};
}

/** Server options: the context plus what is asked of client certificates (--client-auth). */
export function tlsServerOptions(
  m: TlsKeyPair,
  ticketKeys: Buffer,
  o: { handshakeTimeoutMs: number; alpn: readonly string[]; clientAuth?: ClientAuth },
): tls.TlsOptions {
  return {
    ...secureContextOptions(m, ticketKeys),
    handshakeTimeout: o.handshakeTimeoutMs,
    // The server's order wins (h2 first by default); a client offering neither gets HTTP/1.1.
    ALPNProtocols: [...o.alpn],
    ...clientCertOptions(o.clientAuth ?? (m.clientCa ? 'require' : 'none')),
  };
}

/**
 * Throws (with OpenSSL's reason) if Node cannot build a context from the material: the check a
 * rotated pair passes before it serves. Ticket keys do not decide that, so it takes none.
 */
export function buildSecureContext(m: TlsKeyPair): tls.SecureContext {
  return tls.createSecureContext(policy(m));
}
