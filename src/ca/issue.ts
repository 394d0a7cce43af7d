// The certificate profiles: a root CA and leaf certificates that OpenSSL (-x509_strict), Node,
// Go, Chromium and Firefox all accept. Keys are made and certificates signed through WebCrypto
// with @peculiar/x509; nothing here touches the disk.
import 'reflect-metadata'; // @peculiar/x509's dependency injection needs the Reflect polyfill
import { randomBytes, webcrypto, X509Certificate as NodeX509 } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

export type KeyAlg = 'ecdsa' | 'rsa';

export interface KeyMaterial {
  keys: webcrypto.CryptoKeyPair;
  /** PKCS#8 PEM of the private key. */
  keyPem: string;
  alg: KeyAlg;
}

export interface Issued {
  certPem: string;
  keyPem: string;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
/** Certificates start a few minutes in the past so that clocks a little behind accept them. */
const BACKDATE = 5 * MINUTE;
const ROOT_DAYS = 3650;
/** The CA/Browser Forum limit that Apple and Chromium enforce for leaf certificates. */
export const MAX_LEAF_DAYS = 397;

function algorithms(alg: KeyAlg, rsaBits: number) {
  return alg === 'ecdsa'
    ? { gen: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } }
    : {
        gen: {
          name: 'RSASSA-PKCS1-v1_5',
          modulusLength: rsaBits,
          publicExponent: new Uint8Array([1, 0, 1]),
          hash: 'SHA-256',
        },
        sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
      };
}

/**
 * PEM text that ends with a newline, as OpenSSL writes it: @peculiar/x509 leaves the last line
 * open, and `cat cert.pem minica.pem` then glues two armour lines into one that no reader parses.
 */
export function pemText(pem: string): string {
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

/** The signature algorithm a key of this kind signs with (what certificates it issues carry). */
export function signingAlgorithm(alg: KeyAlg) {
  return algorithms(alg, 2048).sign;
}

export async function generateKey(alg: KeyAlg, rsaBits = 2048): Promise<KeyMaterial> {
  const keys = (await webcrypto.subtle.generateKey(algorithms(alg, rsaBits).gen, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { keys, alg, keyPem: pemText(x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')) };
}

/** Imports a PEM private key (PKCS#8, or the SEC1/PKCS#1 forms other tools write) for signing. */
export async function importKey(keyPem: string): Promise<KeyMaterial> {
  const { createPrivateKey, createPublicKey } = await import('node:crypto');
  const key = createPrivateKey(keyPem);
  const type = key.asymmetricKeyType;
  if (type !== 'ec' && type !== 'rsa') throw new Error(`unsupported key type ${type}`);
  const alg: KeyAlg = type === 'ec' ? 'ecdsa' : 'rsa';
  if (alg === 'ecdsa' && key.asymmetricKeyDetails?.namedCurve !== 'prime256v1')
    throw new Error(`unsupported EC curve ${key.asymmetricKeyDetails?.namedCurve}; P-256 expected`);
  const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const { gen } = algorithms(alg, key.asymmetricKeyDetails?.modulusLength ?? 2048);
  const privateKey = await webcrypto.subtle.importKey('pkcs8', pkcs8, gen, false, ['sign']);
  const publicKey = await webcrypto.subtle.importKey('spki', spki, gen, true, ['verify']);
  return {
    keys: { privateKey, publicKey } as webcrypto.CryptoKeyPair,
    alg,
    keyPem: pemText(x509.PemConverter.encode(pkcs8, 'PRIVATE KEY')),
  };
}

/** A random positive 16-byte serial whose DER encoding needs no padding byte. */
export function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x01;
  return bytes.toString('hex');
}

export interface RootOptions {
  alg: KeyAlg;
  rsaBits?: number;
  days?: number;
  now?: Date;
  /** 0 (minica's): the root signs leaves only; 1: it may sign one intermediate tier. */
  pathLength?: 0 | 1;
  /** E.g. name constraints; added to the standard CA extensions. */
  extensions?: x509.Extension[];
}

/** A CA that signs: its certificate and key. */
export interface Signer {
  certPem: string;
  key: KeyMaterial;
}

function caExtensions(pathLength: number) {
  return [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
}

export async function createRoot(opts: RootOptions): Promise<Issued & { key: KeyMaterial }> {
  const key = await generateKey(opts.alg, opts.rsaBits);
  const now = opts.now ?? new Date();
  // A unique subject, as minica does, so that two roots made on two machines never collide in
  // a trust store that looks certificates up by subject.
  const id = randomBytes(3).toString('hex');
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: [{ CN: [`tlsecho root CA ${id}`] }, { O: ['tlsecho'] }],
    notBefore: new Date(now.getTime() - BACKDATE),
    notAfter: new Date(now.getTime() + (opts.days ?? ROOT_DAYS) * DAY),
    signingAlgorithm: algorithms(opts.alg, opts.rsaBits ?? 2048).sign,
    keys: key.keys,
    extensions: [
      ...caExtensions(opts.pathLength ?? 0),
      ...(opts.extensions ?? []),
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
    ],
  });
  return { certPem: pemText(cert.toString('pem')), keyPem: key.keyPem, key };
}

/** An intermediate lives at most this long, and never past its root. */
const INTERMEDIATE_DAYS = 1825;

export interface IntermediateOptions {
  root: Signer;
  days?: number;
  now?: Date;
  extensions?: x509.Extension[];
}

/** A CA:TRUE, pathlen:0 intermediate signed by the root, with a key of the root's algorithm. */
export async function createIntermediate(opts: IntermediateOptions): Promise<Issued & { key: KeyMaterial }> {
  const { root } = opts;
  const rootCert = new x509.X509Certificate(root.certPem);
  const key = await generateKey(root.key.alg, rsaBitsOf(root));
  const now = opts.now ?? new Date();
  const id = randomBytes(3).toString('hex');
  const notAfter = Math.min(
    now.getTime() + (opts.days ?? INTERMEDIATE_DAYS) * DAY,
    rootCert.notAfter.getTime(),
  );
  const ski = rootCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [`tlsecho intermediate CA ${id}`] }, { O: ['tlsecho'] }],
    issuer: rootCert.subject,
    notBefore: new Date(now.getTime() - BACKDATE),
    notAfter: new Date(notAfter),
    signingAlgorithm: algorithms(root.key.alg, 2048).sign,
    publicKey: key.keys.publicKey,
    signingKey: root.key.keys.privateKey,
    extensions: [
      ...caExtensions(0),
      ...(opts.extensions ?? []),
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
      ...(ski ? [new x509.AuthorityKeyIdentifierExtension(ski.keyId, false)] : []),
    ],
  });
  return { certPem: pemText(cert.toString('pem')), keyPem: key.keyPem, key };
}

function rsaBitsOf(ca: Signer): number {
  const alg = ca.key.keys.publicKey.algorithm as { modulusLength?: number };
  return alg.modulusLength ?? 2048;
}

/** The pathLenConstraint of a CA certificate (undefined: none, or not a CA). */
export function pathLengthOf(certPem: string): number | undefined {
  return new x509.X509Certificate(certPem).getExtension(x509.BasicConstraintsExtension)?.pathLength;
}

export interface LeafOptions {
  /** The signing CA: the root, or the intermediate of a two-tier PKI. No name checks here. */
  issuer: Signer;
  dnsNames: string[];
  ipAddresses: string[];
  /** Subject common name; defaults to the first name. */
  commonName?: string;
  usage: 'server' | 'client';
  days?: number;
  now?: Date;
  /** Explicit validity (the failure lab's expired and not-yet-valid names); default from now/days. */
  notBefore?: Date;
  notAfter?: Date;
}

export async function issueLeaf(opts: LeafOptions): Promise<Issued> {
  const key = await generateKey(opts.issuer.key.alg);
  const certPem = await signLeaf({ ...opts, publicKey: key.keys.publicKey });
  return { certPem, keyPem: key.keyPem };
}

/**
 * Signs the leaf profile for a public key someone else holds (a CSR's): the same extensions
 * as issueLeaf. Key Encipherment only for RSA keys, the one kind that can use it.
 */
export async function signLeaf(opts: LeafOptions & { publicKey: webcrypto.CryptoKey }): Promise<string> {
  const { issuer } = opts;
  const issuerCert = new x509.X509Certificate(issuer.certPem);
  const ski = issuerCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const now = opts.now ?? new Date();
  const names: x509.JsonGeneralName[] = [
    ...opts.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...opts.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length === 0) throw new Error('a certificate needs at least one name');
  const rsa = opts.publicKey.algorithm.name.startsWith('RSA');
  const usages = x509.KeyUsageFlags.digitalSignature | (rsa ? x509.KeyUsageFlags.keyEncipherment : 0);
  const cn = opts.commonName ?? opts.dnsNames[0] ?? opts.ipAddresses[0]!;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [cn] }],
    issuer: issuerCert.subject,
    notBefore: opts.notBefore ?? new Date(now.getTime() - BACKDATE),
    notAfter: opts.notAfter ?? new Date(now.getTime() + (opts.days ?? MAX_LEAF_DAYS) * DAY),
    signingAlgorithm: algorithms(issuer.key.alg, 2048).sign,
    publicKey: opts.publicKey,
    signingKey: issuer.key.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usages, true),
      new x509.ExtendedKeyUsageExtension(
        [opts.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.SubjectKeyIdentifierExtension.create(opts.publicKey),
      ...(ski ? [new x509.AuthorityKeyIdentifierExtension(ski.keyId, false)] : []),
    ],
  });
  return pemText(cert.toString('pem'));
}

/** Facts about a certificate, for printing and for checks. */
export function describe(certPem: string) {
  const c = new NodeX509(certPem);
  return {
    subject: c.subject.replace(/\n/g, ', '),
    issuer: c.issuer.replace(/\n/g, ', '),
    validFrom: new Date(c.validFrom),
    validTo: new Date(c.validTo),
    ca: c.ca,
    subjectAltName: c.subjectAltName ?? '',
    fingerprint256: c.fingerprint256,
  };
}
