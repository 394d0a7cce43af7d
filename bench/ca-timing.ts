// `tlsecho ca` (a fresh root and a server leaf) against the openssl commands that make the same
// profile: P-256 root with CA:TRUE,pathlen:0 and keyCertSign,cRLSign; a leaf with serverAuth, the
// same SAN list, SKI/AKI; 3650 and 397 days. Each side runs as the processes a user would run.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CommandError } from '../src/config/errors.js';
import { serverNames, DEFAULT_DOMAIN } from '../src/config/shared.js';
import { cleanEnv } from '../src/util/sandbox.js';

const DNS_NAMES = [...serverNames(DEFAULT_DOMAIN), 'localhost'];
const IPS = ['127.0.0.1', '::1'];

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: cleanEnv() });
  if (r.status !== 0)
    throw new CommandError(
      `${cmd} ${args[0]} failed (${r.status}): ${(r.stderr || r.stdout).trim().split('\n')[0]}`,
    );
}

function tlsechoCa(node: string, cli: string, out: string): void {
  run(node, [cli, 'ca', '--out', out]);
}

function opensslCa(openssl: string, out: string): void {
  mkdirSync(out, { recursive: true });
  const f = (n: string) => join(out, n);
  run(openssl, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('root.key')]);
  chmodSync(f('root.key'), 0o600);
  run(openssl, [
    'req',
    '-x509',
    '-new',
    '-key',
    f('root.key'),
    '-sha256',
    '-days',
    '3650',
    '-subj',
    `/CN=openssl root CA ${randomBytes(3).toString('hex')}/O=tlsecho`,
    '-addext',
    'basicConstraints=critical,CA:TRUE,pathlen:0',
    '-addext',
    'keyUsage=critical,keyCertSign,cRLSign',
    '-out',
    f('root.pem'),
  ]);
  run(openssl, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('leaf.key')]);
  chmodSync(f('leaf.key'), 0o600);
  run(openssl, ['req', '-new', '-key', f('leaf.key'), '-subj', `/CN=${DNS_NAMES[0]}`, '-out', f('leaf.csr')]);
  const san = [...DNS_NAMES.map((n) => `DNS:${n}`), ...IPS.map((ip) => `IP:${ip}`)].join(',');
  writeFileSync(
    f('leaf.ext'),
    [
      'basicConstraints=critical,CA:FALSE',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth',
      `subjectAltName=${san}`,
      'subjectKeyIdentifier=hash',
      'authorityKeyIdentifier=keyid',
    ].join('\n'),
  );
  run(openssl, [
    'x509',
    '-req',
    '-in',
    f('leaf.csr'),
    '-CA',
    f('root.pem'),
    '-CAkey',
    f('root.key'),
    '-set_serial',
    `0x${randomBytes(15).toString('hex')}`,
    '-days',
    '397',
    '-sha256',
    '-extfile',
    f('leaf.ext'),
    '-out',
    f('leaf.pem'),
  ]);
}

function timeIt(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** Times both `reps` times in alternation; checks once that each chain verifies with openssl. */
export function timeCa(o: { node: string; cli: string; openssl: string; dir: string; reps: number }) {
  const tlsecho: number[] = [];
  const openssl: number[] = [];
  for (let i = 0; i < o.reps; i++) {
    const a = join(o.dir, `tlsecho-${i}`);
    const b = join(o.dir, `openssl-${i}`);
    tlsecho.push(timeIt(() => tlsechoCa(o.node, o.cli, a)));
    openssl.push(timeIt(() => opensslCa(o.openssl, b)));
    if (i === 0) {
      for (const [root, leaf] of [
        [join(a, 'minica.pem'), join(a, DNS_NAMES[0]!, 'cert.pem')],
        [join(b, 'root.pem'), join(b, 'leaf.pem')],
      ])
        run(o.openssl, ['verify', '-x509_strict', '-purpose', 'sslserver', '-CAfile', root!, leaf!]);
    }
  }
  return { tlsecho, openssl };
}
