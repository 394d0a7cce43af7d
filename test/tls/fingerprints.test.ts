// JA4 and JA3 against the vectors their specs publish (FoxIO technical_details/JA4.md,
// salesforce/ja3's README), computed from ClientHello bytes through the real parser.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ja3, ja3Hash, ja3String } from '../../src/tls/ja3.js';
import { alpnChars, ja4 } from '../../src/tls/ja4.js';
import { ext, ja4SpecHello, parsedSpec } from './hello-builder.js';

describe('JA4 (FoxIO technical_details/JA4.md)', () => {
  it("the spec's example gives t13d1516h2_8daaf6152771_e5627efa2ab1 and its raw and original forms", () => {
    const f = ja4(parsedSpec(ja4SpecHello()));
    assert.equal(f.ja4, 't13d1516h2_8daaf6152771_e5627efa2ab1');
    assert.equal(
      f.ja4_r,
      't13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
    );
    assert.equal(f.ja4_o, 't13d1516h2_acb858a92679_18f69afefd3d');
    assert.equal(
      f.ja4_ro,
      't13d1516h2_1301,1302,1303,c02b,c02f,c02c,c030,cca9,cca8,c013,c014,009c,009d,002f,0035_001b,0000,0033,0010,4469,0017,002d,000d,0005,0023,0012,002b,ff01,000b,000a,0015_0403,0804,0401,0503,0805,0501,0806,0601',
    );
  });

  it('without signature algorithms the extension hash has no underscore (the spec: 6d807ffa2a79)', () => {
    // signature_algorithms still sent, but holding only a GREASE value, which JA4 ignores.
    const spec = ja4SpecHello();
    spec.extensions = spec.extensions!.map((e) => (e.type === 0x000d ? ext.sigalgs([0x0a0a]) : e));
    assert.equal(ja4(parsedSpec(spec)).ja4, 't13d1516h2_8daaf6152771_6d807ffa2a79');
  });

  it('GREASE anywhere changes nothing: ciphers, extensions, versions', () => {
    const spec = ja4SpecHello();
    spec.ciphers = [0x3a3a, ...spec.ciphers];
    spec.extensions = [
      ext.raw(0xdada),
      ...spec.extensions!.map((e) => (e.type === 0x002b ? ext.versions([0x8a8a, 0x0304, 0x0303]) : e)),
      ext.raw(0x1a1a, Buffer.from([0])),
    ];
    assert.equal(ja4(parsedSpec(spec)).ja4, 't13d1516h2_8daaf6152771_e5627efa2ab1');
  });

  it('reordering ciphers or extensions changes ja4_o but not ja4', () => {
    const spec = ja4SpecHello();
    spec.ciphers = [...spec.ciphers].reverse();
    spec.extensions = [...spec.extensions!].reverse();
    const f = ja4(parsedSpec(spec));
    assert.equal(f.ja4, 't13d1516h2_8daaf6152771_e5627efa2ab1');
    assert.notEqual(f.ja4_o, 't13d1516h2_acb858a92679_18f69afefd3d');
  });

  it('no supported_versions: legacy_version decides; no SNI: "i"; no ALPN: "00"; no ciphers: zeros', () => {
    const f = ja4(
      parsedSpec({ legacyVersion: 0x0301, ciphers: [0x002f], extensions: [ext.groups([0x0017])] }),
    );
    assert.equal(f.ja4.split('_')[0], 't10i010100');
    const none = ja4(parsedSpec({ ciphers: [0x0a0a], extensions: undefined }));
    assert.equal(none.ja4, 't12i000000_000000000000_000000000000');
  });

  it("first/last ALPN characters follow the spec's examples, verbatim", () => {
    const cases: [number[], string][] = [
      [[0xab], 'ab'],
      [[0x20], '20'],
      [[0xab, 0xcd], 'ad'],
      [[0x20, 0x61], '21'],
      [[0x30, 0xab], '3b'],
      [[0x61, 0x20], '60'],
      [[0x30, 0x31, 0xab, 0xcd], '3d'],
      [[0x30, 0xab, 0xcd, 0x31], '01'],
    ];
    for (const [bytes, want] of cases)
      assert.equal(alpnChars([Buffer.from(bytes)]), want, Buffer.from(bytes).toString('hex'));
    assert.equal(alpnChars([Buffer.from('http/1.1')]), 'h1');
    assert.equal(alpnChars([Buffer.from('h')]), 'hh', 'a single character is first and last');
    assert.equal(alpnChars(undefined), '00');
    assert.equal(alpnChars([Buffer.from([0x2a, 0x2a]), Buffer.from('h2')]), 'h2', 'a GREASE ALPN is skipped');
  });
});

describe('JA3 (salesforce/ja3)', () => {
  const README = '769,47-53-5-10-49161-49162-49171-49172-50-56-19-4,0-10-11,23-24-25,0';

  it("the README's string hashes to ada70206e40642a3e4461f35503241d5", () => {
    assert.equal(ja3Hash(README), 'ada70206e40642a3e4461f35503241d5');
  });

  it("a ClientHello with the README's lists (plus GREASE) gives that string and hash", () => {
    const hello = parsedSpec({
      legacyVersion: 769,
      ciphers: [0x2a2a, 47, 53, 5, 10, 49161, 49162, 49171, 49172, 50, 56, 19, 4],
      extensions: [
        ext.sni('a.example'),
        ext.raw(0x4a4a),
        ext.groups([0x5a5a, 23, 24, 25]),
        ext.pointFormats([0]),
      ],
    });
    assert.equal(ja3String(hello), README);
    assert.deepEqual(ja3(hello), { ja3: README, ja3_hash: 'ada70206e40642a3e4461f35503241d5' });
  });
});
