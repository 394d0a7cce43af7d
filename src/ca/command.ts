// `tlsecho ca`: the seed's minica, in TypeScript. Creates (or reuses) a root CA and issues a
// server certificate for the three server names, or for the names given; `tlsecho ca fingerprint`
// prints the root's SHA-256 fingerprint for clients to pin; `install`/`uninstall` add the root to
// (or remove it from) the NSS databases of Chromium and Firefox on Linux.
import { defineCommand } from '../command.js';
import { CommandError, UsageError } from '../config/errors.js';
import { opt } from '../config/options.js';
import { readUserFile } from '../config/user-file.js';
import { certsPathOption, domainOption, serverNames } from '../config/shared.js';
import { fingerprintOfPem } from './fingerprint.js';
import { issueCertificates } from './api.js';
import { MAX_LEAF_DAYS, type KeyAlg } from './issue.js';
import { rootPaths } from './store.js';
import { DEFAULT_P12_PASSWORD, p12Action } from './p12-command.js';
import { signAction } from './sign-command.js';
import { caStatusReport, renderStatus } from './status.js';
import { trustAction } from './trust-command.js';

const caOptions = {
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
  client: opt({
    kind: 'string',
    description:
      'issue a client certificate (mutual TLS) for this name; alone, no server certificate (add --domains for one)',
  }),
  force: opt({
    kind: 'bool',
    default: false,
    description:
      'replace existing leaf certificates and keys (never the root); without it, a leaf with the same names valid for 30+ days is reused',
  }),
  intermediate: opt({
    kind: 'bool',
    default: false,
    description:
      'two-tier PKI: sign leaves with an intermediate CA (made once, then reused); cert.pem then holds leaf + intermediate',
  }),
  'name-constraints': opt({
    kind: 'list',
    description:
      'a new root may only vouch for these DNS names (and names under them) and IP ranges, e.g. tlsecho.test,localhost,127.0.0.0/8,::1/128',
  }),
  csr: opt({
    kind: 'string',
    env: false,
    description: "with 'sign': the certificate request (PEM or DER) to sign",
  }),
  'cert-out': opt({
    kind: 'string',
    env: false,
    description: "with 'sign': write the certificate (leaf + intermediate) here (default: standard output)",
  }),
  'p12-password': opt({
    kind: 'string',
    default: DEFAULT_P12_PASSWORD,
    description: "with 'p12': the PKCS#12 password (the default is public: set one for a file that travels)",
  }),
  'p12-legacy': opt({
    kind: 'bool',
    default: false,
    description: "with 'p12': SHA-1/3DES encryption for old importers (made with the openssl command)",
  }),
  stores: opt({
    kind: 'list',
    env: false,
    description:
      "with 'install'/'uninstall': system, nss, java (default: every store whose tool is found; only nss with --nss-db)",
  }),
  format: opt({
    kind: 'string',
    choices: ['openssl', 'hex', 'json'] as const,
    default: 'openssl',
    env: false,
    description: "with 'fingerprint': output form; with 'status': json for scripts (else text)",
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
  usage: 'tlsecho ca [issue|sign|p12 NAME|status|fingerprint|install|uninstall|lab] [options]',
  options: caOptions,
  positionals: true,
  async action(o, positionals) {
    const [sub = 'issue', ...extra] = positionals;
    if (sub === 'p12' && extra.length <= 1)
      return p12Action({
        out: o.out,
        name: extra[0] ?? '',
        password: o['p12-password'],
        force: o.force,
        legacy: o['p12-legacy'],
      });
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}'`);
    if (sub === 'fingerprint') return printFingerprint(o.out, o.format);
    if (sub === 'status') return statusAction(o.out, o.format, o['nss-db']);
    if (sub === 'install' || sub === 'uninstall') return trustAction(sub, o.out, o['nss-db'], o.stores);
    if (sub === 'sign')
      return signAction({
        out: o.out,
        csrFile: o.csr,
        certOut: o['cert-out'],
        days: o.days,
        force: o.force,
        alg: o['ca-alg'] as KeyAlg,
        rsaBits: o['rsa-bits'],
      });
    if (sub === 'lab') return labAction(o.out, o.domain, o.force);
    if (sub !== 'issue')
      throw new UsageError(
        `unknown ca action '${sub}' (actions: issue, sign, p12, status, fingerprint, install, uninstall, lab)`,
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
      intermediate: o.intermediate,
      nameConstraints: o['name-constraints'],
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
    if (r.intermediate)
      lines.push(
        `intermediate CA ${r.intermediate.cert} (${r.intermediate.state}): ${r.intermediate.subject}`,
      );
    const reused = ' (reused: same names, valid for more than 30 days; --force re-issues)';
    if (r.server)
      lines.push(
        `server certificate ${r.server.cert}, key ${r.server.key}${r.server.reused ? reused : ''}`,
        `  names: ${r.server.names.join(', ')}; valid until ${r.server.validTo.toISOString()}`,
      );
    if (r.client)
      lines.push(
        `client certificate ${r.client.cert}, key ${r.client.key} (mutual TLS)${r.client.reused ? reused : ''}`,
      );
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
  for (const n of r.skipped) lines.push(`  ${n.name.padEnd(32)} skipped: ${n.why}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

function printFingerprint(out: string, format: string): number {
  const path = rootPaths(out).cert;
  const pem = readUserFile(path, 'root CA', { pem: 'certificate' });
  let fp;
  try {
    fp = fingerprintOfPem(pem);
  } catch {
    throw new CommandError(`${path} is not a valid PEM certificate`);
  }
  process.stdout.write(
    format === 'hex'
      ? `${fp.hex}\n`
      : format === 'json'
        ? `${JSON.stringify({ sha256: fp.colon, hex: fp.hex })}\n`
        : `sha256 Fingerprint=${fp.colon}\n`,
  );
  return 0;
}

async function statusAction(out: string, format: string, nssDbs: string[] | undefined): Promise<number> {
  if (format === 'hex')
    throw new UsageError("--format hex is for 'fingerprint'; 'status' takes --format json");
  const report = await caStatusReport(out, { nssDbs });
  process.stdout.write(format === 'json' ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report));
  return 0;
}
