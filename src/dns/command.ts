// `tlsecho dns`: the embedded DNS server on its own, for running the parts on separate hosts
// (the cross-host test puts it in a network namespace next to the server).
import { defineCommand } from '../command.js';
import { CommandError } from '../config/errors.js';
import { opt } from '../config/options.js';
import { domainOption, serverNames } from '../config/shared.js';
import { formatQuery } from './log.js';
import { startDnsServer } from './server.js';

export const command = defineCommand({
  name: 'dns',
  summary: 'answer A/AAAA for the server names (stand-in for Docker embedded DNS)',
  options: {
    host: opt({ kind: 'string', default: '127.0.0.1', description: 'address to listen on (UDP and TCP)' }),
    port: opt({ kind: 'int', min: 0, max: 65535, default: 10053, description: 'port (UDP and TCP)' }),
    domain: domainOption,
    names: opt({ kind: 'list', description: 'names to answer (default: server{1,2,3}.<domain>)' }),
    address: opt({
      kind: 'list',
      default: ['127.0.0.1'],
      description: 'addresses (IPv4 and/or IPv6) every name resolves to',
    }),
  },
  async action(o) {
    const names = o.names ?? serverNames(o.domain);
    let server;
    try {
      server = await startDnsServer({
        host: o.host,
        port: o.port,
        zone: o.domain,
        records: Object.fromEntries(names.map((n) => [n, o.address])),
        onQuery: (q) => process.stdout.write(`${formatQuery(q)}\n`),
      });
    } catch (err) {
      throw new CommandError((err as Error).message);
    }
    process.stdout.write(
      `dns ready on udp+tcp ${server.address}: ${names.join(', ')} -> ${o.address.join(', ')}\n`,
    );
    await new Promise<void>((resolve) => {
      process.once('SIGINT', resolve);
      process.once('SIGTERM', resolve);
    });
    await server.close();
    return 0;
  },
});
