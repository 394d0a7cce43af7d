// `tlsecho client`: the seeds' echo client and pinger in one program. Options and their
// validation live here; the behaviour is in run.ts.
import { defineCommand } from '../command.js';
import { UsageError } from '../config/errors.js';
import { opt } from '../config/options.js';
import { domainOption, serverNames } from '../config/shared.js';
import { checkDnsServer } from './resolve.js';
import { runClient } from './run.js';
import { parseCaUrl, parsePin } from './trust.js';

const clientOptions = {
  domain: domainOption,
  names: opt({ kind: 'list', description: 'server names to call (default: server{1,2,3}.<domain>)' }),
  port: opt({ kind: 'int', min: 1, max: 65535, default: 8443, description: 'HTTPS port of the server' }),
  'http-port': opt({
    kind: 'int',
    min: 1,
    max: 65535,
    default: 8080,
    description: 'plain-HTTP port of the server, for /root_ca',
  }),
  'ca-file': opt({
    kind: 'string',
    env: 'MX_cafile',
    description: 'trust exactly this root CA (PEM) instead of fetching /root_ca',
  }),
  'ca-url': opt({
    kind: 'string',
    description: 'where to fetch the root CA (default: http://<first name>:<http-port>/root_ca)',
  }),
  'ca-fingerprint': opt({
    kind: 'string',
    description: "accept the root only if its SHA-256 fingerprint matches (openssl 'AB:CD:…' or hex)",
  }),
  dns: opt({
    kind: 'string',
    description: 'send DNS queries to this DNS server, IP:PORT (default: system resolver)',
  }),
  interval: opt({ kind: 'duration', min: 0, default: 1000, description: 'time between requests' }),
  count: opt({ kind: 'int', min: 0, default: 0, description: 'stop after N requests (0 = until stopped)' }),
  timeout: opt({ kind: 'duration', min: 1, default: 5000, description: 'per-request timeout' }),
  'wait-timeout': opt({
    kind: 'duration',
    min: 0,
    default: 0,
    description: 'give up if the server is not up within this time (0 = keep waiting)',
  }),
  mode: opt({
    kind: 'string',
    choices: ['echo', 'ping'] as const,
    default: 'echo',
    description: "echo: GET / and print the answer; ping: GET /ping and expect 'pong'",
  }),
  'show-handshake': opt({
    kind: 'bool',
    default: false,
    description:
      'echo mode: also print what this client offered in its ClientHello and what the server chose',
  }),
  'cert-file': opt({ kind: 'string', description: 'client certificate (PEM) for mutual TLS' }),
  'key-file': opt({ kind: 'string', description: 'private key (PEM) of --cert-file' }),
};

export const command = defineCommand({
  name: 'client',
  summary: 'call the server under its DNS names with verified TLS',
  options: clientOptions,
  async action(o) {
    const names = o.names ?? serverNames(o.domain);
    if (names.length === 0) throw new UsageError('--names is empty');
    if (!!o['cert-file'] !== !!o['key-file'])
      throw new UsageError('--cert-file and --key-file go together (mutual TLS needs both)');
    if (o.dns !== undefined && !checkDnsServer(o.dns))
      throw new UsageError(`invalid --dns: '${o.dns}' is not IP:PORT (e.g. 127.0.0.1:10053 or [::1]:53)`);
    if (o['ca-file'] && o['ca-url'])
      throw new UsageError('--ca-file and --ca-url are alternatives: give one of them');

    const controller = new AbortController();
    // The first signal stops the loop, which then prints the summary; repeats (Ctrl-C reaching
    // both the demo and its children, then the demo's own SIGTERM) must not cut that short.
    const stop = () => controller.abort();
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    try {
      return await runClient(
        {
          names,
          port: o.port,
          httpPort: o['http-port'],
          caFile: o['ca-file'],
          caUrl: o['ca-url'] ? parseCaUrl(o['ca-url']) : undefined,
          pin: parsePin(o['ca-fingerprint']),
          dns: o.dns,
          intervalMs: o.interval,
          count: o.count,
          timeoutMs: o.timeout,
          waitMs: o['wait-timeout'],
          mode: o.mode,
          showHandshake: o['show-handshake'],
          certFile: o['cert-file'],
          keyFile: o['key-file'],
        },
        {
          out: (line) => process.stdout.write(`${line}\n`),
          err: (line) => process.stderr.write(`${line}\n`),
          signal: controller.signal,
        },
      );
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
});
