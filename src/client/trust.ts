// Which root the client trusts: exactly the one in --ca-file, or the one the server publishes at
// /root_ca over plain HTTP, accepted only if it matches --ca-fingerprint (as `step ca bootstrap`
// does) or, without a pin, on first use with a warning. Either way it must be a CA certificate.
import { X509Certificate } from 'node:crypto';
import { fingerprintOfPem, normalizeFingerprint, type Fingerprint } from '../ca/fingerprint.js';
import { issuedBy } from '../ca/names.js';
import { pemCertificates } from '../ca/pem.js';
import { CommandError, UsageError } from '../config/errors.js';
import { readUserFile } from '../config/user-file.js';
import { RequestFailure } from './failures.js';
import { httpGet, type GetOptions } from './http.js';
import type { ResolveFn } from './resolve.js';

export interface TrustedRoot {
  pem: string;
  fingerprint: Fingerprint;
  subject: string;
  /** Where it came from, for messages: a file path or the /root_ca URL. */
  source: string;
  pinned: boolean;
}

/** Parses a --ca-fingerprint value: what `tlsecho ca fingerprint` or openssl prints, or plain hex. */
export function parsePin(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  const hex = normalizeFingerprint(text);
  if (!hex)
    throw new UsageError(
      `invalid --ca-fingerprint: expected a SHA-256 fingerprint as 'tlsecho ca fingerprint' or ` +
        `'openssl x509 -fingerprint -sha256' prints it (64 hex digits, colons optional), got '${text}'`,
    );
  return hex;
}

/** Checks that `pem` is exactly one self-signed CA certificate matching the pin, if any. */
export function acceptRoot(pem: string, source: string, pin: string | undefined): TrustedRoot {
  const blocks = pemCertificates(pem);
  if (blocks.length !== 1)
    throw new CommandError(
      `${source} must hold exactly one PEM certificate (the root CA), found ${blocks.length}`,
    );
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(blocks[0]!);
  } catch {
    throw new CommandError(`${source} is not a valid PEM certificate`);
  }
  const fingerprint = fingerprintOfPem(blocks[0]!);
  if (pin && fingerprint.hex !== pin)
    throw new CommandError(
      `root CA from ${source} has SHA-256 fingerprint ${fingerprint.colon}, but --ca-fingerprint is ` +
        `${colon(pin)}: refusing to trust it (no request was made)`,
    );
  if (!cert.ca)
    throw new CommandError(`${source} is not a CA certificate (basicConstraints CA:TRUE missing)`);
  if (!issuedBy(cert, cert)) throw new CommandError(`${source} is not a self-signed root certificate`);
  return { pem: blocks[0]!, fingerprint, subject: cert.subject.replace(/\n/g, ', '), source, pinned: !!pin };
}

export function loadCaFile(path: string, pin: string | undefined): TrustedRoot {
  return acceptRoot(readUserFile(path, '--ca-file', { pem: 'certificate' }), path, pin);
}

/** One attempt at GET /root_ca; a server that is not up yet surfaces as an `unavailable` failure. */
export async function fetchRootPem(url: URL, resolve: ResolveFn, o: GetOptions): Promise<string> {
  const name = url.hostname.replace(/^\[|\]$/g, '');
  const { address } = await resolve(name);
  const port = Number(url.port || 80);
  const res = await httpGet({ name, address, port }, `${url.pathname}${url.search}`, {
    ...o,
    accept: 'application/x-pem-file',
  });
  if (res.status !== 200)
    throw new RequestFailure({
      reason: `HTTP ${res.status} from ${url.href}`,
      // 5xx and 404 while a server starts up are worth waiting out; other answers are not.
      unavailable: res.status >= 500 || res.status === 404,
    });
  return res.body;
}

/** The default /root_ca URL: the first server name on the plain-HTTP port. */
export function defaultCaUrl(firstName: string, httpPort: number): URL {
  const host = firstName.includes(':') ? `[${firstName}]` : firstName;
  return new URL(`http://${host}:${httpPort}/root_ca`);
}

export function parseCaUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`invalid --ca-url: '${text}' is not a URL`);
  }
  // Plain HTTP is fine here only because the pin (or the TOFU warning) is what establishes trust.
  if (url.protocol !== 'http:')
    throw new UsageError(`invalid --ca-url: '${text}' must be an http:// URL (the server's plain-HTTP port)`);
  return url;
}

function colon(hex: string): string {
  return hex.toUpperCase().match(/../g)!.join(':');
}
