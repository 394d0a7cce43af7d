// What reading the ClientHello costs, for docs/performance.md. Two parts:
//  1. CPU per ClientHello of each step on this Node's real ClientHello: framing (what the
//     capture does per read), the full parse, JA4 + JA3, the report. Each step loops for 200 ms
//     of CPU a round; the median of the rounds is printed.
//  2. Server CPU per new connection (a full TLS 1.3 handshake each, no resumption), each server
//     in its own child process so the clients' work is not counted: a bare node:tls server, the
//     same behind listenWithClientHello (capture only, parse left for later), and the capture
//     with the parse and fingerprints done at once. Rounds alternate the servers; medians.
//   node dist/bench/client-hello.js [rounds=7] [connections per round=300, 0: part 1 only]
import { fork, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer as createTlsServer } from 'node:tls';
import { fileURLToPath } from 'node:url';
import { listenWithClientHello } from '../src/tls/capture.js';
import { frameClientHello, parseClientHello } from '../src/tls/client-hello.js';
import { ja3 } from '../src/tls/ja3.js';
import { ja4 } from '../src/tls/ja4.js';
import { handshakeReport } from '../src/tls/report.js';
import { median } from './report.js';

type Mode = 'node:tls' | 'capture' | 'capture + parse';
const MODES: Mode[] = ['node:tls', 'capture', 'capture + parse'];

/** A throwaway self-signed P-256 certificate, made with openssl in a temporary folder. */
function certificate(): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tlsecho-bench-hello-'));
  try {
    const args = [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
    ];
    args.push('-subj', '/CN=localhost', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'));
    if (spawnSync('openssl', args, { stdio: 'ignore' }).status !== 0)
      throw new Error('openssl req failed: is openssl installed?');
    return { cert: readFileSync(join(dir, 'c.pem'), 'utf8'), key: readFileSync(join(dir, 'k.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** This Node's ClientHello as on the wire: the first bytes its tls client sends to a TCP listener. */
async function nodeClientHello(): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  const client = connect({
    port,
    host: '127.0.0.1',
    servername: 'localhost',
    ALPNProtocols: ['h2', 'http/1.1'],
  });
  client.on('error', () => {});
  const [socket] = (await once(server, 'connection')) as [Socket];
  let bytes = Buffer.alloc(0);
  while (frameClientHello(bytes).status === 'need_more') {
    const [chunk] = (await once(socket, 'data')) as [Buffer];
    bytes = Buffer.concat([bytes, chunk]);
  }
  socket.destroy();
  client.destroy();
  server.close();
  return bytes;
}

/** CPU time (not wall time: other processes on a shared machine must not count) per call. */
function microsPerCall(fn: () => unknown): number {
  const cpu = () => {
    const u = process.cpuUsage();
    return u.user + u.system;
  };
  let n = 0;
  const t0 = cpu();
  let now = t0;
  while (now - t0 < 200_000) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    now = cpu();
  }
  return (now - t0) / n;
}

async function parseCosts(rounds: number): Promise<void> {
  const bytes = await nodeClientHello();
  const hello = parseClientHello(bytes);
  if (!('parsed' in hello)) throw new Error(`this Node's ClientHello did not parse: ${hello.unparsed}`);
  const negotiated = {
    version: 'TLSv1.3',
    cipher: 'TLS_AES_128_GCM_SHA256',
    alpn: 'h2',
    resumed: false,
    certificateNames: ['localhost'],
  };
  const steps: [string, () => unknown][] = [
    ['frame', () => frameClientHello(bytes)],
    ['parse', () => parseClientHello(bytes)],
    ['ja4 + ja3', () => (ja4(hello.parsed), ja3(hello.parsed))],
    ['report', () => handshakeReport(hello, negotiated)],
  ];
  const results = steps.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) steps.forEach(([, fn], i) => results[i]!.push(microsPerCall(fn)));
  console.log(
    `Node ${process.version}, its ClientHello of ${bytes.length} bytes; µs per ClientHello, median of ${rounds} rounds:`,
  );
  steps.forEach(([name], i) => console.log(`  ${name.padEnd(10)} ${median(results[i]!).toFixed(2)}`));
}

/** The child: one server in `mode`, answering 'cpu' with its CPU time so far in µs. */
function serve(mode: Mode): void {
  const { cert, key } = JSON.parse(process.env.TLSECHO_BENCH_PEM!) as { cert: string; key: string };
  const tlsServer = createTlsServer({ cert, key }, (socket) => socket.end());
  tlsServer.on('tlsClientError', (_err, socket) => socket.destroy());
  let listener: Server = tlsServer;
  if (mode !== 'node:tls') {
    listener = listenWithClientHello(tlsServer, {
      ...(mode === 'capture + parse'
        ? {
            onCapture: (c) => {
              const r = c.hello();
              if ('parsed' in r) {
                ja4(r.parsed);
                ja3(r.parsed);
              }
            },
          }
        : {}),
    });
  }
  listener.listen(0, '127.0.0.1', () => process.send!({ port: (listener.address() as AddressInfo).port }));
  process.on('message', () => {
    const u = process.cpuUsage();
    process.send!({ cpu: u.user + u.system });
  });
  process.on('disconnect', () => process.exit(0));
}

function ask(child: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    child.once('message', (m: { cpu: number }) => resolve(m.cpu));
    child.send('cpu');
  });
}

async function handshakes(port: number, count: number, parallel = 4): Promise<void> {
  let next = 0;
  const one = (): Promise<void> =>
    new Promise((resolve, reject) => {
      // No session offered: every handshake is a full one.
      const s = connect({
        port,
        host: '127.0.0.1',
        servername: 'localhost',
        rejectUnauthorized: true,
        checkServerIdentity: () => undefined,
        ca: PEM.cert,
      });
      s.on('secureConnect', () => s.end());
      s.on('close', () => resolve());
      s.on('error', reject);
      s.resume();
    });
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next++ < count) await one();
    }),
  );
}

let PEM: { cert: string; key: string };

async function connectionCosts(rounds: number, count: number): Promise<void> {
  PEM = certificate();
  const children = new Map<Mode, { child: ChildProcess; port: number }>();
  for (const mode of MODES) {
    const child = fork(fileURLToPath(import.meta.url), ['--serve', mode], {
      env: { ...process.env, TLSECHO_BENCH_PEM: JSON.stringify(PEM) },
    });
    const [m] = (await once(child, 'message')) as [{ port: number }];
    children.set(mode, { child, port: m.port });
  }
  const perConnection = new Map<Mode, number[]>(MODES.map((m) => [m, []]));
  try {
    for (const mode of MODES) await handshakes(children.get(mode)!.port, 50); // warm-up
    for (let r = 0; r < rounds; r++) {
      // Alternate the order so a machine slowing down mid-round hits each server alike.
      for (const mode of r % 2 ? [...MODES].reverse() : MODES) {
        const { child, port } = children.get(mode)!;
        const before = await ask(child);
        await handshakes(port, count);
        perConnection.get(mode)!.push(((await ask(child)) - before) / count);
      }
    }
  } finally {
    for (const { child } of children.values()) child.disconnect();
  }
  console.log(
    `server CPU per new connection (full TLS 1.3 handshake), µs, median of ${rounds} rounds of ${count}:`,
  );
  const base = median(perConnection.get('node:tls')!);
  for (const mode of MODES) {
    const m = median(perConnection.get(mode)!);
    console.log(
      `  ${mode.padEnd(16)} ${m.toFixed(0).padStart(6)}  (${((m / base - 1) * 100).toFixed(1)} % vs node:tls)`,
    );
  }
}

if (process.argv[2] === '--serve') {
  serve(process.argv[3] as Mode);
} else {
  const rounds = Number(process.argv[2] ?? 7);
  const count = Number(process.argv[3] ?? 300);
  await parseCosts(rounds);
  if (count > 0) await connectionCosts(rounds, count);
}
