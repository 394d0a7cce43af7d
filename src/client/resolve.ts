// Name resolution: the system resolver (getaddrinfo: /etc/hosts, then the configured DNS, which in
// Compose is Docker's embedded DNS) unless --dns sends the queries to one given DNS server.
import { promises as dns } from 'node:dns';
import { isIP } from 'node:net';

export interface Resolved {
  address: string;
  family: 4 | 6;
}

export type ResolveFn = (name: string) => Promise<Resolved>;

/** `dnsServer` is `HOST:PORT` (`[v6]:PORT` for IPv6) or a bare host on port 53. */
export function makeResolver(dnsServer: string | undefined, timeoutMs = 2000): ResolveFn {
  if (!dnsServer) {
    return async (name) => {
      if (isIP(name)) return { address: name, family: isIP(name) as 4 | 6 };
      const r = await dns.lookup(name);
      return { address: r.address, family: r.family as 4 | 6 };
    };
  }
  const resolver = new dns.Resolver({ timeout: timeoutMs, tries: 2 });
  resolver.setServers([dnsServer]);
  return async (name) => {
    if (isIP(name)) return { address: name, family: isIP(name) as 4 | 6 };
    try {
      const [address] = await resolver.resolve4(name);
      if (address) return { address, family: 4 };
    } catch (err) {
      // NOERROR without A records: the name may have only AAAA. Anything else is the answer.
      if ((err as NodeJS.ErrnoException).code !== 'ENODATA') throw err;
    }
    const [address] = await resolver.resolve6(name);
    if (!address) throw Object.assign(new Error(`no address for ${name}`), { code: 'ENODATA' });
    return { address, family: 6 };
  };
}

/** Validates a --dns value early, so a typo is a usage error rather than a retry loop. */
export function checkDnsServer(value: string): boolean {
  const m =
    /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+))(?::(\d{1,5}))?$/.exec(value) ?? /^([0-9a-fA-F:]+)$/.exec(value);
  if (!m) return false;
  const host = m[1] ?? m[2]!;
  const port = m[3] === undefined ? 53 : Number(m[3]);
  return isIP(host) !== 0 && port > 0 && port < 65536;
}
