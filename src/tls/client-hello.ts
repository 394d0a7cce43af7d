// A strict, bounds-checked reader for the TLS ClientHello (RFC 8446 4.1.2, RFC 5246 7.4.1.2) as
// it arrives on the wire: one or more TLS records of type handshake, reassembled into the one
// handshake message. Every length is checked against what encloses it; anything truncated,
// oversized or malformed ends in a one-line reason instead of an exception, so a hostile or
// broken client can never take down the connection handling that calls this.

/** The most record bytes ever looked at: a ClientHello larger than this is not read (RFC 8446 allows 2^24, no client sends it). */
export const MAX_CLIENT_HELLO_BYTES = 64 * 1024;

const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const CONTENT_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 1;
/** RFC 8446 5.1: a record's plaintext is at most 2^14 bytes. */
const MAX_RECORD_PAYLOAD = 16384;

export interface ExtensionEntry {
  type: number;
  /** Bytes of extension_data. */
  length: number;
}

export interface KeyShareEntry {
  group: number;
  /** Bytes of key_exchange (X25519 32, P-256 65, X25519MLKEM768 1216 …). */
  keyLength: number;
}

export interface ClientHello {
  /** legacy_record_version of the first record (0x0301 from most clients, for old middleboxes). */
  recordVersion: number;
  /** How many TLS records carried the ClientHello (1 but for very large ones). */
  records: number;
  /** Bytes of the handshake message, header included. */
  handshakeLength: number;
  /** client_version / legacy_version: 0x0303 from TLS 1.3 clients, which put 1.3 in supported_versions. */
  legacyVersion: number;
  /** Bytes of legacy_session_id (32 random bytes from TLS 1.3 clients in middlebox mode). */
  sessionIdLength: number;
  cipherSuites: number[];
  compressionMethods: number[];
  /** Extensions in the order sent; absent entirely (not just empty) from some TLS 1.0 clients. */
  extensions: ExtensionEntry[];
  /** The host_name in server_name, if any. */
  serverName?: string;
  /** ALPN protocol names as sent: opaque bytes, not necessarily ASCII. */
  alpn?: Uint8Array[];
  supportedVersions?: number[];
  supportedGroups?: number[];
  keyShares?: KeyShareEntry[];
  signatureAlgorithms?: number[];
  signatureAlgorithmsCert?: number[];
  ecPointFormats?: number[];
  pskKeyExchangeModes?: number[];
  /** Number of PSK identities offered in pre_shared_key (TLS 1.3 resumption). */
  pskIdentities?: number;
  /** Bytes of the session_ticket offered (0: the client supports tickets but has none). */
  sessionTicketLength?: number;
  /** encrypted_client_hello: "outer" (or a GREASE ECH, indistinguishable on the wire) or "inner". */
  ech?: 'outer' | 'inner';
  certCompression?: number[];
  earlyData?: boolean;
  /** Record bytes after the ClientHello in what was read (a TLS 1.3 client may send early data). */
  trailingBytes: number;
}

export type ClientHelloResult = { parsed: ClientHello } | { unparsed: string };

/** What the first bytes of a connection tell about the ClientHello they start. */
export type Framing =
  | { status: 'need_more' }
  | { status: 'complete'; message: Buffer; records: number; recordBytes: number }
  | { status: 'not_tls'; reason: string }
  | { status: 'too_large'; reason: string }
  | { status: 'malformed'; reason: string };

/**
 * Walks the records in `bytes` and reassembles the first handshake message, deciding as early
 * as possible: "not_tls" from the first byte, "need_more" while the message is incomplete.
 * Cheap enough to call after every read.
 */
export function frameClientHello(bytes: Uint8Array): Framing {
  if (bytes.length === 0) return { status: 'need_more' };
  if (bytes[0] !== CONTENT_HANDSHAKE) return { status: 'not_tls', reason: notTlsReason(bytes) };
  if (bytes.length >= 2 && bytes[1] !== 0x03) {
    return { status: 'not_tls', reason: `record version major byte 0x${hex2(bytes[1]!)}, not 0x03` };
  }
  const parts: Uint8Array[] = [];
  let have = 0;
  let needed = -1; // handshake message length once its 4-byte header is in
  let at = 0;
  let records = 0;
  while (needed < 0 || have < needed) {
    if (at + RECORD_HEADER > bytes.length) return more(bytes);
    const type = bytes[at]!;
    const length = (bytes[at + 3]! << 8) | bytes[at + 4]!;
    if (type !== CONTENT_HANDSHAKE) {
      return { status: 'malformed', reason: `record of type ${type} inside the ClientHello` };
    }
    if (bytes[at + 1] !== 0x03) {
      return {
        status: 'malformed',
        reason: `record ${records + 1} has version 0x${hex2(bytes[at + 1]!)}${hex2(bytes[at + 2]!)}`,
      };
    }
    if (length === 0) return { status: 'malformed', reason: 'empty handshake record (RFC 8446 5.1)' };
    if (length > MAX_RECORD_PAYLOAD) {
      return { status: 'malformed', reason: `record of ${length} bytes, over the 16384 TLS allows` };
    }
    if (at + RECORD_HEADER + length > bytes.length) return more(bytes);
    parts.push(bytes.subarray(at + RECORD_HEADER, at + RECORD_HEADER + length));
    have += length;
    at += RECORD_HEADER + length;
    records++;
    if (needed < 0 && have >= HANDSHAKE_HEADER) {
      const head = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
      if (head[0] !== HANDSHAKE_CLIENT_HELLO) {
        return {
          status: 'malformed',
          reason: `first handshake message is type ${head[0]}, not ClientHello (1)`,
        };
      }
      needed = HANDSHAKE_HEADER + ((head[1]! << 16) | (head[2]! << 8) | head[3]!);
      // Records add 5 bytes per 16 KiB: the message alone decides whether it can ever fit.
      if (needed + RECORD_HEADER * Math.ceil(needed / MAX_RECORD_PAYLOAD) > MAX_CLIENT_HELLO_BYTES) {
        return {
          status: 'too_large',
          reason: `ClientHello of ${needed} bytes, over the ${MAX_CLIENT_HELLO_BYTES} read`,
        };
      }
    }
  }
  if (have > needed) {
    // RFC 8446 5.1: a record carrying the end of the ClientHello carries nothing after it.
    return { status: 'malformed', reason: `${have - needed} bytes after the ClientHello in its last record` };
  }
  // One record (nearly every ClientHello): a view of the input, no copy.
  const only = parts.length === 1 ? parts[0]! : undefined;
  const message = only
    ? Buffer.from(only.buffer, only.byteOffset, only.byteLength)
    : Buffer.concat(parts, have);
  return { status: 'complete', message, records, recordBytes: at };
}

function more(bytes: Uint8Array): Framing {
  if (bytes.length >= MAX_CLIENT_HELLO_BYTES) {
    return {
      status: 'too_large',
      reason: `no complete ClientHello in the first ${MAX_CLIENT_HELLO_BYTES} bytes`,
    };
  }
  return { status: 'need_more' };
}

function notTlsReason(bytes: Uint8Array): string {
  const first = bytes[0]!;
  if (first >= 0x41 && first <= 0x5a) return 'plain text where a TLS record should start (an HTTP request?)';
  if (first & 0x80) return `first byte 0x${hex2(first)}: an SSLv2-format hello or not TLS`;
  return `first byte 0x${hex2(first)} is not a TLS handshake record (0x16)`;
}

/** Parses the ClientHello at the start of `bytes` (raw record bytes as read from the socket). Never throws. */
export function parseClientHello(bytes: Uint8Array): ClientHelloResult {
  return parseFramed(frameClientHello(bytes.subarray(0, MAX_CLIENT_HELLO_BYTES)), bytes);
}

/** parseClientHello for bytes already framed (the capture frames them as they arrive). */
export function parseFramed(framing: Framing, bytes: Uint8Array): ClientHelloResult {
  try {
    if (framing.status === 'need_more')
      return { unparsed: `truncated: ${bytes.length} bytes, no complete ClientHello` };
    if (framing.status !== 'complete') return { unparsed: framing.reason };
    const hello = parseMessage(framing.message, bytes);
    hello.records = framing.records;
    hello.trailingBytes = bytes.length - framing.recordBytes;
    return { parsed: hello };
  } catch (err) {
    if (err instanceof Malformed) return { unparsed: err.message };
    // A bug here must not become a crash on a hostile input: report it like bad input.
    return { unparsed: `parser error: ${(err as Error).message}` };
  }
}

class Malformed extends Error {}

/**
 * A cursor over [pos, end) that refuses to read past end. Field names are only for the error
 * message, so a name that must be built (an extension's code) is passed as a code and formatted
 * only when something is wrong: the parse runs once per connection.
 */
class Reader {
  constructor(
    private readonly buf: Buffer,
    public pos: number,
    private readonly end: number,
    private readonly what: string,
  ) {}
  get left(): number {
    return this.end - this.pos;
  }
  private need(n: number, field: string, code: number): void {
    if (n > this.left)
      throw new Malformed(`${this.what}: ${fieldName(field, code)} needs ${n} bytes, ${this.left} left`);
  }
  u8(field: string): number {
    this.need(1, field, -1);
    return this.buf[this.pos++]!;
  }
  u16(field: string): number {
    this.need(2, field, -1);
    const v = (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += 2;
    return v;
  }
  bytes(n: number, field: string): Buffer {
    this.need(n, field, -1);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }
  /** Moves past `n` bytes that are not kept. */
  skip(n: number, field: string): void {
    this.need(n, field, -1);
    this.pos += n;
  }
  /** A sub-reader over a vector with a `size`-byte length prefix (RFC 8446 3.4). */
  vector(size: 1 | 2, field: string, min = 0, code = -1): Reader {
    this.need(size, field, code);
    const n = size === 1 ? this.buf[this.pos]! : (this.buf[this.pos]! << 8) | this.buf[this.pos + 1]!;
    this.pos += size;
    if (n < min)
      throw new Malformed(`${this.what}: ${fieldName(field, code)} is ${n} bytes, at least ${min} required`);
    this.need(n, field, code);
    const r = new Reader(this.buf, this.pos, this.pos + n, this.what);
    this.pos += n;
    return r;
  }
  done(field: string, code = -1): void {
    if (this.left !== 0)
      throw new Malformed(`${this.what}: ${this.left} stray bytes after ${fieldName(field, code)}`);
  }
  /** A whole vector of u16 values with a `size`-byte length, which must be even and non-empty. */
  u16s(size: 1 | 2, field: string): number[] {
    const r = this.vector(size, field, 2);
    if (r.left % 2) throw new Malformed(`${this.what}: ${field} has an odd length`);
    const out = new Array<number>(r.left / 2);
    const buf = this.buf;
    for (let i = 0, p = r.pos; i < out.length; i++, p += 2) out[i] = (buf[p]! << 8) | buf[p + 1]!;
    return out;
  }
  u8s(field: string): number[] {
    const r = this.vector(1, field, 1);
    const out = new Array<number>(r.left);
    for (let i = 0; i < out.length; i++) out[i] = this.buf[r.pos + i]!;
    return out;
  }
}

/** "extension 0x002b" for an extension's code, the bare field name otherwise. */
function fieldName(field: string, code: number): string {
  return code < 0 ? field : `${field} 0x${code.toString(16).padStart(4, '0')}`;
}

function parseMessage(message: Buffer, raw: Uint8Array): ClientHello {
  const r = new Reader(message, HANDSHAKE_HEADER, message.length, 'ClientHello');
  const legacyVersion = r.u16('legacy_version');
  if (legacyVersion >> 8 !== 0x03)
    throw new Malformed(`ClientHello: legacy_version 0x${legacyVersion.toString(16)}`);
  r.skip(32, 'random'); // random: never shown, nothing to keep
  const sid = r.vector(1, 'legacy_session_id');
  if (sid.left > 32) throw new Malformed(`ClientHello: legacy_session_id of ${sid.left} bytes, at most 32`);
  const sessionIdLength = sid.left;
  const cipherSuites = r.u16s(2, 'cipher_suites');
  const compressionMethods = r.u8s('legacy_compression_methods');
  const hello: ClientHello = {
    recordVersion: (raw[1]! << 8) | raw[2]!,
    records: 1,
    handshakeLength: message.length,
    legacyVersion,
    sessionIdLength,
    cipherSuites,
    compressionMethods,
    extensions: [],
    trailingBytes: 0,
  };
  // RFC 5246 7.4.1.2: a ClientHello may end here (no extensions block at all).
  if (r.left === 0) return hello;
  const exts = r.vector(2, 'extensions');
  r.done('extensions');
  const seen = new Set<number>();
  while (exts.left) {
    const type = exts.u16('extension type');
    const body = exts.vector(2, 'extension', 0, type);
    if (seen.has(type)) throw new Malformed(`ClientHello: ${fieldName('extension', type)} sent twice`);
    seen.add(type);
    hello.extensions.push({ type, length: body.left });
    readExtension(hello, type, body);
    // RFC 8446 4.2.11: pre_shared_key MUST be the last extension.
    if (type === 0x0029 && exts.left)
      throw new Malformed('ClientHello: pre_shared_key is not the last extension');
  }
  return hello;
}

function readExtension(hello: ClientHello, type: number, d: Reader): void {
  switch (type) {
    case 0x0000: {
      // An empty server_name is how a server acknowledges it; from a client it is malformed.
      const list = d.vector(2, 'server_name list', 1);
      d.done('server_name');
      while (list.left) {
        const nameType = list.u8('server_name type');
        const name = list.vector(2, 'server_name', 1);
        const value = name.bytes(name.left, 'server_name');
        if (nameType === 0 && hello.serverName === undefined) hello.serverName = value.toString('latin1');
      }
      return;
    }
    case 0x0010: {
      const list = d.vector(2, 'ALPN list', 2);
      d.done('ALPN');
      hello.alpn = [];
      // RFC 7301 3.1: empty protocol names are not allowed.
      while (list.left) {
        const p = list.vector(1, 'ALPN protocol', 1);
        hello.alpn.push(Buffer.from(p.bytes(p.left, 'ALPN protocol')));
      }
      return;
    }
    case 0x002b:
      hello.supportedVersions = d.u16s(1, 'supported_versions');
      break;
    case 0x000a:
      hello.supportedGroups = d.u16s(2, 'supported_groups');
      break;
    case 0x000d:
      hello.signatureAlgorithms = d.u16s(2, 'signature_algorithms');
      break;
    case 0x0032:
      hello.signatureAlgorithmsCert = d.u16s(2, 'signature_algorithms_cert');
      break;
    case 0x000b:
      hello.ecPointFormats = d.u8s('ec_point_formats');
      break;
    case 0x002d:
      hello.pskKeyExchangeModes = d.u8s('psk_key_exchange_modes');
      break;
    case 0x001b: {
      const r = d.vector(1, 'compress_certificate', 2);
      if (r.left % 2) throw new Malformed('ClientHello: compress_certificate has an odd length');
      hello.certCompression = [];
      while (r.left) hello.certCompression.push(r.u16('compress_certificate'));
      break;
    }
    case 0x0033: {
      // May be empty: a client asking for a HelloRetryRequest to pick the group.
      const list = d.vector(2, 'key_share');
      hello.keyShares = [];
      while (list.left) {
        const group = list.u16('key_share group');
        const key = list.vector(2, 'key_exchange', 1);
        hello.keyShares.push({ group, keyLength: key.left });
        key.skip(key.left, 'key_exchange');
      }
      break;
    }
    case 0x0029: {
      const ids = d.vector(2, 'PSK identities', 7);
      let n = 0;
      while (ids.left) {
        const id = ids.vector(2, 'PSK identity', 1);
        id.skip(id.left, 'PSK identity');
        ids.skip(4, 'obfuscated_ticket_age');
        n++;
      }
      const binders = d.vector(2, 'PSK binders', 33);
      let b = 0;
      while (binders.left) {
        const binder = binders.vector(1, 'PSK binder', 32);
        binder.skip(binder.left, 'PSK binder');
        b++;
      }
      if (b !== n) throw new Malformed(`ClientHello: ${n} PSK identities but ${b} binders`);
      hello.pskIdentities = n;
      break;
    }
    case 0x0023:
      hello.sessionTicketLength = d.left;
      d.skip(d.left, 'session_ticket');
      break;
    case 0xfe0d: {
      const kind = d.u8('ECHClientHello type');
      if (kind > 1) throw new Malformed(`ClientHello: ECHClientHello type ${kind}`);
      hello.ech = kind === 0 ? 'outer' : 'inner';
      d.skip(d.left, 'encrypted_client_hello');
      break;
    }
    case 0x002a:
      hello.earlyData = true;
      break;
    default:
      // Unknown or not interpreted: its type and length are recorded, its content skipped.
      d.skip(d.left, 'extension_data');
  }
  d.done('extension', type);
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}
