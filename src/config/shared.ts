// Options that several commands share, with the seed's MX_* variables as their environment names.
import { opt } from './options.js';

/** The seed's domain: the three server names are server{1,2,3}.<domain>. */
export const DEFAULT_DOMAIN = 'tlsecho.test';

export const domainOption = opt({
  kind: 'string',
  env: 'MX_domain',
  default: DEFAULT_DOMAIN,
  description: 'domain of the three server names server{1,2,3}.<domain>',
});

export const certsPathOption = opt({
  kind: 'string',
  env: 'MX_certspath',
  default: './certs',
  description: 'folder of the CA and issued certificates (minica layout)',
});

/** server1.<domain>, server2.<domain>, server3.<domain>: the seed's three names. */
export function serverNames(domain: string): string[] {
  return [1, 2, 3].map((i) => `server${i}.${domain}`);
}
