// Name constraints (RFC 5280 4.2.1.10): a root made with them can only vouch for the permitted DNS
// names and IP ranges, so installing it does not let it sign for anyone's bank. OpenSSL, Go,
// Node and Chromium enforce them on every chain; the CA also refuses to issue outside them, so
// a mistake shows at issue time rather than as a handshake error.
import 'reflect-metadata'; // before @peculiar/x509, whose dependency injection needs it
import { isIP } from 'node:net';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  GeneralName,
  GeneralSubtree,
  GeneralSubtrees,
  id_ce_nameConstraints,
  NameConstraints,
} from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { CommandError, UsageError } from '../config/errors.js';
import { canonicalName, validateDnsName } from './names.js';

export interface Cidr {
  /** Network address in canonical text form (host bits cleared). */
  address: string;
  prefix: number;
  family: 4 | 6;
}

export interface Constraints {
  /** Permitted DNS subtrees: the name itself and every name under it. */
  dns: string[];
  /** Permitted IP ranges. None means no IP address at all (see toExtension). */
  ip: Cidr[];
}

function bytesOf(ip: string): number[] {
  if (isIP(ip) === 4) return ip.split('.').map(Number);
  const [head = '', tail] = ip.split('::');
  const groups = (s: string) => (s ? s.split(':') : []);
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const all = tail === undefined ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  return all.flatMap((g) => [parseInt(g, 16) >> 8, parseInt(g, 16) & 0xff]);
}

function textOf(bytes: number[]): string {
  if (bytes.length === 4) return bytes.join('.');
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return canonicalName(groups.join(':'));
}

function masked(bytes: number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return b & ((0xff << (8 - bits)) & 0xff);
  });
}

/** `127.0.0.0/8`, `::1/128`, or a bare address (one host). */
function parseCidr(text: string, what = 'name constraint'): Cidr {
  const [addr = '', prefixText, extra] = text.split('/');
  const family = isIP(addr);
  const bad = (why: string) => new UsageError(`invalid ${what} ${JSON.stringify(text)}: ${why}`);
  if (extra !== undefined || (family !== 4 && family !== 6)) throw bad('not an IP address or range');
  if (addr.includes('%')) throw bad('an address with a zone (drop the %…)');
  const max = family === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText ?? `${max}`) || prefix > max)
    throw bad(`prefix length must be 0 to ${max}`);
  return { address: textOf(masked(bytesOf(addr), prefix)), prefix, family };
}

/**
 * Parses `--name-constraints` items: IP ranges (anything with a '/' or that is an address) and
 * DNS names (a leading '.' is accepted and dropped: a subtree always includes its subdomains).
 */
export function parseConstraints(items: string[]): Constraints {
  const dns: string[] = [];
  const ip: Cidr[] = [];
  for (const raw of items) {
    const item = raw.trim();
    if (item.includes('/') || isIP(item)) ip.push(parseCidr(item));
    else {
      if (item.includes('*'))
        throw new UsageError(
          `invalid name constraint ${JSON.stringify(raw)}: no wildcards; 'example.test' already permits every name under it`,
        );
      dns.push(validateDnsName(item.replace(/^\./, '')));
    }
  }
  if (dns.length === 0)
    throw new UsageError(
      '--name-constraints needs at least one DNS name (e.g. localhost): without one every DNS name would be permitted',
    );
  return { dns: [...new Set(dns)], ip };
}

/** Text form for messages and the trust report, e.g. `tlsecho.test, localhost, 127.0.0.0/8`. */
export function formatConstraints(c: Constraints): string {
  const ips = c.ip.length ? c.ip.map((r) => `${r.address}/${r.prefix}`) : ['no IP addresses'];
  return [...c.dns, ...ips].join(', ');
}

/**
 * The critical extension. Without permitted IP ranges, all of 0.0.0.0/0 and ::/0 are excluded:
 * RFC 5280 leaves a name type without a permitted subtree unconstrained, which would let the
 * root vouch for any IP address.
 */
export function toExtension(c: Constraints): x509.Extension {
  const subtree = (base: GeneralName) => new GeneralSubtree({ base });
  const permitted = [
    ...c.dns.map((d) => subtree(new GeneralName({ dNSName: d }))),
    ...c.ip.map((r) => subtree(new GeneralName({ iPAddress: `${r.address}/${r.prefix}` }))),
  ];
  const excluded = c.ip.length
    ? []
    : ['0.0.0.0/0', '::/0'].map((r) => subtree(new GeneralName({ iPAddress: r })));
  const nc = new NameConstraints({
    permittedSubtrees: new GeneralSubtrees(permitted),
    ...(excluded.length ? { excludedSubtrees: new GeneralSubtrees(excluded) } : {}),
  });
  return new x509.Extension(id_ce_nameConstraints, true, AsnConvert.serialize(nc));
}

/** asn1-x509 hands back IP subtrees as `a.b.c.d/n`, `::/0`, or (IPv6) 64 hex digits of address and mask. */
function cidrOfAsn(text: string): Cidr {
  if (/^[0-9a-f]{64}$/i.test(text)) {
    const bytes = (text.match(/../g) ?? []).map((h) => parseInt(h, 16));
    const prefix = bytes.slice(16).reduce((n, b) => n + b.toString(2).replace(/0/g, '').length, 0);
    return { address: textOf(masked(bytes.slice(0, 16), prefix)), prefix, family: 6 };
  }
  return parseCidr(text, 'name constraint in certificate');
}

export interface CertConstraints {
  permitted: Constraints;
  excludedIp: Cidr[];
}

/** The name constraints of a certificate, or undefined when it has none. */
export function constraintsOf(certPem: string): CertConstraints | undefined {
  const ext = new x509.X509Certificate(certPem).getExtension(id_ce_nameConstraints);
  if (!ext) return undefined;
  const nc = AsnConvert.parse(ext.value, NameConstraints);
  const dns: string[] = [];
  const ip: Cidr[] = [];
  for (const s of nc.permittedSubtrees ?? []) {
    if (s.base.dNSName !== undefined) dns.push(s.base.dNSName.toLowerCase());
    if (s.base.iPAddress !== undefined) ip.push(cidrOfAsn(s.base.iPAddress));
  }
  const excludedIp = [...(nc.excludedSubtrees ?? [])]
    .filter((s) => s.base.iPAddress !== undefined)
    .map((s) => cidrOfAsn(s.base.iPAddress!));
  return { permitted: { dns, ip }, excludedIp };
}

function inRange(ip: string, r: Cidr): boolean {
  const family = isIP(ip);
  if (family !== r.family) return false;
  return textOf(masked(bytesOf(ip), r.prefix)) === r.address;
}

function dnsPermitted(name: string, subtrees: string[]): boolean {
  const n = name.replace(/^\*\./, '');
  return subtrees.some((s) => n === s || n.endsWith(`.${s}`));
}

/** Whether a name (DNS or IP) lies inside the constraints, as a verifier would decide. */
function permits(c: CertConstraints, name: string): boolean {
  if (isIP(name)) {
    if (c.excludedIp.some((r) => inRange(name, r))) return false;
    return c.permitted.ip.length === 0 || c.permitted.ip.some((r) => inRange(name, r));
  }
  return c.permitted.dns.length === 0 || dnsPermitted(name, c.permitted.dns);
}

/** Throws one line naming the first name outside the constraints of any CA of the chain. */
export function checkNames(caPems: string[], names: string[]): void {
  for (const pem of caPems) {
    const c = constraintsOf(pem);
    if (!c) continue;
    const outside = names.find((n) => !permits(c, n));
    if (outside !== undefined)
      throw new CommandError(
        `${outside} is outside the CA's name constraints (${formatConstraints(c.permitted)}); ` +
          'issue it from another CA folder (--out)',
      );
  }
}

export function sameConstraints(a: Constraints, b: Constraints): boolean {
  const key = (c: Constraints) =>
    JSON.stringify([[...c.dns].sort(), c.ip.map((r) => `${r.address}/${r.prefix}`).sort()]);
  return key(a) === key(b);
}
