// The echo in its three forms. The text line is the seed's:
//   Client connection from <client IP> to server <server name>
// JSON and HTML carry the same facts and more. Bodies are cached per connection (the JSON and
// HTML ones per Host header too), so keep-alive requests reuse the bytes.
import { hostname } from 'node:os';
import type { ConnectionFacts } from './facts.js';
import { renderPage } from './html.js';

/** Server-wide facts shown with every echo. */
export interface ServerFacts {
  servedBy: string;
  caFingerprint: string;
}

export function serverFacts(caFingerprint: string): ServerFacts {
  return { servedBy: hostname(), caFingerprint };
}

function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export function echoLine(f: ConnectionFacts): string {
  return f.sni !== undefined
    ? `Client connection from ${f.clientIp} to server ${f.sni}`
    : `Client connection from ${f.clientIp} with no SNI (the client sent no server name; it connected to ${hostPort(f.localAddress, f.localPort)})`;
}

export function textBody(f: ConnectionFacts): Buffer {
  return (f.text ??= Buffer.from(`${echoLine(f)}\n`));
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
  served_by: string;
  root_ca_fingerprint_sha256: string;
}

export function echoDocument(f: ConnectionFacts, host: string | undefined, s: ServerFacts): EchoDocument {
  return {
    message: echoLine(f),
    client_ip: f.clientIp,
    client_port: f.clientPort,
    server_name: f.sni ?? null,
    sni_sent: f.sni !== undefined,
    host: host ?? null,
    local_address: f.localAddress,
    local_port: f.localPort,
    tls_version: f.tlsVersion,
    cipher: f.cipher,
    alpn: f.alpn ?? null,
    session_resumed: f.resumed,
    client_certificate: f.clientCert ?? null,
    served_by: s.servedBy,
    root_ca_fingerprint_sha256: s.caFingerprint,
  };
}

export function jsonBody(f: ConnectionFacts, host: string | undefined, s: ServerFacts): Buffer {
  if (f.json?.host !== host || !f.json)
    f.json = { host, body: Buffer.from(`${JSON.stringify(echoDocument(f, host, s), null, 2)}\n`) };
  return f.json.body;
}

export function htmlBody(f: ConnectionFacts, host: string | undefined, s: ServerFacts): Buffer {
  if (f.html?.host !== host || !f.html)
    f.html = { host, body: Buffer.from(renderPage(echoDocument(f, host, s))) };
  return f.html.body;
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
