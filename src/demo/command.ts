// `tlsecho demo`: the whole system on one machine, no Docker. Certificates (created once, then
// reused), the embedded DNS server standing in for Docker's, `tlsecho server` and `tlsecho client`
// as two processes like two Compose services, the client bootstrapping trust from /root_ca with
// the fingerprint pin and resolving the three names through the DNS server.
import { issueLab } from '../ca/lab.js';
import { defineCommand } from '../command.js';
import { CommandError } from '../config/errors.js';
import { opt } from '../config/options.js';
import { certsPathOption, domainOption, serverNames } from '../config/shared.js';
import { formatQuery } from '../dns/log.js';
import { startDnsServer, type DnsServer } from '../dns/server.js';
import { ensureDemoCertificates } from './certs.js';
import { freePort } from '../util/sandbox.js';
import { prefixed, startService, stopService, type Service } from './processes.js';

const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 30_000;
const SERVER_GRACE_MS = 12_000;

const port = (what: string) =>
  opt({ kind: 'int', min: 0, max: 65535, default: 0, description: `${what} (0 = a free port)` });

export const command = defineCommand({
  name: 'demo',
  summary: 'run CA, DNS, server and client together on this machine',
  options: {
    domain: domainOption,
    'certs-path': certsPathOption,
    count: opt({ kind: 'int', min: 0, default: 0, description: 'stop after N requests (0 = until Ctrl-C)' }),
    interval: opt({ kind: 'duration', min: 0, default: 1000, description: 'time between requests' }),
    mode: opt({
      kind: 'string',
      choices: ['echo', 'ping'] as const,
      default: 'echo',
      description: 'what the client calls: the echo (GET /) or /ping',
    }),
    'https-port': port('HTTPS port of the server on 127.0.0.1'),
    'http-port': port('plain-HTTP port of the server (/root_ca, /healthz) on 127.0.0.1'),
    'dns-port': port('port of the embedded DNS server on 127.0.0.1 (UDP and TCP)'),
  },
  async action(o) {
    const say = (line: string) => process.stdout.write(`${prefixed('demo')}${line}\n`);
    const names = serverNames(o.domain);

    const certs = await ensureDemoCertificates(o['certs-path'], o.domain);
    say(certs.note);
    // The failure lab (docs/lab.md): issued once, then reused; its names resolve like the others.
    const lab = await issueLab({ out: o['certs-path'], domain: o.domain });
    say(`failure lab in ${lab.dir}: ${lab.names.map((n) => n.name).join(', ')}`);
    for (const s of lab.skipped) say(`failure lab: no ${s.name}: ${s.why}`);
    say(`root CA SHA-256 fingerprint ${certs.fingerprint.colon}`);

    let dns: DnsServer | undefined;
    let server: Service | undefined;
    let client: Service | undefined;
    let stopping = false;
    const onSignal = () => {
      if (stopping) return;
      stopping = true;
      say('stopping');
      // The client first, so its summary is printed while the server is still up.
      if (client) void stopService(client);
      else if (server) void stopService(server, SERVER_GRACE_MS);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      dns = await startDnsServer({
        host: HOST,
        port: o['dns-port'],
        zone: o.domain,
        records: Object.fromEntries([...names, ...lab.names.map((n) => n.name)].map((n) => [n, [HOST]])),
        onQuery: (q) => process.stdout.write(`${prefixed('dns')}${formatQuery(q)}\n`),
      }).catch((err: Error) => {
        throw new CommandError(err.message);
      });
      say(`DNS on udp+tcp ${dns.address}: ${names.join(', ')} -> ${HOST}`);

      const httpsPort = o['https-port'] || (await freePort(HOST));
      const httpPort = o['http-port'] || (await freePort(HOST));
      let announced: { https: number; http: number } | undefined;
      let markReady = () => {};
      const ready = new Promise<void>((r) => (markReady = r));
      server = startService(
        'server',
        [
          'server',
          ...['--host', HOST, '--https-port', String(httpsPort), '--http-port', String(httpPort)],
          ...['--domain', o.domain, '--certs-path', o['certs-path']],
          ...['--cert-file', certs.certFile, '--key-file', certs.keyFile, '--ca-file', certs.caFile],
          ...['--lab', lab.dir, '--lab-tls12-port', String(await freePort(HOST))],
        ],
        (line) => {
          const ports = readyPorts(line);
          if (ports && !announced) {
            announced = ports;
            markReady();
          }
        },
      );
      const outcome = await Promise.race([
        ready.then(() => 'ready' as const),
        server.exited.then((code) => `exited with code ${code}` as const),
        new Promise<string>((r) =>
          setTimeout(() => r(`not ready after ${READY_TIMEOUT_MS / 1000}s`), READY_TIMEOUT_MS).unref(),
        ),
      ]);
      if (stopping) return 130;
      if (outcome !== 'ready') throw new CommandError(`the server ${outcome}`);
      const https = announced!.https;
      const http = announced!.http;
      say(`server ready: https://${names[0]}:${https}/ and http://${names[0]}:${http}/root_ca`);
      say(
        `try it yourself: curl --cacert ${certs.caFile} --resolve ${names[1]}:${https}:${HOST} https://${names[1]}:${https}/`,
      );

      client = startService('client', [
        'client',
        ...['--domain', o.domain, '--port', String(https), '--http-port', String(http)],
        ...['--dns', dns.address, '--ca-fingerprint', certs.fingerprint.hex],
        ...['--count', String(o.count), '--interval', `${o.interval}ms`, '--mode', o.mode],
      ]);
      const result = await Promise.race([
        client.exited.then((code) => ({ who: 'client', code })),
        server.exited.then((code) => ({ who: 'server', code })),
      ]);
      if (result.who === 'server' && !stopping) {
        await stopService(client);
        throw new CommandError(`the server exited unexpectedly with code ${result.code}`);
      }
      const code = await client.exited;
      say(`client exited with code ${code}; stopping the server`);
      return code;
    } finally {
      if (client) await stopService(client);
      // Longer than the server's own --shutdown-timeout (10 s), so it can finish cleanly.
      if (server) await stopService(server, SERVER_GRACE_MS);
      await dns?.close();
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
});

/** The ports from the server's `ready` line, text (`https_port=8443`) or JSON (`"https_port":8443`). */
export function readyPorts(line: string): { https: number; http: number } | undefined {
  if (!/\bready\b/.test(line)) return undefined;
  const https = /"?https_port"?[=:]\s*(\d+)/.exec(line);
  const http = /"?http_port"?[=:]\s*(\d+)/.exec(line);
  return https && http ? { https: Number(https[1]), http: Number(http[1]) } : undefined;
}
