// What the echo reports about a TLS connection, computed once when its handshake completes.
import type { TLSSocket } from 'node:tls';
import { canonicalName, matchingName } from '../ca/names.js';

export interface ClientCertificate {
  subject: string;
  issuer: string;
  fingerprint_sha256: string;
}

/** What became of the client certificate the server asked for (--client-auth request or require). */
export interface ClientAuthFacts {
  presented: boolean;
  verified: boolean;
  /** Node's authorizationError (an OpenSSL verify code such as UNABLE_TO_VERIFY_LEAF_SIGNATURE). */
  error: string | null;
  /** The presented certificate's subject and issuer, verified or not. */
  subject: string | null;
  issuer: string | null;
}

export interface ConnectionFacts {
  readonly clientIp: string;
  readonly clientPort: number;
  /** The SNI the client sent, or undefined (clients connecting by IP send none). */
  readonly sni: string | undefined;
  readonly localAddress: string;
  readonly localPort: number;
  readonly tlsVersion: string;
  readonly cipher: string;
  readonly alpn: string | undefined;
  readonly resumed: boolean;
  readonly clientCert: ClientCertificate | undefined;
  /** Undefined when no client certificate was asked for. */
  readonly clientAuth: ClientAuthFacts | undefined;
  /** Label for metrics: the SNI when it is a name of our certificate, else "other"/"none". */
  readonly serverNameLabel: string;
}

/** `10.0.0.5`, never `::ffff:10.0.0.5` (IPv4 clients of a dual-stack listener). */
export function plainIp(address: string | undefined): string {
  if (!address) return 'unknown';
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

function dn(text: string): string {
  return text.split('\n').filter(Boolean).join(', ');
}

export function computeFacts(
  socket: TLSSocket,
  serverNameLabel: (sni: string | undefined) => string,
  certRequested = false,
): ConnectionFacts {
  const sni = typeof socket.servername === 'string' && socket.servername ? socket.servername : undefined;
  const presented = certRequested ? socket.getPeerX509Certificate() : undefined;
  const peer = socket.authorized ? (presented ?? socket.getPeerX509Certificate()) : undefined;
  return {
    clientIp: plainIp(socket.remoteAddress),
    clientPort: socket.remotePort ?? 0,
    sni,
    localAddress: plainIp(socket.localAddress),
    localPort: socket.localPort ?? 0,
    tlsVersion: socket.getProtocol() ?? 'unknown',
    cipher: socket.getCipher()?.standardName ?? 'unknown',
    alpn: socket.alpnProtocol || undefined,
    resumed: socket.isSessionReused(),
    clientCert: peer
      ? { subject: dn(peer.subject), issuer: dn(peer.issuer), fingerprint_sha256: peer.fingerprint256 }
      : undefined,
    clientAuth: certRequested
      ? {
          presented: presented !== undefined,
          verified: socket.authorized,
          // With no certificate Node reports UNABLE_TO_GET_ISSUER_CERT, which misleads; say what happened.
          error: socket.authorized
            ? null
            : presented
              ? String(socket.authorizationError)
              : 'NO_CERTIFICATE_PRESENTED',
          subject: presented ? dn(presented.subject) : null,
          issuer: presented ? dn(presented.issuer) : null,
        }
      : undefined,
    serverNameLabel: serverNameLabel(sni),
  };
}

/** Bounded metric label for an SNI: one of the certificate's names (wildcards match one label). */
export function serverNameLabeler(names: readonly string[]): (sni: string | undefined) => string {
  const exact = new Set(names.map(canonicalName));
  return (sni) => (sni === undefined ? 'none' : (matchingName(exact, sni) ?? 'other'));
}

/**
 * Whether the certificate covers a host (a name or an IP, as in a Host or `:authority` without
 * its port; IPv6 with or without brackets): what a client coalescing connections relies on.
 */
export function certificateCovers(names: readonly string[]): (host: string) => boolean {
  const exact = new Set(names.map(canonicalName));
  return (host) => {
    const h = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
    return matchingName(exact, h) !== undefined;
  };
}
