// Certificate names: validation of the names a certificate is issued for (DNS names, RFC 1123,
// with an optional leading wildcard label, and IP addresses), matching them, and who issued it.
// Names are lowercased, as browsers and Go compare them.
import type { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { UsageError } from '../config/errors.js';

const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Returns the lowercase DNS name, or throws a one-line error saying what is wrong with it. */
export function validateDnsName(input: string): string {
  const name = input.trim().toLowerCase().replace(/\.$/, '');
  const bad = (why: string) => new UsageError(`invalid DNS name ${JSON.stringify(input)}: ${why}`);
  if (name.length === 0) throw bad('empty');
  if (name.length > 253) throw bad(`${name.length} characters, more than 253`);
  if (isIP(name)) throw bad('an IP address; give it with --ip-addresses');
  const labels = name.split('.');
  labels.forEach((label, i) => {
    if (label === '') throw bad('empty label');
    if (label === '*') {
      if (i !== 0) throw bad('a wildcard is only allowed as the leftmost label');
      if (labels.length < 3) throw bad('a wildcard needs at least two labels after it');
      return;
    }
    if (label.length > 63) throw bad(`label '${label.slice(0, 16)}…' is longer than 63 characters`);
    if (!LABEL.test(label)) {
      const ch = [...label].find((c) => !/[a-z0-9-]/.test(c));
      throw bad(
        ch ? `character ${JSON.stringify(ch)} is not allowed` : `label '${label}' starts or ends with '-'`,
      );
    }
  });
  return name;
}

/** Returns the IP address in canonical form, or throws. */
export function validateIp(input: string): string {
  const ip = input.trim().replace(/^\[(.*)\]$/, '$1');
  if (!isIP(ip)) throw new UsageError(`invalid IP address ${JSON.stringify(input)}`);
  if (ip.includes('%'))
    throw new UsageError(
      `IP address ${JSON.stringify(input)} has a zone; a certificate holds the address alone (drop the %…)`,
    );
  return canonicalName(ip);
}

/** minica's folder name for a leaf: its first name, with '*' made filesystem-safe. */
export function folderName(firstName: string): string {
  return firstName.replace(/\*/g, '_').replace(/:/g, '_');
}

/**
 * A name as certificates and clients are compared by: lowercase, IPv6 in its RFC 5952 short form
 * (`::1`; Node prints IPv6 SAN entries in full, `0:0:0:0:0:0:0:1`, and the URL parser compresses).
 */
export function canonicalName(name: string): string {
  const n = name.toLowerCase();
  if (isIP(n) !== 6) return n;
  // net.isIP takes a zone (fe80::1%eth0), the URL parser refuses it, and no certificate names
  // one: such a name (a client's SNI or Host may be one) stays as it is and matches nothing.
  if (n.includes('%')) return n;
  return new URL(`http://[${n}]/`).hostname.slice(1, -1);
}

/** The DNS names and IP addresses of a certificate's subjectAltName, in canonical form. */
export function certNames(cert: X509Certificate): string[] {
  return (cert.subjectAltName ?? '')
    .split(', ')
    .map((s) => s.replace(/^(DNS:|IP Address:)/, ''))
    .filter((s) => s.length > 0)
    .map(canonicalName);
}

/**
 * The certificate name (of `exact`, canonical names) a host matches: itself, or a wildcard one
 * label up (RFC 6125: the wildcard stands for exactly one left-most label, never in an IP).
 */
export function matchingName(exact: ReadonlySet<string>, host: string): string | undefined {
  // A name already in canonical form needs no canonicalising: this runs for every connection's SNI.
  if (exact.has(host)) return host;
  const s = canonicalName(host);
  if (exact.has(s)) return s;
  const dot = s.indexOf('.');
  if (dot <= 0 || isIP(s)) return undefined;
  const wildcard = `*${s.slice(dot)}`;
  return exact.has(wildcard) ? wildcard : undefined;
}

/** Whether `issuer` signed `cert`: its name is the issuer's and the signature checks out. */
export function issuedBy(cert: X509Certificate, issuer: X509Certificate): boolean {
  return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}
