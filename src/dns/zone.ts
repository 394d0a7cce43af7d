// The embedded DNS server's answers, as a pure function from a query packet to a response packet.
// It is authoritative for one zone and nothing else: no recursion, so names outside the zone are
// REFUSED rather than forwarded. The wire format is dns-packet's; nothing here parses bytes.
import { isIP } from 'node:net';
import dnsPacket, { type Answer, type DecodedPacket, type Packet } from 'dns-packet';

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
export type RcodeName = keyof typeof RCODE;

const OPCODE_QUERY = 0;
/** Short, because the demo's addresses are not meant to be cached for long. */
const DEFAULT_TTL = 5;

export interface ZoneConfig {
  /** The zone apex, e.g. `tlsecho.test`: every name under it is ours to answer. */
  zone: string;
  /** name → addresses (IPv4 and/or IPv6); names are matched case-insensitively. */
  records: Record<string, string[]>;
  ttl?: number;
}

export interface Zone {
  zone: string;
  ttl: number;
  a: Map<string, string[]>;
  aaaa: Map<string, string[]>;
}

/** Lower-case, without the trailing dot: the form names are compared in. */
export function canonicalName(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

function inZone(name: string, zone: string): boolean {
  return name === zone || name.endsWith(`.${zone}`);
}

export function buildZone(config: ZoneConfig): Zone {
  const zone = canonicalName(config.zone);
  const a = new Map<string, string[]>();
  const aaaa = new Map<string, string[]>();
  for (const [rawName, addresses] of Object.entries(config.records)) {
    const name = canonicalName(rawName);
    if (!inZone(name, zone)) throw new Error(`DNS record ${rawName} is outside the zone ${zone}`);
    for (const address of addresses) {
      const family = isIP(address);
      if (family === 0) throw new Error(`DNS record ${rawName}: '${address}' is not an IP address`);
      const map = family === 4 ? a : aaaa;
      map.set(name, [...(map.get(name) ?? []), address]);
    }
  }
  return { zone, ttl: config.ttl ?? DEFAULT_TTL, a, aaaa };
}

export interface Answered {
  response: Packet;
  rcode: RcodeName;
  /** The addresses answered, for logging. */
  addresses: string[];
}

/** The header-only answer to a packet that could not even be decoded. */
export function formatErrorResponse(id: number): Packet {
  return { type: 'response', id, flags: RCODE.FORMERR, questions: [] };
}

export function answer(zone: Zone, query: DecodedPacket): Answered {
  const opcode = ((query.flags ?? 0) >> 11) & 0xf;
  const rd = (query.flags ?? 0) & dnsPacket.RECURSION_DESIRED;
  const questions = query.questions ?? [];
  const hasEdns = (query.additionals ?? []).some((r) => r.type === 'OPT');
  const reply = (rcode: RcodeName, answers: Answer[] = [], authorities: Answer[] = [], aa = true) => ({
    response: {
      type: 'response' as const,
      id: query.id,
      // QR is set by dns-packet from `type`; opcode echoed, AA for our zone, RD copied, RA never.
      flags: (opcode << 11) | (aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rd | RCODE[rcode],
      questions,
      answers,
      authorities,
      // Answer EDNS with EDNS (RFC 6891), advertising the conventional safe UDP size.
      additionals: hasEdns ? [ednsOpt()] : [],
    } satisfies Packet,
    rcode,
    addresses: answers.map((r) => String((r as { data: unknown }).data)),
  });

  if (opcode !== OPCODE_QUERY) return reply('NOTIMP', [], [], false);
  if (questions.length !== 1) return reply('FORMERR', [], [], false);
  const q = questions[0]!;
  const name = canonicalName(q.name);
  if (q.class !== 'IN' && (q.class as string) !== 'ANY') return reply('REFUSED', [], [], false);
  if (!inZone(name, zone.zone)) return reply('REFUSED', [], [], false);

  const soa = soaRecord(zone);
  const known = zone.a.has(name) || zone.aaaa.has(name);
  const records = (type: 'A' | 'AAAA'): Answer[] =>
    ((type === 'A' ? zone.a : zone.aaaa).get(name) ?? []).map((data) => ({
      name: q.name, // echo the asker's spelling (0x20 case randomisation)
      type,
      class: 'IN',
      ttl: zone.ttl,
      data,
    }));

  let answers: Answer[] = [];
  if (q.type === 'A' || q.type === 'AAAA') answers = records(q.type);
  else if ((q.type as string) === 'ANY') answers = [...records('A'), ...records('AAAA')];
  else if (q.type === 'SOA' && name === zone.zone) answers = [{ ...soa, name: q.name }];

  if (answers.length > 0) return reply('NOERROR', answers);
  // The apex exists (it holds the SOA); any other name we have no record for does not.
  if (!known && name !== zone.zone) return reply('NXDOMAIN', [], [soa]);
  return reply('NOERROR', [], [soa]); // NODATA: the name exists, not with this type
}

function ednsOpt(): Answer {
  return {
    type: 'OPT',
    name: '.',
    udpPayloadSize: 1232,
    extendedRcode: 0,
    ednsVersion: 0,
    flags: 0,
    flag_do: false,
    options: [],
  };
}

/** The zone's SOA, sent with negative answers so resolvers know how long to cache them. */
function soaRecord(zone: Zone): Answer {
  return {
    name: zone.zone,
    type: 'SOA',
    class: 'IN',
    ttl: zone.ttl,
    data: {
      mname: `ns.${zone.zone}`,
      rname: `hostmaster.${zone.zone}`,
      serial: 1,
      refresh: 3600,
      retry: 600,
      expire: 86400,
      minimum: zone.ttl,
    },
  };
}
