// The embedded DNS server answers real queries over UDP and TCP: node's resolver, dig, and raw
// packets (encoded with dns-packet) for the header details resolvers hide.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { promises as dnsPromises } from 'node:dns';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import dnsPacket, { type DecodedPacket } from 'dns-packet';
import { startDnsServer, type DnsQueryLog, type DnsServer } from '../../src/dns/server.js';

const HAVE_DIG = spawnSync('dig', ['-v']).status === 0;

// Asynchronous: the server under test runs in this process, so a blocking dig would starve it.
async function dig(server: DnsServer, ...args: string[]): Promise<string> {
  const run = promisify(execFile);
  const { stdout } = await run('dig', [
    `@${server.host}`,
    '-p',
    String(server.port),
    '+time=2',
    '+tries=1',
    ...args,
  ]);
  return stdout;
}

function udpQuery(server: DnsServer, packet: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const sock = createSocket('udp4');
    const timer = setTimeout(() => {
      sock.close();
      reject(new Error('no UDP answer within 2s'));
    }, 2000);
    sock.on('message', (msg) => {
      clearTimeout(timer);
      sock.close();
      resolve(msg);
    });
    sock.send(packet, server.port, server.host);
  });
}

function tcpQuery(server: DnsServer, packets: Buffer[]): Promise<DecodedPacket[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(server.port, server.host);
    let buf = Buffer.alloc(0);
    const answers: DecodedPacket[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('no TCP answer within 2s'));
    }, 2000);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        answers.push(dnsPacket.decode(buf.subarray(2, 2 + len)));
        buf = buf.subarray(2 + len);
      }
      if (answers.length === packets.length) {
        clearTimeout(timer);
        socket.end();
        resolve(answers);
      }
    });
    socket.on('error', reject);
    // Both messages in one write: pipelined queries must each get their answer.
    socket.write(
      Buffer.concat(packets.map((p) => Buffer.concat([Buffer.from([p.length >> 8, p.length & 255]), p]))),
    );
  });
}

function rcodeOf(p: DecodedPacket): number {
  return (p.flags ?? 0) & 0xf;
}

describe('embedded DNS server', () => {
  let server: DnsServer;
  const queries: DnsQueryLog[] = [];
  before(async () => {
    server = await startDnsServer({
      host: '127.0.0.1',
      port: 0,
      zone: 'tlsecho.test',
      records: {
        'server1.tlsecho.test': ['127.0.0.1'],
        'Server2.tlsecho.test': ['10.1.2.3', '10.1.2.4'],
        'v6only.tlsecho.test': ['::1'],
      },
      onQuery: (q) => queries.push(q),
    });
  });
  after(() => server.close());

  it('answers A records to node:dns Resolver, case-insensitively', async () => {
    const r = new dnsPromises.Resolver({ timeout: 2000, tries: 1 });
    r.setServers([server.address]);
    assert.deepEqual(await r.resolve4('server1.tlsecho.test'), ['127.0.0.1']);
    assert.deepEqual((await r.resolve4('SERVER2.TLSECHO.TEST')).sort(), ['10.1.2.3', '10.1.2.4']);
    assert.deepEqual(await r.resolve6('v6only.tlsecho.test'), ['::1']);
    await assert.rejects(r.resolve4('nothere.tlsecho.test'), { code: 'ENOTFOUND' });
    await assert.rejects(r.resolve4('v6only.tlsecho.test'), { code: 'ENODATA' });
    await assert.rejects(r.resolve4('example.com'), { code: 'EREFUSED' });
    assert.ok(queries.some((q) => q.name.toLowerCase() === 'server2.tlsecho.test' && q.rcode === 'NOERROR'));
  });

  it('echoes id, question and RD; sets QR and AA but not RA', async () => {
    const query = dnsPacket.encode({
      type: 'query',
      id: 0xbeef,
      flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: 'A', name: 'sErVeR1.tlsecho.test' }],
    });
    const res = dnsPacket.decode(await udpQuery(server, query));
    assert.equal(res.id, 0xbeef);
    assert.equal(res.type, 'response');
    assert.equal(res.flag_aa, true);
    assert.equal(res.flag_rd, true);
    assert.equal(res.flag_ra, false);
    assert.equal(rcodeOf(res), 0);
    assert.deepEqual(res.questions, [{ name: 'sErVeR1.tlsecho.test', type: 'A', class: 'IN' }]);
    assert.equal(res.answers?.length, 1);
    assert.equal(res.answers?.[0]?.name, 'sErVeR1.tlsecho.test');
    assert.equal((res.answers?.[0] as { data: string }).data, '127.0.0.1');
  });

  it('NXDOMAIN with the SOA for unknown names in the zone; REFUSED outside it', async () => {
    const nx = dnsPacket.decode(
      await udpQuery(
        server,
        dnsPacket.encode({ id: 7, questions: [{ type: 'A', name: 'nope.tlsecho.test' }] }),
      ),
    );
    assert.equal(rcodeOf(nx), 3);
    assert.equal(nx.flag_aa, true);
    assert.equal(nx.authorities?.[0]?.type, 'SOA');
    const out = dnsPacket.decode(
      await udpQuery(server, dnsPacket.encode({ id: 8, questions: [{ type: 'A', name: 'example.org' }] })),
    );
    assert.equal(rcodeOf(out), 5);
    assert.equal(out.answers?.length, 0);
  });

  it('NOTIMP for other opcodes, FORMERR for garbage and for two questions', async () => {
    const status = Buffer.from(
      dnsPacket.encode({ id: 9, questions: [{ type: 'A', name: 'server1.tlsecho.test' }] }),
    );
    status.writeUInt16BE(2 << 11, 2); // opcode STATUS
    const notimp = dnsPacket.decode(await udpQuery(server, status));
    assert.equal(notimp.id, 9);
    assert.equal(rcodeOf(notimp), 4);

    const garbage = dnsPacket.decode(await udpQuery(server, Buffer.from([0x12, 0x34, 0xff, 0xff, 0, 9])));
    assert.equal(garbage.id, 0x1234);
    assert.equal(rcodeOf(garbage), 1);

    const two = dnsPacket.decode(
      await udpQuery(
        server,
        dnsPacket.encode({
          id: 10,
          questions: [
            { type: 'A', name: 'server1.tlsecho.test' },
            { type: 'A', name: 'server2.tlsecho.test' },
          ],
        }),
      ),
    );
    assert.equal(rcodeOf(two), 1);
  });

  it('answers pipelined queries over TCP', async () => {
    const [a, b] = await tcpQuery(server, [
      dnsPacket.encode({ id: 1, questions: [{ type: 'A', name: 'server1.tlsecho.test' }] }),
      dnsPacket.encode({ id: 2, questions: [{ type: 'AAAA', name: 'v6only.tlsecho.test' }] }),
    ]);
    assert.equal(a?.id, 1);
    assert.equal((a?.answers?.[0] as { data: string }).data, '127.0.0.1');
    assert.equal(b?.id, 2);
    assert.equal((b?.answers?.[0] as { data: string }).data, '::1');
    assert.ok(queries.some((q) => q.transport === 'tcp' && q.name === 'v6only.tlsecho.test'));
  });

  it('answers dig over UDP and TCP', { skip: !HAVE_DIG && 'dig (dnsutils) is not installed' }, async () => {
    assert.equal((await dig(server, '+short', 'server1.tlsecho.test')).trim(), '127.0.0.1');
    const tcp = await dig(server, '+tcp', 'server2.tlsecho.test');
    assert.match(tcp, /status: NOERROR/);
    assert.match(tcp, /flags: qr aa rd;/);
    assert.match(tcp, /server2\.tlsecho\.test\.\s+5\s+IN\s+A\s+10\.1\.2\.3/);
    assert.match(await dig(server, 'gone.tlsecho.test'), /status: NXDOMAIN/);
    assert.match(await dig(server, 'www.example.com'), /status: REFUSED/);
    assert.match(await dig(server, '+opcode=status', 'server1.tlsecho.test'), /status: NOTIMP/);
    assert.match(await dig(server, 'server1.tlsecho.test', 'MX'), /status: NOERROR[\s\S]*ANSWER: 0/);
  });
});
