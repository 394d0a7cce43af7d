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
export const ROOT_DAYS = 3650;
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
  return { keys, alg, keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
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
    keyPem: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY'),
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
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: key.keyPem, key };
}

export interface LeafOptions {
  root: { certPem: string; key: KeyMaterial };
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
  const { root } = opts;
  const rootCert = new x509.X509Certificate(root.certPem);
  const ski = rootCert.getExtension(x509.SubjectKeyIdentifierExtension);
  const key = await generateKey(root.key.alg);
  const now = opts.now ?? new Date();
  const names: x509.JsonGeneralName[] = [
    ...opts.dnsNames.map((value) => ({ type: 'dns' as const, value })),
    ...opts.ipAddresses.map((value) => ({ type: 'ip' as const, value })),
  ];
  if (names.length === 0) throw new Error('a certificate needs at least one name');
  const usages =
    x509.KeyUsageFlags.digitalSignature | (key.alg === 'rsa' ? x509.KeyUsageFlags.keyEncipherment : 0);
  const cn = opts.commonName ?? opts.dnsNames[0] ?? opts.ipAddresses[0]!;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject: [{ CN: [cn] }],
    issuer: rootCert.subject,
    notBefore: opts.notBefore ?? new Date(now.getTime() - BACKDATE),
    notAfter: opts.notAfter ?? new Date(now.getTime() + (opts.days ?? MAX_LEAF_DAYS) * DAY),
    signingAlgorithm: algorithms(root.key.alg, 2048).sign,
    publicKey: key.keys.publicKey,
    signingKey: root.key.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(usages, true),
      new x509.ExtendedKeyUsageExtension(
        [opts.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
        false,
      ),
      new x509.SubjectAlternativeNameExtension(names, false),
      await x509.SubjectKeyIdentifierExtension.create(key.keys.publicKey),
      ...(ski ? [new x509.AuthorityKeyIdentifierExtension(ski.keyId, false)] : []),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: key.keyPem };
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
