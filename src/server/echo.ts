// The echo in its three forms. The text line is the seed's, for every method:
//   Client connection from <client IP> to server <server name>
// JSON (and the HTML page, html.ts) carry the same facts, the whole request and, on HTTP/2,
// how the stream's :authority relates to the connection's SNI.
import { hostname } from 'node:os';
import { handshakeReport, type HandshakeReport } from '../tls/report.js';
import type { Connection } from './connection.js';
import type { ConnectionFacts } from './facts.js';
import {
  headerPairs,
  headerValue,
  hostOnly,
  queryParameters,
  summarizeBody,
  type BodySummary,
  type EchoRequest,
} from './request.js';

/** Server-wide facts shown with every echo. */
export interface ServerFacts {
  servedBy: string;
  caFingerprint: string;
  /** The failure lab's names (--lab), empty without it. */
  labNames: readonly string[];
}

export function serverFacts(caFingerprint: string, labNames: readonly string[] = []): ServerFacts {
  return { servedBy: hostname(), caFingerprint, labNames };
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function echoLine(f: ConnectionFacts): string {
  return f.sni !== undefined
    ? `Client connection from ${f.clientIp} to server ${f.sni}`
    : `Client connection from ${f.clientIp} with no SNI (the client sent no server name; it connected to ${hostPort(f.localAddress, f.localPort)})`;
}

export interface RequestDocument {
  method: string;
  target: string;
  path: string;
  query: Record<string, string[]>;
  http_version: string;
  /** In the order received, names as sent (HTTP/2 pseudo-headers are not headers). */
  headers: [string, string][];
  body: BodySummary | null;
}

export interface Http2Document {
  stream_id: number;
  authority: string | null;
  /**
   * False when a client reuses this connection for another name the certificate covers
   * (HTTP/2 connection coalescing); null when the client sent no SNI.
   */
  authority_matches_sni: boolean | null;
}

export interface EchoDocument {
  message: string;
  client_ip: string;
  client_port: number;
  server_name: string | null;
  sni_sent: boolean;
  host: string | null;
  local_address: string;
  local_port: number;
  tls_version: string;
  cipher: string;
  alpn: string | null;
  session_resumed: boolean;
  client_certificate: ConnectionFacts['clientCert'] | null;
  /** Null unless the server asked for a client certificate (--client-auth request or require). */
  client_auth: ConnectionFacts['clientAuth'] | null;
  http2: Http2Document | null;
  /** What the client offered in its ClientHello next to what was chosen (src/tls/report.ts). */
  handshake: HandshakeReport | null;
  request: RequestDocument;
  served_by: string;
  root_ca_fingerprint_sha256: string;
  /** With --lab: the failure lab's names (docs/lab.md); null without. */
  lab_names: string[] | null;
}

/** Whether a stream's :authority names the host the connection's SNI named. */
export function authorityMatchesSni(authority: string | undefined, sni: string | undefined): boolean | null {
  if (sni === undefined) return null;
  return authority !== undefined && hostOnly(authority).toLowerCase() === sni.toLowerCase();
}

/** The connection's handshake report, built on first use and kept for its other requests. */
function handshakeOf(c: Connection, certificateNames: string[]): HandshakeReport | null {
  if (!c.hello) return null;
  const f = c.facts;
  return (c.handshake ??= handshakeReport(c.hello.hello(), {
    version: f.tlsVersion,
    cipher: f.cipher,
    alpn: f.alpn,
    resumed: f.resumed,
    certificateNames,
  }));
}

export function echoDocument(
  c: Connection,
  req: EchoRequest,
  s: ServerFacts,
  echoBodyLimit: number,
  certificateNames: string[] = [],
): EchoDocument {
  const f = c.facts;
  return {
    message: echoLine(f),
    client_ip: f.clientIp,
    client_port: f.clientPort,
    server_name: f.sni ?? null,
    sni_sent: f.sni !== undefined,
    host: req.host ?? null,
    local_address: f.localAddress,
    local_port: f.localPort,
    tls_version: f.tlsVersion,
    cipher: f.cipher,
    alpn: f.alpn ?? null,
    session_resumed: f.resumed,
    client_certificate: f.clientCert ?? null,
    client_auth: f.clientAuth ?? null,
    http2:
      req.streamId === undefined
        ? null
        : {
            stream_id: req.streamId,
            authority: req.host ?? null,
            authority_matches_sni: authorityMatchesSni(req.host, f.sni),
          },
    handshake: handshakeOf(c, certificateNames),
    request: {
      method: req.method,
      target: req.target,
      path: req.path,
      query: queryParameters(req.query),
      http_version: req.httpVersion,
      headers: headerPairs(req.headers),
      body:
        req.body === undefined
          ? null
          : summarizeBody(req.body, headerValue(req.headers, 'content-type'), echoBodyLimit),
    },
    served_by: s.servedBy,
    root_ca_fingerprint_sha256: s.caFingerprint,
    lab_names: s.labNames.length ? [...s.labNames] : null,
  };
}

export function jsonBody(d: EchoDocument): string {
  return `${JSON.stringify(d, null, 2)}\n`;
}

export type Format = 'text' | 'json' | 'html';

/**
 * Picks the form: `?format=` wins (the page links to the JSON form that way), then Accept.
 * Browsers send `text/html`; curl and scripts send nothing or `*\/*` and get the text line.
 */
export function negotiate(accept: string | undefined, query: string | undefined): Format {
  if (query) {
    const m = /(?:^|&)format=(text|json|html)(?:&|$)/.exec(query);
    if (m) return m[1] as Format;
  }
  if (accept === undefined) return 'text';
  if (accept.includes('application/json')) return 'json';
  if (accept.includes('text/html')) return 'html';
  return 'text';
}
