// A small authoritative DNS server on UDP and TCP (same port), standing in for Docker's embedded
// DNS when everything runs on one machine. Answers come from zone.ts; this file only moves packets.
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { createServer, isIPv6, type Server as TcpServer, type Socket } from 'node:net';
import dnsPacket, { type DecodedPacket, type Packet } from 'dns-packet';
import { answer, buildZone, formatErrorResponse, type RcodeName, type ZoneConfig } from './zone.js';

export interface DnsQueryLog {
  transport: 'udp' | 'tcp';
  from: string;
  name: string;
  type: string;
  rcode: RcodeName;
  addresses: string[];
}

export interface DnsServerOptions extends ZoneConfig {
  host?: string;
  /** 0 picks a free port (the same one for UDP and TCP). */
  port?: number;
  onQuery?: (q: DnsQueryLog) => void;
}

export interface DnsServer {
  host: string;
  port: number;
  /** `host:port` as `--dns` and node's Resolver.setServers() take it. */
  address: string;
  close(): Promise<void>;
}

const CLASSIC_UDP_LIMIT = 512;
const MAX_TCP_MESSAGE = 65_535;
const TCP_IDLE_MS = 10_000;

export async function startDnsServer(opts: DnsServerOptions): Promise<DnsServer> {
  const zone = buildZone(opts);
  const host = opts.host ?? '127.0.0.1';

  const respond = (buf: Buffer, transport: 'udp' | 'tcp', from: string): Buffer | undefined => {
    let query: DecodedPacket;
    try {
      query = dnsPacket.decode(buf);
    } catch {
      // Too short to carry an id: nothing sensible to answer.
      return buf.length >= 2 ? dnsPacket.encode(formatErrorResponse(buf.readUInt16BE(0))) : undefined;
    }
    if (query.type === 'response') return undefined; // never answer answers (reflection loops)
    const r = answer(zone, query);
    const q = query.questions?.[0];
    opts.onQuery?.({
      transport,
      from,
      name: q?.name ?? '',
      type: q?.type ?? '',
      rcode: r.rcode,
      addresses: r.addresses,
    });
    let out = dnsPacket.encode(r.response);
    if (transport === 'udp') out = truncateForUdp(query, r.response, out);
    return out;
  };

  const { udp, tcp, port } = await bindBoth(host, opts.port ?? 0);

  udp.on('message', (msg, rinfo) => {
    const out = respond(msg, 'udp', rinfo.address);
    if (out) udp.send(out, rinfo.port, rinfo.address);
  });
  const sockets = new Set<Socket>();
  tcp.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    socket.setTimeout(TCP_IDLE_MS, () => socket.destroy());
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // Each message is prefixed by its 2-byte length (RFC 1035 4.2.2); several may be pipelined.
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const msg = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        const out = respond(msg, 'tcp', socket.remoteAddress ?? '');
        if (!out) continue;
        const prefix = Buffer.alloc(2);
        prefix.writeUInt16BE(Math.min(out.length, MAX_TCP_MESSAGE));
        socket.write(Buffer.concat([prefix, out]));
      }
    });
  });

  return {
    host,
    port,
    address: isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await Promise.all([
        new Promise<void>((r) => udp.close(() => r())),
        new Promise<void>((r) => tcp.close(() => r())),
      ]);
    },
  };
}

/** An answer too big for the asker's UDP buffer goes out empty with TC set, so it retries on TCP. */
function truncateForUdp(query: DecodedPacket, response: Packet, encoded: Buffer): Buffer {
  const opt = (query.additionals ?? []).find((r) => r.type === 'OPT') as
    { udpPayloadSize?: number } | undefined;
  const limit = Math.max(CLASSIC_UDP_LIMIT, opt?.udpPayloadSize ?? 0);
  if (encoded.length <= limit) return encoded;
  return dnsPacket.encode({
    ...response,
    flags: (response.flags ?? 0) | dnsPacket.TRUNCATED_RESPONSE,
    answers: [],
    authorities: [],
  });
}

/** UDP and TCP on one port; with port 0, retries when the port UDP got is taken for TCP. */
async function bindBoth(
  host: string,
  port: number,
): Promise<{ udp: UdpSocket; tcp: TcpServer; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const udp = createSocket(isIPv6(host) ? 'udp6' : 'udp4');
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => {
        udp.off('error', reject);
        resolve();
      });
    }).catch((err: NodeJS.ErrnoException) => {
      udp.close();
      throw new Error(`DNS server cannot listen on udp ${host}:${port}: ${err.code ?? err.message}`, {
        cause: err,
      });
    });
    const bound = udp.address().port;
    const tcp = createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(bound, host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp, port: bound };
    } catch (err) {
      udp.close();
      if (port !== 0 || attempt >= 5)
        throw new Error(
          `DNS server cannot listen on tcp ${host}:${bound}: ${(err as NodeJS.ErrnoException).code ?? err}`,
          { cause: err },
        );
    }
  }
}
