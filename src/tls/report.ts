// What the echo shows of a handshake: the ClientHello as offered (every list with IANA names
// and hex codes, GREASE marked), what the server chose, and one plain sentence per choice worth
// a reader's attention. Pure: the negotiated facts come in as a plain object, so this works with
// whatever server code collects them.
import { canonicalName, matchingName } from '../ca/names.js';
import type { ClientHello, ClientHelloResult } from './client-hello.js';
import {
  CERT_COMPRESSION,
  CIPHER_SUITES,
  COMPRESSION_METHODS,
  EC_POINT_FORMATS,
  EXTENSIONS,
  GROUPS,
  hex4,
  isGrease,
  isGreasePskMode,
  PSK_KEY_EXCHANGE_MODES,
  SIGNATURE_SCHEMES,
  VERSIONS,
  versionName,
  type Table,
} from './iana.js';
import { ja3 } from './ja3.js';
import { ja4 } from './ja4.js';

/** What the server side knows once the handshake is done (all optional: give what you have). */
export interface Negotiated {
  /** As tls.TLSSocket#getProtocol() says it: "TLSv1.3", "TLSv1.2" … */
  version?: string | null;
  /** The IANA name (getCipher().standardName), e.g. TLS_AES_128_GCM_SHA256. */
  cipher?: string;
  /** tls.TLSSocket#alpnProtocol: the protocol, or false/null/undefined for none. */
  alpn?: string | false | null;
  /** The key exchange group, by IANA or OpenSSL name ("X25519MLKEM768", "x25519", "P-256"), when known. */
  group?: string;
  resumed?: boolean;
  /** The names (DNS and IP SANs) of the certificate that answered. */
  certificateNames?: string[];
}

export interface Code {
  code: string;
  name: string;
  grease?: true;
}

export interface AlpnEntry {
  /** The protocol as text when every byte is printable ASCII, else null (see `hex`). */
  value: string | null;
  hex: string;
  grease?: true;
}

export interface ClientHelloView {
  record_version: Code;
  legacy_version: Code;
  supported_versions: Code[] | null;
  cipher_suites: Code[];
  compression_methods: Code[];
  extensions: (Code & { length: number })[];
  server_name: string | null;
  alpn: AlpnEntry[] | null;
  supported_groups: Code[] | null;
  key_share: (Code & { key_length: number })[] | null;
  signature_algorithms: Code[] | null;
  signature_algorithms_cert: Code[] | null;
  ec_point_formats: Code[] | null;
  psk_key_exchange_modes: Code[] | null;
  certificate_compression: Code[] | null;
  /** null: no session_ticket extension; 0: supports tickets, has none; n: a ticket of n bytes. */
  session_ticket_length: number | null;
  /** Number of PSK identities offered (TLS 1.3 resumption), 0 without pre_shared_key. */
  psk_identities: number;
  ech_offered: boolean;
  early_data: boolean;
  session_id_length: number;
  handshake_bytes: number;
  records: number;
}

export interface HandshakeReport {
  client_hello: ClientHelloView | { unparsed: string };
  fingerprints: {
    ja4: string;
    ja4_r: string;
    ja4_o: string;
    ja4_ro: string;
    ja3: string;
    ja3_hash: string;
  } | null;
  chosen: {
    version: string | null;
    cipher: string | null;
    alpn: string | null;
    group: string | null;
    resumed: boolean | null;
    certificate_names: string[] | null;
  };
  /** One sentence per notable difference between what was offered and what was chosen. */
  notes: string[];
}

export function handshakeReport(result: ClientHelloResult, negotiated: Negotiated): HandshakeReport {
  const chosen = {
    version: negotiated.version ? chosenVersionName(negotiated.version) : null,
    cipher: negotiated.cipher ?? null,
    alpn: negotiated.alpn || null,
    group: negotiated.group ?? null,
    resumed: negotiated.resumed ?? null,
    certificate_names: negotiated.certificateNames ?? null,
  };
  if ('unparsed' in result) {
    return {
      client_hello: { unparsed: result.unparsed },
      fingerprints: null,
      chosen,
      notes: [`the ClientHello could not be read (${result.unparsed}), so nothing offered can be shown`],
    };
  }
  const h = result.parsed;
  return {
    client_hello: view(h),
    fingerprints: { ...ja4(h), ...ja3(h) },
    chosen,
    notes: notes(h, negotiated),
  };
}

function code(table: Table, value: number, width = 4): Code {
  if (width === 4 && isGrease(value)) return { code: hex4(value), name: 'GREASE', grease: true };
  const c = width === 4 ? hex4(value) : `0x${value.toString(16).padStart(2, '0')}`;
  return { code: c, name: table.get(value) ?? c };
}

/** Versions by the names people write ("TLS 1.3"). */
function version(value: number): Code {
  return isGrease(value) ? code(VERSIONS, value) : { code: hex4(value), name: versionName(value) };
}

const codes = (table: Table, values: number[] | undefined) => values?.map((v) => code(table, v)) ?? null;

function alpnEntry(p: Uint8Array): AlpnEntry {
  const printable = p.length > 0 && p.every((b) => b >= 0x21 && b <= 0x7e);
  const grease = p.length === 2 && p[0] === p[1] && (p[0]! & 0x0f) === 0x0a;
  return {
    value: printable ? Buffer.from(p).toString('latin1') : null,
    hex: Buffer.from(p).toString('hex'),
    ...(grease ? { grease: true as const } : {}),
  };
}

function view(h: ClientHello): ClientHelloView {
  return {
    record_version: version(h.recordVersion),
    legacy_version: version(h.legacyVersion),
    supported_versions: h.supportedVersions?.map(version) ?? null,
    cipher_suites: h.cipherSuites.map((c) => code(CIPHER_SUITES, c)),
    compression_methods: h.compressionMethods.map((c) => code(COMPRESSION_METHODS, c, 2)),
    extensions: h.extensions.map((e) => ({ ...code(EXTENSIONS, e.type), length: e.length })),
    server_name: h.serverName ?? null,
    alpn: h.alpn?.map(alpnEntry) ?? null,
    supported_groups: codes(GROUPS, h.supportedGroups),
    key_share: h.keyShares?.map((k) => ({ ...code(GROUPS, k.group), key_length: k.keyLength })) ?? null,
    signature_algorithms: codes(SIGNATURE_SCHEMES, h.signatureAlgorithms),
    signature_algorithms_cert: codes(SIGNATURE_SCHEMES, h.signatureAlgorithmsCert),
    ec_point_formats: h.ecPointFormats?.map((f) => code(EC_POINT_FORMATS, f, 2)) ?? null,
    psk_key_exchange_modes:
      h.pskKeyExchangeModes?.map((m) =>
        isGreasePskMode(m)
          ? { code: `0x${m.toString(16).padStart(2, '0')}`, name: 'GREASE', grease: true as const }
          : code(PSK_KEY_EXCHANGE_MODES, m, 2),
      ) ?? null,
    certificate_compression: codes(CERT_COMPRESSION, h.certCompression),
    session_ticket_length: h.sessionTicketLength ?? null,
    psk_identities: h.pskIdentities ?? 0,
    ech_offered: h.ech !== undefined,
    early_data: h.earlyData ?? false,
    session_id_length: h.sessionIdLength,
    handshake_bytes: h.handshakeLength,
    records: h.records,
  };
}

const NODE_VERSIONS: Record<string, number> = {
  'TLSv1.3': 0x0304,
  'TLSv1.2': 0x0303,
  'TLSv1.1': 0x0302,
  TLSv1: 0x0301,
  SSLv3: 0x0300,
};

function versionCode(nodeName: string): number | undefined {
  return NODE_VERSIONS[nodeName];
}

/** "TLS 1.3" for Node's "TLSv1.3"; an unknown name as given. */
function chosenVersionName(nodeName: string): string {
  const c = versionCode(nodeName);
  return c === undefined ? nodeName : versionName(c);
}

/** OpenSSL's and the NIST curve names next to the IANA ones. */
const GROUP_ALIASES: Record<string, number> = {
  'p-256': 0x17,
  prime256v1: 0x17,
  'p-384': 0x18,
  'p-521': 0x19,
};

function groupCode(name: string): number | undefined {
  const lower = name.toLowerCase();
  if (GROUP_ALIASES[lower] !== undefined) return GROUP_ALIASES[lower];
  for (const [c, n] of GROUPS) if (n.toLowerCase() === lower) return c;
  return undefined;
}

/** "a", "a and b", "a, b and c". */
function list(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

function ordinal(n: number): string {
  const s = n % 100 >= 11 && n % 100 <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${s}`;
}

function notes(h: ClientHello, n: Negotiated): string[] {
  const out: string[] = [];
  // Version: the highest offered against the one chosen.
  const versions = h.supportedVersions?.filter((v) => !isGrease(v));
  const offeredMax = versions?.length ? Math.max(...versions) : h.legacyVersion;
  const chosenVersion = n.version ? versionCode(n.version) : undefined;
  if (chosenVersion !== undefined) {
    const offered = versions
      ? list(versions.map(versionName))
      : `up to ${versionName(h.legacyVersion)} (no supported_versions extension)`;
    if (chosenVersion < offeredMax) {
      out.push(
        `offered ${offered} but the server chose ${versionName(chosenVersion)}: ${versionName(offeredMax)} is not enabled on it`,
      );
    } else {
      out.push(`offered ${offered}; chose ${versionName(chosenVersion)}`);
    }
  }
  // ALPN.
  const alpn = (h.alpn ?? []).map(alpnEntry).filter((a) => !a.grease);
  const names = alpn.map((a) => a.value ?? `0x${a.hex}`);
  if (!h.alpn) {
    if (n.alpn !== undefined) out.push('offered no ALPN, so HTTP/1.1 is assumed');
  } else if (n.alpn) {
    out.push(`offered ${list(names)}; chose ${n.alpn}`);
  } else if (n.alpn !== undefined) {
    out.push(`offered ${list(names)}; the server accepted none of them and chose no ALPN`);
  }
  // Cipher suite: where in the client's preference it was.
  if (n.cipher) {
    const offered = h.cipherSuites.filter((c) => !isGrease(c));
    const at = offered.findIndex((c) => CIPHER_SUITES.get(c) === n.cipher);
    out.push(
      at < 0
        ? `chose ${n.cipher}, which the client did not offer by that name`
        : `offered ${offered.length} cipher suites; chose ${n.cipher}, the client's ${ordinal(at + 1)}`,
    );
  }
  // Key exchange group: a share sent for it saves a round trip.
  const shares = (h.keyShares ?? []).map((k) => k.group).filter((g) => !isGrease(g));
  if (n.group) {
    const g = groupCode(n.group);
    const shareNames = list(shares.map((s) => GROUPS.get(s) ?? hex4(s)));
    if (g !== undefined && shares.includes(g))
      out.push(`sent key shares for ${shareNames}; chose ${n.group}`);
    else if (g !== undefined && (h.supportedGroups ?? []).includes(g)) {
      out.push(
        `sent key shares for ${shareNames || 'no group'}; chose ${n.group}, which cost a HelloRetryRequest round trip`,
      );
    } else out.push(`chose group ${n.group}`);
  } else if ((h.supportedGroups ?? []).includes(0x11ec)) {
    out.push(
      `offered X25519MLKEM768 (post-quantum hybrid)${shares.includes(0x11ec) ? ' with a key share' : ''}`,
    );
  }
  // Resumption.
  const offeredResumption = (h.pskIdentities ?? 0) > 0 || (h.sessionTicketLength ?? 0) > 0;
  if (n.resumed === true) out.push('resumed an earlier session: no certificate was sent');
  else if (n.resumed === false && offeredResumption) {
    out.push('offered a session to resume; the server did a full handshake instead');
  }
  // Which certificate answered the SNI.
  if (n.certificateNames) {
    const certNames = list(n.certificateNames);
    if (h.serverName === undefined) out.push(`sent no SNI; the default certificate answered (${certNames})`);
    else if (covered(n.certificateNames, h.serverName)) {
      out.push(`sent SNI ${h.serverName}; the certificate for ${certNames} answered`);
    } else
      out.push(`sent SNI ${h.serverName}, which the certificate that answered (${certNames}) does not cover`);
  }
  if (h.ech)
    out.push(
      'offered ECH (likely GREASE ECH); this server has no ECH keys, so the outer ClientHello was used',
    );
  return out;
}

// An SNI may end in the root's dot, which no certificate name carries.
const covered = (names: string[], sni: string) =>
  matchingName(new Set(names.map(canonicalName)), sni.replace(/\.$/, '')) !== undefined;
