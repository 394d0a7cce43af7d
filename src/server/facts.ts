// What the echo reports about a TLS connection. Computed once when the handshake completes and
// kept on the socket, so a keep-alive request only looks it up.
import type { TLSSocket } from 'node:tls';
import type { CounterCell } from './metrics.js';

export interface ClientCertificate {
  subject: string;
  issuer: string;
  fingerprint_sha256: string;
}

export interface ConnectionFacts {
  clientIp: string;
  clientPort: number;
  /** The SNI the client sent, or undefined (clients connecting by IP send none). */
  sni: string | undefined;
  localAddress: string;
  localPort: number;
  tlsVersion: string;
  cipher: string;
  alpn: string | undefined;
  resumed: boolean;
  clientCert: ClientCertificate | undefined;
  /** Label for metrics: the SNI when it is a name of our certificate, else "other"/"none". */
  serverNameLabel: string;
  /** This connection's tlsecho_requests_total cells, by answer (see https-app.ts). */
  requestCells?: Map<object, CounterCell>;
  /** The request log's fields for this connection (client, SNI), formatted on first use. */
  logFields?: string;
  /** Response caches, filled on first use (see echo.ts). */
  text?: Buffer;
  json?: { host: string | undefined; body: Buffer };
  html?: { host: string | undefined; body: Buffer };
}

const FACTS = Symbol('tlsecho.facts');
type WithFacts = TLSSocket & { [FACTS]?: ConnectionFacts };

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
): ConnectionFacts {
  const sni = typeof socket.servername === 'string' && socket.servername ? socket.servername : undefined;
  const peer = socket.authorized ? socket.getPeerX509Certificate() : undefined;
  const facts: ConnectionFacts = {
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
    serverNameLabel: serverNameLabel(sni),
  };
  (socket as WithFacts)[FACTS] = facts;
  return facts;
}

export function factsOf(socket: unknown): ConnectionFacts | undefined {
  return (socket as WithFacts)[FACTS];
}

/** Bounded metric label for an SNI: one of the certificate's names (wildcards match one label). */
export function serverNameLabeler(names: readonly string[]): (sni: string | undefined) => string {
  const exact = new Set(names.map((n) => n.toLowerCase()));
  return (sni) => {
    if (sni === undefined) return 'none';
    const s = sni.toLowerCase();
    if (exact.has(s)) return s;
    const wildcard = `*${s.slice(s.indexOf('.'))}`;
    return s.includes('.') && exact.has(wildcard) ? wildcard : 'other';
  };
}
