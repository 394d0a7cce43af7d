// Fixtures for the client tests: the real `tlsecho server` as a process, the embedded DNS server
// in-process, and (only for the client's own verification behaviour) a bare node:https server
// whose certificate the test chooses.
import type { ChildProcess } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { startDnsServer, type DnsQueryLog, type DnsServer } from '../../src/dns/server.js';
import { freePort } from '../../src/util/sandbox.js';
import { readyPorts } from '../../src/demo/command.js';
import { startCli, waitForLine } from '../helpers/cli.js';

export const NAMES = ['server1.tlsecho.test', 'server2.tlsecho.test', 'server3.tlsecho.test'];

/** The embedded DNS server answering `names` (default the three) with 127.0.0.1, logging queries. */
export async function startDns(names: string[] = NAMES): Promise<DnsServer & { queries: DnsQueryLog[] }> {
  const queries: DnsQueryLog[] = [];
  const server = await startDnsServer({
    host: '127.0.0.1',
    port: 0,
    zone: 'tlsecho.test',
    records: Object.fromEntries(names.map((n) => [n, ['127.0.0.1']])),
    onQuery: (q) => queries.push(q),
  });
  return Object.assign(server, { queries });
}

export interface RunningServer {
  child: ChildProcess;
  httpsPort: number;
  httpPort: number;
  output: () => string;
  stop(): Promise<void>;
}

/** Runs `tlsecho server` with the given files on free loopback ports and waits for `ready`. */
export async function startTlsechoServer(
  files: { certFile: string; keyFile: string; caFile: string },
  ports?: { https: number; http: number },
  extra: string[] = [],
): Promise<RunningServer> {
  const httpsPort = ports?.https ?? (await freePort('127.0.0.1'));
  const httpPort = ports?.http ?? (await freePort('127.0.0.1'));
  const child = startCli([
    'server',
    ...['--host', '127.0.0.1', '--https-port', String(httpsPort), '--http-port', String(httpPort)],
    ...['--cert-file', files.certFile, '--key-file', files.keyFile, '--ca-file', files.caFile],
    ...extra,
  ]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d));
  child.stderr?.on('data', (d: Buffer) => (out += d));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  try {
    const line = await waitForLine(child, /\bready\b/, 20_000);
    const announced = readyPorts(line);
    return {
      child,
      httpsPort: announced?.https ?? httpsPort,
      httpPort: announced?.http ?? httpPort,
      output: () => out,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface FixtureServer {
  httpsPort: number;
  httpPort: number;
  /** TCP connections the HTTPS port accepted: 0 proves the client never tried. */
  httpsConnections: () => number;
  close(): Promise<void>;
}

/**
 * A bare HTTPS server with the certificate the test chooses, answering like tlsecho's echo, and a
 * plain-HTTP /root_ca serving `rootPem`. Used where the behaviour under test is the client's own.
 */
export async function startFixtureServer(o: {
  certPem: string;
  keyPem: string;
  rootPem: string;
  requestClientCert?: boolean;
}): Promise<FixtureServer> {
  let connections = 0;
  const tlsServer = https.createServer(
    {
      cert: o.certPem,
      key: o.keyPem,
      ...(o.requestClientCert ? { requestCert: true, rejectUnauthorized: true, ca: o.rootPem } : {}),
    },
    (req, res) => {
      const socket = req.socket as import('node:tls').TLSSocket;
      res.end(
        req.url === '/ping'
          ? 'pong\n'
          : `Client connection from ${socket.remoteAddress} to server ${socket.servername}\n`,
      );
    },
  );
  tlsServer.on('connection', () => connections++);
  const plain = http.createServer((req, res) => {
    if (req.url !== '/root_ca') {
      res.statusCode = 404;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/x-pem-file');
    res.end(o.rootPem);
  });
  await new Promise<void>((r) => tlsServer.listen(0, '127.0.0.1', r));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
  return {
    httpsPort: (tlsServer.address() as AddressInfo).port,
    httpPort: (plain.address() as AddressInfo).port,
    httpsConnections: () => connections,
    close: async () => {
      tlsServer.closeAllConnections();
      plain.closeAllConnections();
      await Promise.all([new Promise((r) => tlsServer.close(r)), new Promise((r) => plain.close(r))]);
    },
  };
}

/** Parses the summary the client prints: per name [requests, ok, failed]. */
export function parseSummary(stdout: string): Map<string, [number, number, number]> {
  const rows = new Map<string, [number, number, number]>();
  const lines = stdout.split('\n');
  const start = lines.findIndex((l) => l.startsWith('summary:'));
  if (start < 0) return rows;
  for (const line of lines.slice(start + 2)) {
    const m = /^\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(line);
    if (!m) break;
    rows.set(m[1]!, [Number(m[2]), Number(m[3]), Number(m[4])]);
  }
  return rows;
}
