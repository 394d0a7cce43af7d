// The failure lab as the server serves it (--lab DIR, made by `tlsecho ca lab`): one certificate
// per name, picked by SNI. Each name keeps the server's TLS policy; two change how it is served:
//   client-cert.<domain>  requires a client certificate from the server's root (--ca-file);
//   tls12.<domain>        TLS 1.2 at most, on its own port (--lab-tls12-port): OpenSSL has already
//                         chosen the version when Node's SNICallback runs, so a context with
//                         maxVersion picked there does not lower it (checked on Node 20 and 24).
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import tls from 'node:tls';
import { CommandError } from '../config/errors.js';
import { labKindOf, type LabKind } from '../lab/names.js';
import { requireClientCertificate } from '../util/node-internals.js';
import { secureContextOptions } from './tls-context.js';

export interface LabSite {
  /** The SNI it answers: its folder's name. */
  name: string;
  kind: LabKind;
  cert: string;
  key: string;
}

/** Reads every lab folder of `dir` (first label a lab kind, with cert.pem and key.pem). */
export function loadLabSites(dir: string): LabSite[] {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new CommandError(`--lab ${dir} is not a folder`);
    entries = readdirSync(dir).sort();
  } catch (err) {
    if (err instanceof CommandError) throw err;
    throw new CommandError(`cannot read --lab ${dir}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  const sites: LabSite[] = [];
  for (const name of entries) {
    const kind = labKindOf(name);
    const certFile = join(dir, name, 'cert.pem');
    const keyFile = join(dir, name, 'key.pem');
    if (!kind || !existsSync(certFile) || !existsSync(keyFile)) continue;
    const cert = readFileSync(certFile, 'utf8');
    const key = readFileSync(keyFile, 'utf8');
    try {
      if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key)))
        throw new Error('the key does not match the certificate');
    } catch (err) {
      throw new CommandError(`--lab ${join(dir, name)}: ${(err as Error).message}`);
    }
    sites.push({ name: name.toLowerCase(), kind, cert, key });
  }
  if (sites.length === 0)
    throw new CommandError(`--lab ${dir} holds no lab names (make them with 'tlsecho ca lab')`);
  return sites;
}

export function sameSites(a: readonly LabSite[], b: readonly LabSite[]): boolean {
  return (
    a.length === b.length &&
    a.every((s, i) => s.name === b[i]!.name && s.cert === b[i]!.cert && s.key === b[i]!.key)
  );
}

export interface LabContexts {
  sites: readonly LabSite[];
  /** The SNI names served on the main port. */
  byName: ReadonlyMap<string, { site: LabSite; context: tls.SecureContext }>;
  /** The tls12 site, served on its own port. */
  tls12: LabSite | undefined;
  /**
   * The default certificate of the lab's own TLS server (good, else the first name): a leaf
   * with no chain. Node's SNICallback replaces the certificate and key but keeps the default
   * context's chain when the picked one has none, so behind a two-tier main pair every lab name
   * would go out with the main intermediate, incomplete-chain made whole by it.
   */
  fallback: LabSite | undefined;
}

/** Builds every name's context once (the SNICallback only looks them up). */
export function labContexts(sites: readonly LabSite[], rootPem: string, ticketKeys: Buffer): LabContexts {
  const byName = new Map<string, { site: LabSite; context: tls.SecureContext }>();
  for (const site of sites) {
    if (site.kind === 'tls12') continue;
    const clientCa = site.kind === 'client-cert' ? rootPem : undefined;
    byName.set(site.name, {
      site,
      context: tls.createSecureContext(
        secureContextOptions({ cert: site.cert, key: site.key, clientCa }, ticketKeys),
      ),
    });
  }
  const onMain = sites.filter((s) => s.kind !== 'tls12');
  return {
    sites,
    byName,
    tls12: sites.find((s) => s.kind === 'tls12'),
    fallback: onMain.find((s) => s.kind === 'good') ?? onMain[0],
  };
}

/** Options of the tls12 port's server: the policy, capped at TLS 1.2. */
export function tls12Options(site: LabSite, ticketKeys: Buffer): tls.SecureContextOptions {
  return { ...secureContextOptions({ cert: site.cert, key: site.key }, ticketKeys), maxVersion: 'TLSv1.2' };
}

/**
 * The SNICallback: a lab name gets its context (and client-cert a required client certificate),
 * any other name the server's own certificate. Node calls it with the TLS socket as `this`.
 */
export function labSniCallback(current: () => LabContexts) {
  return function (
    this: unknown,
    servername: string,
    cb: (err: Error | null, ctx?: tls.SecureContext) => void,
  ) {
    const hit = current().byName.get(servername.toLowerCase());
    if (hit?.site.kind === 'client-cert' && !requireClientCertificate(this))
      // Fail closed: never serve the client-cert name without asking for a certificate.
      return cb(new Error('cannot require a client certificate on this Node version'));
    cb(null, hit?.context);
  };
}
