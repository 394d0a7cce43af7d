// Fuzz-style: thousands of random and mutated ClientHellos (bounded in count and in time, from a
// printed seed so a failure can be replayed with TLSECHO_FUZZ_SEED) must each end in a parse or a
// one-line reason: no exception, no hang, nothing read past the cap. Then a few hundred of them
// through real sockets into captureClientHello, which must settle for every one.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  frameClientHello,
  MAX_CLIENT_HELLO_BYTES,
  parseClientHello,
  type ClientHelloResult,
} from '../../src/tls/client-hello.js';
import { ja3 } from '../../src/tls/ja3.js';
import { ja4 } from '../../src/tls/ja4.js';
import { makePki, tempDir } from '../helpers/pki.js';
import { buildClientHello, ext, ja4SpecHello, type HelloSpec } from './hello-builder.js';
import { startHelloServer, type HelloServer } from './fixture.js';

const SEED = Number(process.env.TLSECHO_FUZZ_SEED ?? Date.now() % 2 ** 31);

/** xorshift32: a reproducible stream of numbers from SEED. */
function rng(seed: number): (n: number) => number {
  let x = seed || 1;
  return (n) => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return n > 0 ? (x >>> 0) % n : 0;
  };
}

function seeds(): Buffer[] {
  const spec = ja4SpecHello();
  const grease: HelloSpec = {
    ciphers: [0x8a8a, 0x1301, 0x1302, 0xc02b],
    extensions: [
      ext.raw(0x2a2a),
      ext.sni('grease.example'),
      ext.keyShare([
        { group: 0x3a3a, length: 1 },
        { group: 0x11ec, length: 1216 },
        { group: 0x001d, length: 32 },
      ]),
      ext.ech(),
      ext.versions([0x4a4a, 0x0304, 0x0303]),
      ext.psk(2),
    ],
  };
  return [
    buildClientHello(spec),
    buildClientHello({ ...spec, recordSize: 97 }),
    buildClientHello(grease),
    buildClientHello({ ...grease, recordSize: 300 }),
    buildClientHello({ legacyVersion: 0x0301, ciphers: [0x002f, 0x0035], compression: [1, 0] }),
  ];
}

function mutate(seed: Buffer, r: (n: number) => number): Buffer {
  const b = Buffer.from(seed);
  switch (r(7)) {
    case 0: // flip a few bytes
      for (let i = 1 + r(4); i > 0; i--) b[r(b.length)] = r(256);
      return b;
    case 1: // truncate
      return b.subarray(0, r(b.length));
    case 2: {
      // overwrite a two-byte (length) field with an extreme or random value
      if (b.length < 2) return b;
      const at = r(b.length - 1);
      b.writeUInt16BE([0, 1, 0xffff, 0x4000, r(0x10000)][r(5)]!, at);
      return b;
    }
    case 3: {
      // duplicate a slice in place
      const at = r(b.length);
      const len = r(64);
      return Buffer.concat([b.subarray(0, at), b.subarray(at, at + len), b.subarray(at)]);
    }
    case 4: // delete a slice
      return Buffer.concat([b.subarray(0, r(b.length)), b.subarray(r(b.length))]);
    case 5: {
      // pure noise behind a plausible record header, sometimes huge
      const noise = Buffer.alloc(r(2) ? r(512) : MAX_CLIENT_HELLO_BYTES + r(4096));
      for (let i = 0; i < noise.length; i += 97) noise[i] = r(256);
      return Buffer.concat([Buffer.from([0x16, 0x03, r(5), r(256), r(256), 1]), noise]);
    }
    default: // the seed as is
      return b;
  }
}

function check(input: Buffer, result: ClientHelloResult): void {
  const keys = Object.keys(result);
  assert.equal(keys.length, 1, `result with keys ${keys.join(',')}`);
  if ('unparsed' in result) {
    assert.equal(typeof result.unparsed, 'string');
    assert.ok(result.unparsed.length > 0 && !result.unparsed.includes('\n'), `reason: ${result.unparsed}`);
    assert.ok(
      !result.unparsed.startsWith('parser error'),
      `an internal error, not a reason: ${result.unparsed}`,
    );
    return;
  }
  const h = result.parsed;
  assert.ok(h.handshakeLength <= MAX_CLIENT_HELLO_BYTES && h.handshakeLength <= input.length);
  assert.match(
    ja4(h).ja4,
    /^t(13|12|11|10|s3|s2|d1|d2|d3|00)[di]\d{4}[0-9a-zA-Z]{2}_[0-9a-f]{12}_[0-9a-f]{12}$/,
  );
  assert.match(ja3(h).ja3_hash, /^[0-9a-f]{32}$/);
}

describe(`ClientHello parser under fuzzing (TLSECHO_FUZZ_SEED=${SEED})`, () => {
  it('20000 mutated and random inputs (at most 15 s): each parsed or a one-line reason, never a throw', () => {
    const r = rng(SEED);
    const base = seeds();
    for (const s of base) assert.ok('parsed' in parseClientHello(s), 'every seed parses unmutated');
    const outcomes = { parsed: 0, unparsed: 0 };
    const deadline = Date.now() + 15_000;
    let i = 0;
    for (; i < 20_000 && Date.now() < deadline; i++) {
      let input = mutate(base[r(base.length)]!, r);
      if (r(4) === 0) input = mutate(input, r);
      let result: ClientHelloResult;
      try {
        result = parseClientHello(input);
      } catch (err) {
        assert.fail(`threw on input ${input.subarray(0, 64).toString('hex')}…: ${(err as Error).stack}`);
      }
      check(input, result);
      outcomes['parsed' in result ? 'parsed' : 'unparsed']++;
    }
    assert.ok(i >= 2000, `only ${i} inputs in 15 s`);
    // Both sides exercised: a fuzzer that only ever hits the first check proves nothing.
    assert.ok(outcomes.parsed > i / 20 && outcomes.unparsed > i / 4, JSON.stringify(outcomes));
  });

  it('a 16 MiB input is cut at the cap: "too_large" without reading it all', () => {
    const huge = Buffer.alloc(16 * 1024 * 1024, 0x41);
    huge.set([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0xff, 0xff, 0xff]);
    assert.deepEqual(parseClientHello(huge), {
      unparsed: 'ClientHello of 16777219 bytes, over the 65536 read',
    });
    // A 60 KiB message in 16 KiB records ends past the cap (record headers count): the cap ends it.
    const records = Buffer.concat(
      Array.from({ length: 8 }, (_, k) =>
        Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00]), Buffer.alloc(0x4000, k ? 0 : 1)]),
      ),
    );
    records.set([0x01, 0x00, 0xf0, 0x00], 5);
    assert.deepEqual(parseClientHello(records), {
      unparsed: 'no complete ClientHello in the first 65536 bytes',
    });
  });
});

/**
 * What a capture must report for a client that sends `input` and closes: the framing of all of
 * it (framing decides on a prefix only what the whole would decide too), "closed" if that is
 * still short of a ClientHello.
 */
function expectedCapture(input: Buffer): { status: string; reason: string | undefined } {
  const f = frameClientHello(input);
  if (f.status === 'complete') return { status: 'complete', reason: undefined };
  if (f.status === 'need_more')
    return {
      status: 'closed',
      reason: `the client closed after ${input.length} bytes, before a complete ClientHello`,
    };
  return { status: f.status, reason: f.reason };
}

describe('captureClientHello under fuzzing, on real sockets', () => {
  const t = tempDir('tlsecho-fuzz-');
  let server: HelloServer;
  before(async () => {
    server = await startHelloServer(await makePki(join(t.dir, 'certs')), 300);
  });
  after(async () => {
    await server.close();
    t.cleanup();
  });

  it('200 mutated ClientHellos in random pieces: each capture reports what its bytes decide, bytes at most cap + one read', async () => {
    const r = rng(SEED ^ 0x5a5a5a5a);
    const base = seeds();
    const count = 200;
    const sent = new Map<number, Buffer>();
    for (let batch = 0; batch < count; batch += 20) {
      await Promise.all(
        Array.from({ length: 20 }, () => {
          const input = mutate(base[r(base.length)]!, r);
          const cut = r(input.length + 1);
          return new Promise<void>((resolve) => {
            const s = connect(server.port, '127.0.0.1', () => {
              sent.set(s.localPort!, input);
              s.write(input.subarray(0, cut));
              setTimeout(() => s.end(input.subarray(cut)), r(5));
            });
            s.on('error', () => resolve());
            s.on('close', () => resolve());
            s.resume();
            setTimeout(() => s.destroy(), 5000).unref();
          });
        }),
      );
    }
    let timeouts = 0;
    for (let n = 0; n < count; n++) {
      const seen = await server.connection(n);
      const input = sent.get(seen.remotePort!)!;
      const { status, reason } = seen.capture;
      if (status === 'timeout') {
        // The one outcome the bytes do not decide: a loaded machine may miss the 300 ms.
        timeouts++;
        assert.match(reason ?? '', /^no complete ClientHello within 300 ms \(\d+ bytes read\)$/);
      } else {
        assert.deepEqual({ status, reason }, expectedCapture(input), input.subarray(0, 64).toString('hex'));
      }
      assert.ok(
        seen.capture.bytes.length <= 2 * MAX_CLIENT_HELLO_BYTES,
        `${seen.capture.bytes.length} bytes kept`,
      );
      check(seen.capture.bytes, seen.capture.hello());
      await seen.settled;
    }
    assert.ok(timeouts < count / 10, `${timeouts} of ${count} captures timed out`);
  });
});
