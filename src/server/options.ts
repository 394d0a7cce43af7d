// The options of `tlsecho server` (flags, TLSECHO_* / MX_* variables, --config YAML) and the
// programmatic form that startServer() takes. Defaults follow docs/architecture.md.
import { join } from 'node:path';
import { UsageError } from '../config/errors.js';
import { defaultsOf, opt, type Resolved } from '../config/options.js';
import { certsPathOption, domainOption } from '../config/shared.js';

export const serverOptions = {
  'https-port': opt({
    kind: 'int',
    min: 0,
    max: 65535,
    default: 8443,
    description: 'HTTPS port (echo, /ping)',
  }),
  'http-port': opt({
    kind: 'int',
    min: 0,
    max: 65535,
    default: 8080,
    description: 'plain-HTTP port (/root_ca, /healthz, /readyz, /metrics)',
  }),
  host: opt({ kind: 'string', description: 'address to listen on (default: all interfaces, IPv4 and IPv6)' }),
  domain: domainOption,
  'certs-path': certsPathOption,
  'cert-file': opt({
    kind: 'string',
    env: 'MX_certfile',
    description: 'server certificate PEM, leaf first (default: <certs-path>/server1.<domain>/cert.pem)',
  }),
  'key-file': opt({
    kind: 'string',
    env: 'MX_keyfile',
    description: 'private key PEM of the certificate (default: <certs-path>/server1.<domain>/key.pem)',
  }),
  'ca-file': opt({
    kind: 'string',
    env: 'MX_cafile',
    description: 'root CA PEM served at /root_ca (default: <certs-path>/minica.pem)',
  }),
  'client-ca': opt({
    kind: 'string',
    description:
      'mutual TLS: verify client certificates against this CA PEM (required unless --client-auth says otherwise)',
  }),
  'client-auth': opt({
    kind: 'string',
    choices: ['none', 'request', 'require'] as const,
    description:
      'client certificates: none, request (ask; serve and report any, verified or not), require (default with --client-ca)',
  }),
  lab: opt({
    kind: 'string',
    description:
      "serve the failure lab from this folder ('tlsecho ca lab' makes <certs-path>/lab): a certificate per name, by SNI",
  }),
  'lab-tls12-port': opt({
    kind: 'int',
    min: 0,
    max: 65535,
    default: 8444,
    description: 'with --lab: HTTPS port of tls12.<domain> (TLS 1.2 at most; SNI cannot lower the version)',
  }),
  workers: opt({
    kind: 'int',
    min: 0,
    max: 256,
    default: 1,
    description: 'worker processes (0 = one per available CPU; in containers keep 1 and scale replicas)',
  }),
  'log-format': opt({
    kind: 'string',
    choices: ['text', 'json'] as const,
    default: 'text',
    description: 'log line format',
  }),
  'log-level': opt({
    kind: 'string',
    choices: ['debug', 'info', 'warn', 'error', 'silent'] as const,
    default: 'info',
    description: 'lowest level logged',
  }),
  'access-log': opt({ kind: 'bool', default: true, description: 'log one line per request' }),
  'reload-interval': opt({
    kind: 'duration',
    min: 0,
    default: 5000,
    description: 'how often to check the certificate files for changes (0 = never; SIGHUP reloads at once)',
  }),
  'handshake-timeout': opt({
    kind: 'duration',
    min: 100,
    default: 10_000,
    description: 'TLS handshake timeout',
  }),
  'header-timeout': opt({
    kind: 'duration',
    min: 100,
    default: 10_000,
    description: 'time allowed to receive the request headers (slowloris guard)',
  }),
  'request-timeout': opt({
    kind: 'duration',
    min: 100,
    default: 30_000,
    description: 'time allowed to receive a whole request',
  }),
  'keep-alive-timeout': opt({
    kind: 'duration',
    min: 0,
    default: 5000,
    description: 'idle time before a keep-alive connection is closed',
  }),
  'max-header-size': opt({
    kind: 'int',
    min: 1024,
    max: 1 << 20,
    default: 16_384,
    description: 'largest request header block in bytes (larger gets 431)',
  }),
  'max-body-size': opt({
    kind: 'int',
    min: 0,
    max: 1 << 30,
    default: 1 << 20,
    description: 'largest request body in bytes (larger gets 413)',
  }),
  'echo-body-limit': opt({
    kind: 'int',
    min: 0,
    max: 1 << 30,
    default: 64 << 10,
    description: 'bytes of a request body shown in the JSON and HTML echo (size and SHA-256 cover all of it)',
  }),
  alpn: opt({
    kind: 'list',
    default: ['h2', 'http/1.1'],
    description:
      'protocols offered by ALPN, in order of preference (h2, http/1.1; http/1.1 alone turns HTTP/2 off)',
  }),
  'max-concurrent-streams': opt({
    kind: 'int',
    min: 1,
    max: 10_000,
    default: 128,
    description: 'HTTP/2 streams a client may have open at once on one connection',
  }),
  'max-connections': opt({
    kind: 'int',
    min: 1,
    default: 10_000,
    description: 'open connections per port and process before new ones are dropped',
  }),
  'tls-keylog': opt({
    kind: 'string',
    description:
      'append TLS secrets to this file in the NSS key log format (SSLKEYLOGFILE), for Wireshark: makes recorded traffic decryptable',
  }),
  'shutdown-timeout': opt({
    kind: 'duration',
    min: 0,
    default: 10_000,
    description: 'on SIGTERM/SIGINT, time for in-flight requests to finish before a forced exit',
  }),
  'shutdown-delay': opt({
    kind: 'duration',
    min: 0,
    default: 0,
    description: 'on SIGTERM/SIGINT, keep serving with /readyz failing this long first (load balancers)',
  }),
};

export type ServerFlags = Resolved<typeof serverOptions>;

const PROTOCOLS = ['h2', 'http/1.1'] as const;
export type Protocol = (typeof PROTOCOLS)[number];

/** The --alpn list, checked: known protocols, each once, at least one. */
export function alpnList(items: readonly string[], where = '--alpn'): Protocol[] {
  const known = new Set<string>(PROTOCOLS);
  const bad = items.find((p) => !known.has(p));
  if (bad !== undefined || items.length === 0 || new Set(items).size !== items.length)
    throw new UsageError(
      `invalid ${where}: ${JSON.stringify(items.join(','))} is not a list of ${PROTOCOLS.join(', ')} (each once, at least one)`,
    );
  return items as Protocol[];
}

/** What startServer() takes; everything but the three files has a default. */
export interface ServerOptions {
  certFile: string;
  keyFile: string;
  caFile: string;
  clientCaFile?: string;
  /** Default: require with a client CA, none without. */
  clientAuth?: ClientAuth;
  /** The failure lab's folder (--lab). */
  lab?: string;
  labTls12Port?: number;
  httpsPort?: number;
  httpPort?: number;
  host?: string;
  logFormat?: 'text' | 'json';
  /** startServer() logs nothing unless given a level. */
  logLevel?: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  accessLog?: boolean;
  reloadIntervalMs?: number;
  handshakeTimeoutMs?: number;
  headerTimeoutMs?: number;
  requestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  maxHeaderSize?: number;
  maxBodySize?: number;
  echoBodyLimit?: number;
  /** ALPN protocols offered, in order of preference. */
  alpn?: readonly Protocol[];
  maxConcurrentStreams?: number;
  maxConnections?: number;
  /** NSS key log file (SSLKEYLOGFILE format); off when undefined. */
  tlsKeylog?: string;
  shutdownTimeoutMs?: number;
  shutdownDelayMs?: number;
}

export const CLIENT_AUTH = ['none', 'request', 'require'] as const;
export type ClientAuth = (typeof CLIENT_AUTH)[number];

export type Settings = Required<
  Omit<ServerOptions, 'clientCaFile' | 'host' | 'clientAuth' | 'lab' | 'tlsKeylog'>
> &
  Pick<ServerOptions, 'clientCaFile' | 'host' | 'clientAuth' | 'lab' | 'tlsKeylog'>;

/** What the server does with client certificates: --client-auth, else require exactly when a CA is given. */
export function clientAuthOf(s: Pick<Settings, 'clientAuth' | 'clientCaFile'>): ClientAuth {
  return s.clientAuth ?? (s.clientCaFile ? 'require' : 'none');
}

/** The settings a flag sets: everything but the certificate files, which fromFlags() derives. */
type FlagSettings = Omit<Settings, 'certFile' | 'keyFile' | 'caFile' | 'clientCaFile' | 'clientAuth'>;

/** Each setting from its flag: the one place a flag's name meets its setting's. */
function settingsOf(f: ServerFlags): FlagSettings {
  return {
    httpsPort: f['https-port'],
    httpPort: f['http-port'],
    host: f.host,
    lab: f.lab,
    labTls12Port: f['lab-tls12-port'],
    logFormat: f['log-format'],
    logLevel: f['log-level'],
    accessLog: f['access-log'],
    reloadIntervalMs: f['reload-interval'],
    handshakeTimeoutMs: f['handshake-timeout'],
    headerTimeoutMs: f['header-timeout'],
    requestTimeoutMs: f['request-timeout'],
    keepAliveTimeoutMs: f['keep-alive-timeout'],
    maxHeaderSize: f['max-header-size'],
    maxBodySize: f['max-body-size'],
    echoBodyLimit: f['echo-body-limit'],
    alpn: alpnList(f.alpn),
    maxConcurrentStreams: f['max-concurrent-streams'],
    maxConnections: f['max-connections'],
    tlsKeylog: f['tls-keylog'],
    shutdownTimeoutMs: f['shutdown-timeout'],
    shutdownDelayMs: f['shutdown-delay'],
  };
}

// startServer()'s defaults are the option table's, except that a library logs nothing unless
// given a level.
const DEFAULTS: FlagSettings = { ...settingsOf(defaultsOf(serverOptions)), logLevel: 'silent' };

export function withDefaults(o: ServerOptions): Settings {
  const defined: Partial<ServerOptions> = Object.fromEntries(
    Object.entries(o).filter(([, v]) => v !== undefined),
  );
  return { ...DEFAULTS, ...defined } as Settings;
}

/** The CLI's flags as startServer() options, with file paths derived from --certs-path/--domain. */
export function fromFlags(f: ServerFlags): Settings {
  const leafDir = join(f['certs-path'], `server1.${f.domain}`);
  return withDefaults({
    certFile: f['cert-file'] ?? join(leafDir, 'cert.pem'),
    keyFile: f['key-file'] ?? join(leafDir, 'key.pem'),
    caFile: f['ca-file'] ?? join(f['certs-path'], 'minica.pem'),
    clientCaFile: f['client-ca'],
    clientAuth: f['client-auth'],
    ...settingsOf(f),
  });
}
