// `tlsecho lab check [options] [-- command with {url}]`: the failure lab's verdict for a client.
import { join } from 'node:path';
import { defineCommand, type Command } from '../command.js';
import { UsageError } from '../config/errors.js';
import { opt } from '../config/options.js';
import { certsPathOption, domainOption } from '../config/shared.js';
import { checkDnsServer, makeResolver, type ResolveFn } from '../client/resolve.js';
import {
  commandClient,
  formatVerdicts,
  labTargets,
  servedLabNames,
  tlsechoClient,
  type Verdict,
} from './check.js';

const port = (description: string, def: number) =>
  opt({ kind: 'int', min: 1, max: 65535, default: def, description });

const options = {
  domain: domainOption,
  'certs-path': certsPathOption,
  'ca-file': opt({
    kind: 'string',
    description: "the root tlsecho's client trusts (default: <certs-path>/minica.pem)",
  }),
  port: port('HTTPS port of the lab names', 8443),
  'tls12-port': port("HTTPS port of tls12.<domain> (the server's --lab-tls12-port)", 8444),
  dns: opt({
    kind: 'string',
    description: 'DNS server (HOST:PORT) to resolve the lab names (default: the system resolver)',
  }),
  address: opt({
    kind: 'string',
    description: 'connect to this address instead of resolving the names (as curl --resolve)',
  }),
  timeout: opt({ kind: 'duration', min: 100, default: 15_000, description: 'time allowed per name' }),
};

const inner = defineCommand({
  name: 'lab',
  summary: 'judge a client on the failure lab (docs/lab.md)',
  usage: 'tlsecho lab check [options] [-- <command with {url}, {host}, {port}, {address}>]',
  options,
  async action() {
    return 0; // replaced by run() below, which needs the words after `--`
  },
});

export const command: Command = {
  name: 'lab',
  summary: inner.summary,
  async run(argv, env = process.env) {
    const dash = argv.indexOf('--');
    const own = dash < 0 ? argv : argv.slice(0, dash);
    const other = dash < 0 ? undefined : argv.slice(dash + 1);
    if (own.includes('--help') || own.includes('-h')) return inner.run(own, env);
    const { resolveOptions } = await import('../config/options.js');
    const { values: o, positionals } = resolveOptions(options, own, env);
    const [sub, ...extra] = positionals;
    if (sub !== 'check')
      throw new UsageError(
        sub ? `unknown lab action '${sub}' (actions: check)` : 'missing action (tlsecho lab check)',
      );
    if (extra.length) throw new UsageError(`unexpected argument '${extra[0]}' (put another client after --)`);
    if (other && other.length === 0) throw new UsageError('nothing after --: give a command with {url}');
    if (other && !other.some((a) => /\{(url|host|port|address)\}/.test(a)))
      throw new UsageError('the command after -- names no {url} (or {host}, {port}, {address}) to call');
    if (o.dns !== undefined && !checkDnsServer(o.dns))
      throw new UsageError(`invalid --dns '${o.dns}': expected HOST:PORT`);
    const resolve: ResolveFn = o.address
      ? async () => ({ address: o.address!, family: o.address!.includes(':') ? 6 : 4 })
      : makeResolver(o.dns);
    const all = await labTargets(o.domain, { https: o.port, tls12: o['tls12-port'] }, resolve);
    const caFile = o['ca-file'] ?? join(o['certs-path'], 'minica.pem');
    const client = other ? commandClient(other, o.timeout) : tlsechoClient(caFile, o.timeout);
    const good = all.find((t) => t.kind === 'good')!;
    const served = await servedLabNames(good, caFile, o.timeout);
    // Only a lab that lists good itself is taken at its word.
    const targets = served?.has(good.name) ? all.filter((t) => served.has(t.name)) : all;
    const verdicts: Verdict[] = [];
    for (const t of targets) verdicts.push(await client(t));
    const notServed = all
      .filter((t) => !targets.includes(t))
      .map((t) => `${t.name}: not served by this lab, not judged ('tlsecho ca lab' says why)`);
    process.stdout.write(`${[...formatVerdicts(verdicts), ...notServed].join('\n')}\n`);
    return verdicts.every((v) => v.correct) ? 0 : 1;
  },
};
