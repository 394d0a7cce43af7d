// `tlsecho ca sign --csr FILE`: a certificate for a key that never leaves its owner (a CSR from
// `openssl req -new`, a Java keystore, a hardware token). The CSR's signature proves its maker
// holds the key; its names (SAN, else CN) get the same checks and leaf profile as `tlsecho ca`.
import 'reflect-metadata'; // before @peculiar/x509, whose dependency injection needs it
import { createPublicKey } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { resolve } from 'node:path';
import * as x509 from '@peculiar/x509';
import { CommandError, UsageError } from '../config/errors.js';
import { prepareAuthority } from './authority.js';
import { checkNames } from './constraints.js';
import { describe, MAX_LEAF_DAYS, signLeaf, type KeyAlg } from './issue.js';
import { validateDnsName, validateIp } from './names.js';
import { writeAllOrNothing } from './store.js';

export interface SignRequest {
  out: string;
  csrFile: string;
  /** Where the certificate (leaf + intermediate) goes; undefined: standard output. */
  certOut?: string;
  days?: number;
  force?: boolean;
  alg?: KeyAlg;
  rsaBits?: number;
}

export interface SignResult {
  certPem: string;
  names: string[];
  validTo: Date;
  certOut?: string;
}

function readCsr(path: string): x509.Pkcs10CertificateRequest {
  let data: Buffer;
  try {
    data = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CommandError(
      `cannot read --csr ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? err)}`,
    );
  }
  try {
    const text = data.toString('latin1');
    return new x509.Pkcs10CertificateRequest(text.includes('-----BEGIN') ? text : data);
  } catch {
    throw new CommandError(
      `--csr ${path} is not a certificate request (expected PEM "BEGIN CERTIFICATE REQUEST" or DER)`,
    );
  }
}

/** The CSR's names: its subjectAltName extension, else its CN (which may be an IP address). */
function namesOf(csr: x509.Pkcs10CertificateRequest, path: string): { dns: string[]; ip: string[] } {
  const san = csr.extensions.find((e) => e instanceof x509.SubjectAlternativeNameExtension);
  const dns: string[] = [];
  const ip: string[] = [];
  if (san) {
    for (const n of san.names.items) {
      if (n.type === 'dns') dns.push(validateDnsName(n.value));
      else if (n.type === 'ip') ip.push(validateIp(n.value));
      else
        throw new CommandError(
          `--csr ${path} asks for a ${n.type} name; only DNS names and IP addresses are issued`,
        );
    }
  } else {
    const cn = csr.subjectName.getField('CN')[0];
    if (cn === undefined)
      throw new CommandError(
        `--csr ${path} names nothing: it has neither a subjectAltName extension nor a CN`,
      );
    if (isIP(cn.replace(/^\[(.*)\]$/, '$1'))) ip.push(validateIp(cn));
    else dns.push(validateDnsName(cn));
  }
  return { dns, ip };
}

/** Accepts the keys the leaf profile is tested with: EC P-256/P-384 and RSA of 2048 bits or more. */
function checkKey(csr: x509.Pkcs10CertificateRequest, path: string): void {
  const key = createPublicKey({ key: Buffer.from(csr.publicKey.rawData), format: 'der', type: 'spki' });
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa' && (d.modulusLength ?? 0) >= 2048) return;
  if (key.asymmetricKeyType === 'ec' && (d.namedCurve === 'prime256v1' || d.namedCurve === 'secp384r1'))
    return;
  const what =
    key.asymmetricKeyType === 'rsa'
      ? `RSA-${d.modulusLength}`
      : `${key.asymmetricKeyType} ${d.namedCurve ?? ''}`.trim();
  throw new CommandError(
    `--csr ${path} has a ${what} key; use RSA of 2048 bits or more, or EC P-256 or P-384`,
  );
}

export async function signCsr(req: SignRequest): Promise<SignResult> {
  const path = resolve(req.csrFile);
  if (req.certOut && existsSync(req.certOut) && !req.force)
    throw new CommandError(`${req.certOut} already exists (use --force to replace it)`);
  const csr = readCsr(path);
  // An unsupported or malformed signature algorithm throws; that is no valid signature either.
  const valid = await csr.verify().catch(() => false);
  if (!valid)
    throw new CommandError(
      `--csr ${path}: bad signature (the request was not signed by the key it carries); make the CSR again`,
    );
  checkKey(csr, path);
  const { dns, ip } = namesOf(csr, path);
  if (dns.length + ip.length === 0) throw new UsageError(`--csr ${path} names nothing`);

  const ca = await prepareAuthority({ out: req.out, alg: req.alg, rsaBits: req.rsaBits });
  checkNames([ca.root.certPem, ...ca.chain], [...dns, ...ip]);
  const leafPem = await signLeaf({
    issuer: ca.issuer,
    dnsNames: dns,
    ipAddresses: ip,
    usage: 'server',
    days: req.days ?? MAX_LEAF_DAYS,
    publicKey: await csr.publicKey.export(),
  });
  const certPem = [leafPem, ...ca.chain].join('');
  writeAllOrNothing([
    ...ca.pending,
    ...(req.certOut ? [{ path: req.certOut, data: certPem, secret: false }] : []),
  ]);
  return { certPem, names: [...dns, ...ip], validTo: describe(leafPem).validTo, certOut: req.certOut };
}
