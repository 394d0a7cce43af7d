// Builds ClientHello records byte by byte, independently of the parser under test, so tests can
// state a ClientHello as lists (the spec's vectors) and mutate it.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { parseClientHello, type ClientHello, type ClientHelloResult } from '../../src/tls/client-hello.js';

export interface Ext {
  type: number;
  data: Buffer;
}

export interface HelloSpec {
  legacyVersion?: number;
  recordVersion?: number;
  sessionId?: Buffer;
  ciphers: number[];
  compression?: number[];
  /** undefined: no extensions block at all (a TLS 1.0-era hello). */
  extensions?: Ext[];
  /** Split the handshake message into records of at most this many bytes. */
  recordSize?: number;
}

const u16 = (n: number) => Buffer.from([n >> 8, n & 0xff]);
const vec8 = (b: Buffer) => Buffer.concat([Buffer.from([b.length]), b]);
const vec16 = (b: Buffer) => Buffer.concat([u16(b.length), b]);
const u16list = (values: number[]) => Buffer.concat(values.map(u16));

export const ext = {
  raw: (type: number, data: Buffer = Buffer.alloc(0)): Ext => ({ type, data }),
  sni: (name: string): Ext => ({
    type: 0x0000,
    data: vec16(Buffer.concat([Buffer.from([0]), vec16(Buffer.from(name, 'latin1'))])),
  }),
  alpn: (protocols: (string | Buffer)[]): Ext => ({
    type: 0x0010,
    data: vec16(Buffer.concat(protocols.map((p) => vec8(typeof p === 'string' ? Buffer.from(p) : p)))),
  }),
  versions: (v: number[]): Ext => ({ type: 0x002b, data: vec8(u16list(v)) }),
  groups: (g: number[]): Ext => ({ type: 0x000a, data: vec16(u16list(g)) }),
  sigalgs: (s: number[]): Ext => ({ type: 0x000d, data: vec16(u16list(s)) }),
  keyShare: (shares: { group: number; length: number }[]): Ext => ({
    type: 0x0033,
    data: vec16(
      Buffer.concat(shares.map((s) => Buffer.concat([u16(s.group), vec16(randomBytes(s.length))]))),
    ),
  }),
  pointFormats: (f: number[]): Ext => ({ type: 0x000b, data: vec8(Buffer.from(f)) }),
  pskModes: (m: number[]): Ext => ({ type: 0x002d, data: vec8(Buffer.from(m)) }),
  compressCert: (a: number[]): Ext => ({ type: 0x001b, data: vec8(u16list(a)) }),
  psk: (identities: number): Ext => {
    const ids = Array.from({ length: identities }, () =>
      Buffer.concat([vec16(randomBytes(40)), randomBytes(4)]),
    );
    const binders = Array.from({ length: identities }, () => vec8(randomBytes(32)));
    return { type: 0x0029, data: Buffer.concat([vec16(Buffer.concat(ids)), vec16(Buffer.concat(binders))]) };
  },
  ech: (): Ext => ({ type: 0xfe0d, data: Buffer.concat([Buffer.from([0]), randomBytes(60)]) }),
};

/** The handshake message: type 1, 24-bit length, body. */
export function helloMessage(spec: HelloSpec): Buffer {
  const parts = [
    u16(spec.legacyVersion ?? 0x0303),
    randomBytes(32),
    vec8(spec.sessionId ?? randomBytes(32)),
    vec16(u16list(spec.ciphers)),
    vec8(Buffer.from(spec.compression ?? [0])),
  ];
  if (spec.extensions) {
    parts.push(vec16(Buffer.concat(spec.extensions.map((e) => Buffer.concat([u16(e.type), vec16(e.data)])))));
  }
  const body = Buffer.concat(parts);
  return Buffer.concat([
    Buffer.from([1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]),
    body,
  ]);
}

/** The message wrapped in handshake records, as a client writes it. */
export function records(message: Buffer, recordSize = 16384, recordVersion = 0x0301): Buffer {
  const out: Buffer[] = [];
  for (let at = 0; at < message.length; at += recordSize) {
    const frag = message.subarray(at, at + recordSize);
    out.push(
      Buffer.from([0x16, recordVersion >> 8, recordVersion & 0xff, frag.length >> 8, frag.length & 0xff]),
      frag,
    );
  }
  return Buffer.concat(out);
}

export function buildClientHello(spec: HelloSpec): Buffer {
  return records(helloMessage(spec), spec.recordSize, spec.recordVersion);
}

/** The JA4 spec's example (technical_details/JA4.md), each extension with plausible content. */
export function ja4SpecHello(): HelloSpec {
  const hex = (s: string) => s.split(',').map((h) => Number.parseInt(h, 16));
  const byType: Record<number, Ext> = {
    0x001b: ext.compressCert([2]),
    0x0000: ext.sni('example.com'),
    0x0033: ext.keyShare([{ group: 0x001d, length: 32 }]),
    0x0010: ext.alpn(['h2', 'http/1.1']),
    0x4469: ext.raw(0x4469, Buffer.from([0, 3, 2, 0x68, 0x32])),
    0x0017: ext.raw(0x0017),
    0x002d: ext.pskModes([1]),
    0x000d: ext.sigalgs(hex('0403,0804,0401,0503,0805,0501,0806,0601')),
    0x0005: ext.raw(0x0005, Buffer.from([1, 0, 0, 0, 0])),
    0x0023: ext.raw(0x0023),
    0x0012: ext.raw(0x0012),
    0x002b: ext.versions([0x0304, 0x0303]),
    0xff01: ext.raw(0xff01, Buffer.from([0])),
    0x000b: ext.pointFormats([0]),
    0x000a: ext.groups([0x001d, 0x0017, 0x0018]),
    0x0015: ext.raw(0x0015, Buffer.alloc(100)),
  };
  return {
    ciphers: hex('1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035'),
    extensions: hex('001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015').map(
      (t) => byType[t]!,
    ),
  };
}

/** The ClientHello of a parse result; a test given an unparsed one fails with its reason. */
export function parsedOf(r: ClientHelloResult, context = 'unparsed'): ClientHello {
  assert.ok('parsed' in r, `${context}: ${'unparsed' in r ? r.unparsed : ''}`);
  return r.parsed;
}

/** `spec` built into bytes and read back by the parser under test. */
export const parsedSpec = (spec: HelloSpec): ClientHello =>
  parsedOf(parseClientHello(buildClientHello(spec)));
