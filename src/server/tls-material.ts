// Reads and checks the certificate, key and CA files. Every problem becomes one line naming the
// file and what is wrong, so start-up fails clearly and a bad rotation is rejected clearly.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { certNames } from '../ca/names.js';
import { fingerprintOfDer, type Fingerprint } from '../ca/fingerprint.js';
import { CommandError } from '../config/errors.js';
import { readUserFile, type PemKind } from '../config/user-file.js';

export interface TlsFiles {
  certFile: string;
  keyFile: string;
  caFile: string;
  clientCaFile?: string;
}

/** The PEM texts the server runs with, plus the facts it logs and shows. */
export interface TlsMaterial {
  cert: string;
  key: string;
  /** The root served at /root_ca, byte for byte. */
  ca: Buffer;
  clientCa?: string;
  leaf: { serial: string; fingerprint: string; notAfter: Date; names: string[] };
  caFingerprint: Fingerprint;
}

function read(path: string, flag: string, pem: PemKind): string {
  return readUserFile(path, flag, { pem });
}

function parseCert(pem: string, path: string, flag: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch {
    throw new CommandError(`${flag} ${path} is not a PEM certificate`);
  }
}

function parseKey(pem: string, path: string): KeyObject {
  if (/ENCRYPTED/.test(pem))
    throw new CommandError(`--key-file ${path} is encrypted; give an unencrypted key`);
  try {
    return createPrivateKey(pem);
  } catch {
    throw new CommandError(`--key-file ${path} is not a PEM private key`);
  }
}

export function loadTlsMaterial(files: TlsFiles): TlsMaterial {
  const cert = read(files.certFile, '--cert-file', 'certificate');
  const key = read(files.keyFile, '--key-file', 'private key');
  const ca = Buffer.from(read(files.caFile, '--ca-file', 'certificate'), 'utf8');
  const clientCa = files.clientCaFile ? read(files.clientCaFile, '--client-ca', 'certificate') : undefined;

  const leaf = parseCert(cert, files.certFile, '--cert-file');
  const root = parseCert(ca.toString('utf8'), files.caFile, '--ca-file');
  if (clientCa !== undefined) parseCert(clientCa, files.clientCaFile!, '--client-ca');
  if (!leaf.checkPrivateKey(parseKey(key, files.keyFile)))
    throw new CommandError(
      `--key-file ${files.keyFile} does not match the certificate in --cert-file ${files.certFile}`,
    );
  return {
    cert,
    key,
    ca,
    clientCa,
    leaf: {
      serial: leaf.serialNumber,
      fingerprint: fingerprintOfDer(leaf.raw).colon,
      notAfter: new Date(leaf.validTo),
      names: certNames(leaf),
    },
    caFingerprint: fingerprintOfDer(root.raw),
  };
}

/** True when both hold the same files' contents (rotation compares contents, not inodes). */
export function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.cert === b.cert && a.key === b.key && a.ca.equals(b.ca) && a.clientCa === b.clientCa;
}
