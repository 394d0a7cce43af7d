// The failure lab's names: one classic TLS failure per name (after badssl.com), what a correct
// client must do on each, and the reason tlsecho's own client gives (src/client/failures.ts).
// Shared by `tlsecho ca lab` (issues them), `tlsecho server --lab` (serves them) and
// `tlsecho lab check` (judges a client on them); the first label of a folder names its kind.

export const LAB_KINDS = [
  'good',
  'expired',
  'not-yet-valid',
  'wrong-name',
  'untrusted',
  'self-signed',
  'client-cert',
  'tls12',
  'incomplete-chain',
] as const;
export type LabKind = (typeof LAB_KINDS)[number];

export interface LabCase {
  kind: LabKind;
  /** What a correct client must do, as the verdict table says it. */
  mustDo: string;
  /** True when a correct client connects; false when it must refuse. */
  connects: boolean;
  /** The reason tlsecho's client must give (describeFailure().reason), when it refuses. */
  reason?: string;
  /** What the name teaches, in a few words. */
  teaches: string;
}

const UNKNOWN_CA = 'certificate not issued by the trusted CA (unknown CA)';

export const LAB_CASES: Record<LabKind, LabCase> = {
  good: { kind: 'good', mustDo: 'connect', connects: true, teaches: 'the control: everything right' },
  expired: {
    kind: 'expired',
    mustDo: 'refuse: expired',
    connects: false,
    reason: 'certificate expired',
    teaches: 'validity dates are checked (notAfter in the past)',
  },
  'not-yet-valid': {
    kind: 'not-yet-valid',
    mustDo: 'refuse: not yet valid',
    connects: false,
    reason: 'certificate not yet valid',
    teaches: 'notBefore in the future (or a client clock behind)',
  },
  'wrong-name': {
    kind: 'wrong-name',
    mustDo: 'refuse: name mismatch',
    connects: false,
    reason: 'name not in certificate',
    teaches: 'the name asked for must be in subjectAltName',
  },
  untrusted: {
    kind: 'untrusted',
    mustDo: 'refuse: unknown CA',
    connects: false,
    reason: UNKNOWN_CA,
    teaches: 'a valid chain to a root the client does not trust',
  },
  'self-signed': {
    kind: 'self-signed',
    mustDo: 'refuse: self-signed',
    connects: false,
    reason: 'self-signed certificate, not issued by the trusted CA',
    teaches: 'a certificate that vouches for itself',
  },
  'client-cert': {
    kind: 'client-cert',
    mustDo: 'fail: client certificate required',
    connects: false,
    reason: 'server requires a client certificate',
    teaches: 'mutual TLS: the server refuses a client without a certificate',
  },
  tls12: {
    kind: 'tls12',
    mustDo: 'connect (TLS 1.2)',
    connects: true,
    teaches: 'version negotiation: the server offers TLS 1.2 at most',
  },
  'incomplete-chain': {
    kind: 'incomplete-chain',
    mustDo: 'refuse: incomplete chain',
    connects: false,
    reason: UNKNOWN_CA,
    teaches: 'the server must send its intermediate; clients do not guess it',
  },
};

/** The lab kind a folder or host name stands for (its first label), if any. */
export function labKindOf(name: string): LabKind | undefined {
  const first = name.split('.')[0] ?? '';
  return (LAB_KINDS as readonly string[]).includes(first) ? (first as LabKind) : undefined;
}

/** The lab's host names under a domain, in the order above. */
export function labNames(domain: string): string[] {
  return LAB_KINDS.map((k) => `${k}.${domain}`);
}
