// The echo's handshake report: each offered list with IANA names and hex codes, GREASE marked,
// unknown codes as hex, and one sentence per notable choice.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientHelloResult } from '../../src/tls/client-hello.js';
import { handshakeReport, type ClientHelloView } from '../../src/tls/report.js';
import { ext, ja4SpecHello, parsedSpec, type HelloSpec } from './hello-builder.js';

const hello = (spec: HelloSpec): ClientHelloResult => ({ parsed: parsedSpec(spec) });

const chromeLike: HelloSpec = {
  ciphers: [0x8a8a, 0x1301, 0x1302, 0x1303, 0xc02b, 0x1234],
  extensions: [
    ext.raw(0x2a2a),
    ext.sni('server2.tlsecho.test'),
    ext.alpn(['h2', 'http/1.1', Buffer.from([0xc3, 0xa9])]),
    ext.groups([0x3a3a, 0x11ec, 0x001d, 0x0017]),
    ext.keyShare([
      { group: 0x3a3a, length: 1 },
      { group: 0x11ec, length: 1216 },
      { group: 0x001d, length: 32 },
    ]),
    ext.versions([0x5a5a, 0x0304, 0x0303]),
    ext.sigalgs([0x0403, 0x0804, 0x0401]),
    ext.pskModes([0x1f * 2 + 0x0b, 1]),
    ext.ech(),
    ext.raw(0x4469, Buffer.from([0, 3, 2, 0x68, 0x32])),
    ext.raw(0x9a9a, Buffer.from([0])),
  ],
};

describe('handshakeReport: the offered side', () => {
  const report = handshakeReport(hello(chromeLike), {});
  const view = report.client_hello as ClientHelloView;

  it('names every list entry by IANA with its hex code, marks GREASE, shows unknown codes as hex', () => {
    assert.deepEqual(view.cipher_suites.slice(0, 2), [
      { code: '0x8a8a', name: 'GREASE', grease: true },
      { code: '0x1301', name: 'TLS_AES_128_GCM_SHA256' },
    ]);
    assert.deepEqual(view.cipher_suites.at(-1), { code: '0x1234', name: '0x1234' });
    assert.deepEqual(
      view.extensions.map((e) => e.name),
      [
        'GREASE',
        'server_name',
        'application_layer_protocol_negotiation',
        'supported_groups',
        'key_share',
        'supported_versions',
        'signature_algorithms',
        'psk_key_exchange_modes',
        'encrypted_client_hello',
        'application_settings_old',
        'GREASE',
      ],
    );
    assert.deepEqual(view.key_share, [
      { code: '0x3a3a', name: 'GREASE', grease: true, key_length: 1 },
      { code: '0x11ec', name: 'X25519MLKEM768', key_length: 1216 },
      { code: '0x001d', name: 'x25519', key_length: 32 },
    ]);
    assert.deepEqual(
      view.supported_versions?.map((v) => v.name),
      ['GREASE', 'TLS 1.3', 'TLS 1.2'],
    );
    assert.deepEqual(view.psk_key_exchange_modes, [
      { code: '0x49', name: 'GREASE', grease: true },
      { code: '0x01', name: 'psk_dhe_ke' },
    ]);
    assert.deepEqual(view.compression_methods, [{ code: '0x00', name: 'null' }]);
    assert.equal(view.server_name, 'server2.tlsecho.test');
    assert.equal(view.ech_offered, true);
    assert.equal(view.session_id_length, 32);
  });

  it('ALPN values: printable ASCII as text, anything else only as hex', () => {
    assert.deepEqual(view.alpn, [
      { value: 'h2', hex: '6832' },
      { value: 'http/1.1', hex: '687474702f312e31' },
      { value: null, hex: 'c3a9' },
    ]);
  });

  it('fingerprints leave GREASE out', () => {
    // Worked out by hand from chromeLike: its lists without the 0x?a?a values, the hashes by
    // sha256sum and md5sum of the strings.
    assert.equal(report.fingerprints?.ja4, 't13d0509h2_476358b0f816_1e86c7eb96d3');
    assert.equal(
      report.fingerprints?.ja4_r,
      't13d0509h2_1234,1301,1302,1303,c02b_000a,000d,002b,002d,0033,4469,fe0d_0403,0804,0401',
    );
    assert.equal(
      report.fingerprints?.ja3,
      '771,4865-4866-4867-49195-4660,0-16-10-51-43-13-45-65037-17513,4588-29-23,',
    );
    assert.equal(report.fingerprints?.ja3_hash, 'f1ff81712dc350d1d0a56623dc45dd3e');
  });

  it('an unreadable ClientHello is reported with its reason, no fingerprints', () => {
    const r = handshakeReport(
      { unparsed: 'truncated: 12 bytes, no complete ClientHello' },
      { version: 'TLSv1.3' },
    );
    assert.deepEqual(r.client_hello, { unparsed: 'truncated: 12 bytes, no complete ClientHello' });
    assert.equal(r.fingerprints, null);
    assert.equal(r.chosen.version, 'TLS 1.3');
    assert.deepEqual(r.notes, [
      'the ClientHello could not be read (truncated: 12 bytes, no complete ClientHello), so nothing offered can be shown',
    ]);
  });
});

describe('handshakeReport: offered against chosen', () => {
  it('one sentence per choice: version, ALPN, cipher position, group, SNI and certificate, ECH', () => {
    const r = handshakeReport(hello(chromeLike), {
      version: 'TLSv1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
      alpn: 'h2',
      group: 'X25519MLKEM768',
      resumed: false,
      certificateNames: ['server1.tlsecho.test', 'server2.tlsecho.test', 'localhost'],
    });
    assert.deepEqual(r.chosen, {
      version: 'TLS 1.3',
      cipher: 'TLS_AES_256_GCM_SHA384',
      alpn: 'h2',
      group: 'X25519MLKEM768',
      resumed: false,
      certificate_names: ['server1.tlsecho.test', 'server2.tlsecho.test', 'localhost'],
    });
    assert.deepEqual(r.notes, [
      'offered TLS 1.3 and TLS 1.2; chose TLS 1.3',
      'offered h2, http/1.1 and 0xc3a9; chose h2',
      "offered 5 cipher suites; chose TLS_AES_256_GCM_SHA384, the client's 2nd",
      'sent key shares for X25519MLKEM768 and x25519; chose X25519MLKEM768',
      'sent SNI server2.tlsecho.test; the certificate for server1.tlsecho.test, server2.tlsecho.test and localhost answered',
      'offered ECH (likely GREASE ECH); this server has no ECH keys, so the outer ClientHello was used',
    ]);
  });

  it('a server without TLS 1.3, ALPN none of ours, a group without a share, an uncovered SNI', () => {
    const r = handshakeReport(hello(ja4SpecHello()), {
      version: 'TLSv1.2',
      cipher: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256',
      alpn: false,
      group: 'P-256',
      certificateNames: ['*.tlsecho.test'],
    });
    assert.deepEqual(r.notes, [
      'offered TLS 1.3 and TLS 1.2 but the server chose TLS 1.2: TLS 1.3 is not enabled on it',
      'offered h2 and http/1.1; the server accepted none of them and chose no ALPN',
      "offered 15 cipher suites; chose TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, the client's 5th",
      'sent key shares for x25519; chose P-256, which cost a HelloRetryRequest round trip',
      'sent SNI example.com, which the certificate that answered (*.tlsecho.test) does not cover',
    ]);
  });

  it('no supported_versions, no ALPN, no SNI, a resumed and a refused resumption', () => {
    const old = hello({
      legacyVersion: 0x0303,
      ciphers: [0xc02f],
      extensions: [ext.raw(0x0023, Buffer.alloc(180))],
    });
    assert.deepEqual(
      handshakeReport(old, {
        version: 'TLSv1.2',
        alpn: false,
        resumed: true,
        certificateNames: ['a.test', '*.b.test'],
      }).notes,
      [
        'offered up to TLS 1.2 (no supported_versions extension); chose TLS 1.2',
        'offered no ALPN, so HTTP/1.1 is assumed',
        'resumed an earlier session: no certificate was sent',
        'sent no SNI; the default certificate answered (a.test and *.b.test)',
      ],
    );
    const psk = hello({
      ciphers: [0x1301],
      extensions: [ext.sni('x.b.test'), ext.versions([0x0304]), ext.psk(1)],
    });
    assert.deepEqual(
      handshakeReport(psk, { resumed: false, certificateNames: ['a.test', '*.b.test'] }).notes,
      [
        'offered a session to resume; the server did a full handshake instead',
        'sent SNI x.b.test; the certificate for a.test and *.b.test answered',
      ],
    );
  });

  it('without a group from the server, an offered X25519MLKEM768 is still pointed out', () => {
    const r = handshakeReport(hello(chromeLike), {});
    assert.ok(
      r.notes.includes('offered X25519MLKEM768 (post-quantum hybrid) with a key share'),
      r.notes.join('\n'),
    );
  });
});
