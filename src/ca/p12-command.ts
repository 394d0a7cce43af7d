// `tlsecho ca p12 NAME`: writes <out>/NAME/cert.p12 from the leaf's key.pem and cert.pem plus the
// root, for importers that take no PEM. The password is not a secret by default ('changeit', as
// mkcert and Java's cacerts use): the file sits, 0600, next to the unencrypted key.pem anyway.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CommandError, UsageError } from '../config/errors.js';
import { buildP12, type P12Input } from './p12.js';
import { pemCertificates } from './pem.js';
import { leafPaths, rootPaths, writeAllOrNothing } from './store.js';

export const DEFAULT_P12_PASSWORD = 'changeit';

export interface P12Request {
  out: string;
  name: string;
  password: string;
  force?: boolean;
  /** SHA-1/3DES for importers that predate PBES2 (Java 8 before 8u301, Windows before Server 2019). */
  legacy?: boolean;
}

function p12Path(out: string, name: string): string {
  return join(leafPaths(out, name).dir, 'cert.p12');
}

function readText(path: string, what: string, hint: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new CommandError(
      code === 'ENOENT' ? `no ${what} at ${path} ${hint}` : `cannot read ${path}: ${code ?? err}`,
    );
  }
}

async function writeP12(req: P12Request): Promise<{ path: string; caCount: number }> {
  if (!req.name || /[/\\]/.test(req.name) || req.name === '.' || req.name === '..')
    throw new UsageError(
      `'tlsecho ca p12' needs the name of a leaf folder under ${req.out}, e.g. 'tlsecho ca p12 localhost'`,
    );
  if (req.password === '')
    throw new UsageError('--p12-password is empty; many importers refuse an empty PKCS#12 password');
  const p = leafPaths(req.out, req.name);
  const target = p12Path(req.out, req.name);
  if (existsSync(target) && !req.force)
    throw new CommandError(`${target} already exists (use --force to replace it)`);
  const hint = `(issue it first: 'tlsecho ca --domains ${req.name}' or '--client ${req.name}')`;
  const certText = readText(p.cert, 'certificate', hint);
  const keyText = readText(p.key, 'key', hint);
  const pems = pemCertificates(certText);
  let certs: X509Certificate[];
  try {
    certs = pems.map((pem) => new X509Certificate(pem));
  } catch {
    certs = [];
  }
  if (certs.length === 0) throw new CommandError(`${p.cert} is not a valid PEM certificate`);
  let key;
  try {
    key = createPrivateKey(keyText);
  } catch {
    throw new CommandError(`${p.key} is not a valid PEM private key`);
  }
  if (!certs[0]!.checkPrivateKey(key))
    throw new CommandError(`${p.key} does not match the certificate ${p.cert}`);
  // The chain up to the root, so an importer can show (and a client send) the whole path.
  const rootFile = rootPaths(req.out).cert;
  if (existsSync(rootFile)) {
    const root = new X509Certificate(readText(rootFile, 'root CA', ''));
    if (!certs.some((c) => c.fingerprint256 === root.fingerprint256)) certs.push(root);
  }
  const input = {
    keyDer: key.export({ type: 'pkcs8', format: 'der' }),
    certDers: certs.map((c) => c.raw),
    friendlyName: req.name,
    password: req.password,
  };
  const der = req.legacy ? legacyP12(input) : await buildP12(input);
  writeAllOrNothing([{ path: target, data: der, secret: true }]);
  return { path: target, caCount: certs.length - 1 };
}

/**
 * The legacy profile (pbeWithSHAAnd3-KeyTripleDES-CBC for key and certificates, HMAC-SHA-1) is
 * made by OpenSSL: PKIjs writes PBES2 only. RC2, which OpenSSL 3 keeps in its legacy provider,
 * is not needed: 3DES for the certificates is what old importers accept too. The password goes
 * through the environment, never the command line.
 */
function legacyP12(input: P12Input): Uint8Array {
  const pem = (der: Uint8Array, label: string) =>
    `-----BEGIN ${label}-----\n${Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n')}\n-----END ${label}-----\n`;
  const stdin = [pem(input.keyDer, 'PRIVATE KEY'), ...input.certDers.map((d) => pem(d, 'CERTIFICATE'))].join(
    '',
  );
  const r = spawnSync(
    'openssl',
    [
      'pkcs12',
      '-export',
      '-name',
      input.friendlyName,
      '-passout',
      'env:TLSECHO_P12_OUT_PASSWORD',
      '-keypbe',
      'PBE-SHA1-3DES',
      '-certpbe',
      'PBE-SHA1-3DES',
      '-macalg',
      'sha1',
      '-iter',
      '2048',
    ],
    { input: stdin, env: { ...process.env, TLSECHO_P12_OUT_PASSWORD: input.password }, timeout: 15_000 },
  );
  if (r.error)
    throw new CommandError(
      (r.error as NodeJS.ErrnoException).code === 'ENOENT'
        ? '--p12-legacy needs the openssl command (Debian/Ubuntu: apt-get install openssl)'
        : `openssl pkcs12 failed: ${r.error.message}`,
    );
  if (r.status !== 0) {
    const why = r.stderr.toString().trim().split('\n').pop();
    throw new CommandError(`openssl pkcs12 -export failed: ${why}`);
  }
  return new Uint8Array(r.stdout);
}

export async function p12Action(req: P12Request): Promise<number> {
  const r = await writeP12(req);
  const pw =
    req.password === DEFAULT_P12_PASSWORD ? `the default '${DEFAULT_P12_PASSWORD}'` : 'the one given';
  const profile = req.legacy ? 'legacy SHA-1/3DES' : 'PBES2 AES-256, PBKDF2-SHA-256';
  process.stdout.write(
    `PKCS#12 ${r.path} (${profile}): key, certificate and ${r.caCount} CA certificate(s); password ${pw}\n`,
  );
  return 0;
}
