// `tlsecho ca`: the seed's minica, in TypeScript. Creates (or reuses) a root CA and issues a
// server certificate for the three server names, or for the names given; `tlsecho ca fingerprint`
// prints the root's SHA-256 fingerprint for clients to pin; `install`/`uninstall` add the root to
// (or remove it from) the NSS databases of Chromium and Firefox on Linux.
import { existsSync, readFileSync } from 'node:fs';
import { defineCommand } from '../command.js';
import { CommandError, UsageError } from '../config/errors.js';
import { opt } from '../config/options.js';
import { certsPathOption, domainOption, serverNames } from '../config/shared.js';
import { fingerprintOfPem } from './fingerprint.js';
import { issueCertificates } from './api.js';
import { MAX_LEAF_DAYS, type KeyAlg } from './issue.js';
import { rootPaths } from './store.js';
import { trustAction } from './trust-command.js';

export const caOptions = {
  domains: opt({
    kind: 'list',
    description: 'DNS names of the server certificate (default: server{1,2,3}.<domain>, localhost)',
  }),
  'ip-addresses': opt({
    kind: 'list',
    description: 'IP addresses of the server certificate (default with no names: 127.0.0.1, ::1)',
  }),
  domain: domainOption,
  out: { ...certsPathOption, description: 'output folder (minica layout)' },
  'ca-alg': opt({
    kind: 'string',
    choices: ['ecdsa', 'rsa'] as const,
    default: 'ecdsa',
    description: 'key algorithm of a new root (and its leaves): ECDSA P-256 or RSA',
  }),
  'rsa-bits': opt({ kind: 'int', min: 2048, max: 8192, default: 2048, description: 'RSA key size' }),
  days: opt({
    kind: 'int',
    min: 1,
    max: 3650,
    default: MAX_LEAF_DAYS,
    description: 'validity of issued certificates in days',
  }),
  client: opt({ kind: 'string', description: 'also issue a client certificate (mutual TLS) for this name' }),
  force: opt({
    kind: 'bool',
    default: false,
    description: 'replace existing leaf certificates and keys (never the root)',
  }),
  format: opt({
    kind: 'string',
    choices: ['openssl', 'hex'] as const,
    default: 'openssl',
    env: false,
    description: "with 'fingerprint': output form",
  }),
  'nss-db': opt({
    kind: 'list',
    description:
      "with 'install'/'uninstall': only these NSS database folders (default: ~/.pki/nssdb, Firefox profiles)",
  }),
};

export const command = defineCommand({
  name: 'ca',
  summary: 'create a root CA and issue certificates (minica layout)',
  usage: 'tlsecho ca [issue|fingerprint|install|uninstall|lab] [options]',
  options: caOptions,
  async action(o, positionals) {
    const [sub = 'issue', ...extra] = positionals;
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (sub === 'fingerprint') return printFingerprint(o.out, o.format);
    if (sub === 'install' || sub === 'uninstall') return trustAction(sub, o.out, o['nss-db']);
    if (sub === 'lab') return labAction(o.out, o.domain, o.force);
    if (sub !== 'issue')
      throw new UsageError(
        `unknown ca action '${sub}' (actions: issue, fingerprint, install, uninstall, lab)`,
      );

    const explicit = o.domains !== undefined || o['ip-addresses'] !== undefined;
    const useDefaults = !explicit && o.client === undefined;
    const dnsNames = explicit
      ? (o.domains ?? [])
      : useDefaults
        ? [...serverNames(o.domain), 'localhost']
        : [];
    const ipAddresses = explicit ? (o['ip-addresses'] ?? []) : useDefaults ? ['127.0.0.1', '::1'] : [];
    if (explicit && dnsNames.length + ipAddresses.length === 0)
      throw new UsageError('no names given: --domains and --ip-addresses are both empty');
    if (o.days > MAX_LEAF_DAYS)
      process.stderr.write(
        `warning: --days ${o.days} is over ${MAX_LEAF_DAYS}; browsers reject such leaf certificates\n`,
      );

    const r = await issueCertificates({
      out: o.out,
      dnsNames,
      ipAddresses,
      client: o.client,
      alg: o['ca-alg'] as KeyAlg,
      rsaBits: o['rsa-bits'],
      days: o.days,
      force: o.force,
    });
    if (
      r.root.state === 'reused' &&
      r.root.alg !== o['ca-alg'] &&
      o['ca-alg'] !== caOptions['ca-alg'].default
    )
      process.stderr.write(
        `warning: reused the existing ${r.root.alg} root; --ca-alg applies to new roots only\n`,
      );
    const lines = [
      `root CA ${r.root.cert} (${r.root.state}): ${r.root.subject}`,
      `  SHA-256 fingerprint: ${r.root.fingerprint.colon}`,
      `  SHA-256 (hex):       ${r.root.fingerprint.hex}`,
    ];
    if (r.server)
      lines.push(
        `server certificate ${r.server.cert}, key ${r.server.key}`,
        `  names: ${r.server.names.join(', ')}; valid until ${r.server.validTo.toISOString()}`,
      );
    if (r.client) lines.push(`client certificate ${r.client.cert}, key ${r.client.key} (mutual TLS)`);
    process.stdout.write(`${lines.join('\n')}\n`);
    return 0;
  },
});

/** `tlsecho ca lab`: the failure lab's certificates under <out>/lab/ (see docs/lab.md). */
async function labAction(out: string, domain: string, force: boolean): Promise<number> {
  const { issueLab } = await import('./lab.js');
  const r = await issueLab({ out, domain, force });
  const lines = [`failure lab in ${r.dir} (from the root in ${out}):`];
  for (const n of r.names) lines.push(`  ${n.name.padEnd(32)} ${n.state}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function printFingerprint(out: string, format: string): number {
  const path = rootPaths(out).cert;
  if (!existsSync(path)) throw new CommandError(`no root CA at ${path} (run 'tlsecho ca' first)`);
  let fp;
  try {
    fp = fingerprintOfPem(readFileSync(path, 'utf8'));
  } catch {
    throw new CommandError(`${path} is not a valid PEM certificate`);
  }
  process.stdout.write(format === 'hex' ? `${fp.hex}\n` : `sha256 Fingerprint=${fp.colon}\n`);
  return 0;
}
