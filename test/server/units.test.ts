// Table-driven tests of the server's pure functions (as go-httpbin's helpers_test.go): each row
// is an input and the answer it must get, edge cases included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { authorityMatchesSni, negotiate, type Format } from '../../src/server/echo.js';
import { certificateCovers, plainIp, serverNameLabeler } from '../../src/server/facts.js';
import { clientErrorStatus } from '../../src/server/h1.js';
import { isoTime, logSafe } from '../../src/server/logging.js';
import { alpnList } from '../../src/server/options.js';
import {
  hostOnly,
  parseTarget,
  queryParameters,
  summarizeBody,
  validHost,
} from '../../src/server/request.js';
import { httpsLocation } from '../../src/server/http-plain.js';
import { handshakeFailureReason } from '../../src/server/metrics.js';

describe('negotiate(accept, query)', () => {
  const rows: [accept: string | undefined, query: string | undefined, want: Format][] = [
    [undefined, undefined, 'text'], // curl without -H
    ['*/*', undefined, 'text'],
    ['text/plain', undefined, 'text'],
    ['application/json', undefined, 'json'],
    ['text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8', undefined, 'html'], // a browser
    ['application/json, text/html', undefined, 'json'], // JSON wins when both are named
    [undefined, 'format=json', 'json'],
    ['text/html', 'format=text', 'text'], // ?format= beats Accept
    ['application/json', 'format=html', 'html'],
    [undefined, 'a=1&format=json&b=2', 'json'],
    [undefined, 'format=xml', 'text'], // an unknown format is ignored
    ['application/json', 'format=xml', 'json'],
    [undefined, 'xformat=json', 'text'], // only the whole parameter name counts
    [undefined, 'format=jsonx', 'text'],
    [undefined, '', 'text'],
  ];
  for (const [accept, query, want] of rows)
    it(`Accept ${JSON.stringify(accept)}, query ${JSON.stringify(query)} → ${want}`, () => {
      assert.equal(negotiate(accept, query), want);
    });
});

describe('serverNameLabeler(names)(sni)', () => {
  const label = serverNameLabeler(['server1.tlsecho.test', 'Server2.tlsecho.test', '*.apps.tlsecho.test']);
  const rows: [sni: string | undefined, want: string][] = [
    ['server1.tlsecho.test', 'server1.tlsecho.test'],
    ['SERVER1.TLSECHO.TEST', 'server1.tlsecho.test'], // DNS names are case-insensitive
    ['server2.tlsecho.test', 'server2.tlsecho.test'], // the certificate's spelling is lowered too
    ['a.apps.tlsecho.test', '*.apps.tlsecho.test'],
    ['A.Apps.Tlsecho.Test', '*.apps.tlsecho.test'],
    ['a.b.apps.tlsecho.test', 'other'], // a wildcard matches one label only
    ['apps.tlsecho.test', 'other'], // ...and not the bare parent
    ['server9.tlsecho.test', 'other'],
    ['localhost', 'other'], // no dot at all
    ['', 'other'],
    ['fe80::1%eth0', 'other'], // an IPv6 address with a zone: no URL form, in no certificate
    [undefined, 'none'], // no SNI sent
  ];
  for (const [sni, want] of rows)
    it(`${JSON.stringify(sni)} → ${want}`, () => {
      assert.equal(label(sni), want);
    });
});

describe('httpsLocation(host, url, httpsPort)', () => {
  const rows: [host: string | undefined, url: string, port: number, want: string | undefined][] = [
    ['server1.tlsecho.test:8080', '/ping', 8443, 'https://server1.tlsecho.test:8443/ping'],
    ['server1.tlsecho.test', '/ping', 8443, 'https://server1.tlsecho.test/ping'], // port 80 → 443
    ['server1.tlsecho.test:8080', '/', 443, 'https://server1.tlsecho.test/'],
    ['127.0.0.1:8080', '/?format=json', 8443, 'https://127.0.0.1:8443/?format=json'],
    ['[::1]:8080', '/', 8443, 'https://[::1]:8443/'],
    ['[::1]', '/', 8443, 'https://[::1]/'],
    [undefined, '/', 8443, undefined], // HTTP/1.0 without Host: nowhere to send the client
    ['', '/', 8443, undefined],
    ['evil.test/x', '/', 8443, undefined], // not a host name: no open redirect
    ['evil.test@other.test', '/', 8443, undefined],
    ['server1.tlsecho.test:80:80', '/', 8443, undefined],
    ['server1.tlsecho.test:123456', '/', 8443, undefined],
    ['-bad.test', '/', 8443, undefined],
  ];
  for (const [host, url, port, want] of rows)
    it(`Host ${JSON.stringify(host)} ${url} (HTTPS on ${port}) → ${want}`, () => {
      assert.equal(httpsLocation(host, url, port), want);
    });
});

describe('handshakeFailureReason(err)', () => {
  // The codes and messages Node's TLS server reports (seen on Node 20 and 24).
  const rows: [code: string | undefined, message: string, want: string][] = [
    ['ERR_TLS_HANDSHAKE_TIMEOUT', 'TLS handshake timeout', 'timeout'],
    ['ECONNRESET', 'read ECONNRESET', 'connection_reset'],
    ['EPIPE', 'write EPIPE', 'connection_reset'],
    ['ERR_SSL_NO_SHARED_CIPHER', 'no shared cipher', 'no_shared_cipher'],
    ['ERR_SSL_UNSUPPORTED_PROTOCOL', 'unsupported protocol', 'unsupported_protocol'],
    ['ERR_SSL_VERSION_TOO_LOW', 'version too low', 'unsupported_protocol'],
    ['ERR_SSL_PEER_DID_NOT_RETURN_A_CERTIFICATE', 'peer did not return a certificate', 'client_cert_missing'],
    ['ERR_SSL_CERTIFICATE_VERIFY_FAILED', 'certificate verify failed', 'client_cert_rejected'],
    ['ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE', 'sslv3 alert bad certificate', 'server_cert_rejected'],
    ['ERR_SSL_TLSV1_ALERT_UNKNOWN_CA', 'tlsv1 alert unknown ca', 'server_cert_rejected'],
    ['ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN', 'sslv3 alert certificate unknown', 'server_cert_rejected'],
    ['ERR_SSL_TLSV1_ALERT_DECODE_ERROR', 'tlsv1 alert decode error', 'client_alert'],
    ['ERR_SSL_WRONG_VERSION_NUMBER', 'wrong version number', 'other'],
    [undefined, 'something else', 'other'],
  ];
  for (const [code, message, want] of rows)
    it(`${code ?? '(no code)'} → ${want}`, () => {
      const err: NodeJS.ErrnoException = Object.assign(new Error(message), code ? { code } : {});
      assert.equal(handshakeFailureReason(err), want);
    });
});

describe('plainIp(address)', () => {
  const rows: [address: string | undefined, want: string][] = [
    ['127.0.0.1', '127.0.0.1'],
    ['::ffff:10.0.0.5', '10.0.0.5'], // an IPv4 client of a dual-stack listener
    ['::1', '::1'],
    ['::ffff:abcd', '::ffff:abcd'], // an IPv6 address that only starts like a mapped one
    ['2001:db8::1', '2001:db8::1'],
    ['', 'unknown'],
    [undefined, 'unknown'], // a socket already closed
  ];
  for (const [address, want] of rows)
    it(`${JSON.stringify(address)} → ${want}`, () => {
      assert.equal(plainIp(address), want);
    });
});

describe('parseTarget(target)', () => {
  const rows: [target: string, path: string, query: string | undefined, authority: string | undefined][] = [
    ['/', '/', undefined, undefined],
    ['/ping?x=1', '/ping', 'x=1', undefined],
    ['/a?', '/a', '', undefined],
    ['/a?b?c', '/a', 'b?c', undefined], // only the first ? starts the query
    ['https://a.test:8443/ping', '/ping', undefined, 'a.test:8443'], // absolute form
    ['http://a.test', '/', undefined, 'a.test'], // absolute form without a path
    ['http://a.test?x', '/', 'x', 'a.test'],
    ['HTTPS://A.test/p?q=1', '/p', 'q=1', 'A.test'], // scheme is case-insensitive
    ['http://[::1]:8443/x', '/x', undefined, '[::1]:8443'],
    ['*', '*', undefined, undefined], // OPTIONS *
    ['a.test:443', 'a.test:443', undefined, undefined], // authority form (CONNECT) is left as is
  ];
  for (const [target, path, query, authority] of rows)
    it(`${JSON.stringify(target)} → ${path} ${query ?? '-'} ${authority ?? '-'}`, () => {
      assert.deepEqual(parseTarget(target), { path, query, authority });
    });
});

describe('validHost(value) and hostOnly(authority)', () => {
  const valid: [string, boolean][] = [
    ['a.test', true],
    ['a.test:8443', true],
    ['[::1]:8443', true],
    ['127.0.0.1', true],
    ['', true], // an empty Host is allowed when the target has no authority (RFC 9112 §3.2)
    ['a b', false],
    ['a/b', false],
    ['a.test:84x3', false],
    ['[zz::1]', false],
    ['a@b', false],
  ];
  for (const [value, want] of valid)
    it(`validHost(${JSON.stringify(value)}) → ${want}`, () => assert.equal(validHost(value), want));
  const hosts: [string, string][] = [
    ['a.test:8443', 'a.test'],
    ['a.test', 'a.test'],
    ['[::1]:8443', '[::1]'],
    ['[::1]', '[::1]'],
    ['127.0.0.1:1', '127.0.0.1'],
  ];
  for (const [authority, want] of hosts)
    it(`hostOnly(${JSON.stringify(authority)}) → ${want}`, () => assert.equal(hostOnly(authority), want));
});

describe('queryParameters(query)', () => {
  const rows: [string | undefined, Record<string, string[]>][] = [
    [undefined, {}],
    ['', {}],
    ['a=1', { a: ['1'] }],
    ['a=1&b=2&a=3', { a: ['1', '3'], b: ['2'] }],
    ['x=%20y&z', { x: [' y'], z: [''] }],
    ['q=a+b', { q: ['a b'] }],
  ];
  for (const [query, want] of rows)
    it(`${JSON.stringify(query)}`, () => assert.deepEqual(queryParameters(query), want));
  it('keeps a parameter named __proto__ as a parameter', () => {
    const q = queryParameters('__proto__=x');
    assert.deepEqual(Object.keys(q), ['__proto__']);
    assert.equal(Object.getPrototypeOf(q), Object.prototype);
  });
});

describe('summarizeBody(body, contentType, limit)', () => {
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
  const rows: [
    what: string,
    body: Buffer,
    limit: number,
    encoding: string,
    content: string,
    truncated: boolean,
  ][] = [
    ['UTF-8 text', Buffer.from('héllo'), 64, 'utf-8', 'héllo', false],
    ['empty', Buffer.alloc(0), 64, 'utf-8', '', false],
    ['binary', Buffer.from([0xff, 0xfe]), 64, 'base64', '//4=', false],
    ['text cut at the limit', Buffer.from('abcdef'), 3, 'utf-8', 'abc', true],
    ['a cut inside a character: the partial one is left out', Buffer.from('aé'), 2, 'utf-8', 'a', true],
    ['binary cut at the limit', Buffer.from([0xff, 0xfe, 0xfd]), 2, 'base64', '//4=', true],
    ['limit 0', Buffer.from('abc'), 0, 'utf-8', '', true],
  ];
  for (const [what, body, limit, encoding, content, truncated] of rows)
    it(what, () =>
      assert.deepEqual(summarizeBody(body, 'text/plain', limit), {
        size: body.length,
        sha256: sha(body),
        content_type: 'text/plain',
        encoding,
        content,
        truncated,
      }),
    );
});

describe('certificateCovers(names)(host) and authorityMatchesSni(authority, sni)', () => {
  const covers = certificateCovers([
    'server1.tlsecho.test',
    '*.apps.tlsecho.test',
    '127.0.0.1',
    '0:0:0:0:0:0:0:1',
  ]);
  const rows: [string, boolean][] = [
    ['server1.tlsecho.test', true],
    ['SERVER1.tlsecho.test', true],
    ['x.apps.tlsecho.test', true],
    ['a.x.apps.tlsecho.test', false], // a wildcard covers one label
    ['apps.tlsecho.test', false],
    ['127.0.0.1', true],
    ['::1', true], // OpenSSL writes it 0:0:0:0:0:0:0:1
    ['[::1]', true],
    ['[::1%lo]', false], // a zone names no certificate's address
    ['bank.example', false],
    ['', false],
  ];
  for (const [host, want] of rows)
    it(`covers(${JSON.stringify(host)}) → ${want}`, () => assert.equal(covers(host), want));
  const matches: [string | undefined, string | undefined, boolean | null][] = [
    ['a.test:8443', 'a.test', true],
    ['A.test', 'a.test', true],
    ['b.test:8443', 'a.test', false],
    [undefined, 'a.test', false],
    ['127.0.0.1:8443', undefined, null], // no SNI: nothing to compare
  ];
  for (const [authority, sni, want] of matches)
    it(`authorityMatchesSni(${authority}, ${sni}) → ${want}`, () =>
      assert.equal(authorityMatchesSni(authority, sni), want));
});

describe('logSafe(text)', () => {
  const rows: [string, string][] = [
    ['/ping', '/ping'],
    ['/a b', '/a b'],
    ['/x\nFORGED', '/x\\u000aFORGED'],
    ['/x\u008aFORGED', '/x\\u008aFORGED'],
    ['\u001b[31m', '\\u001b[31m'],
    ['/é', '/\\u00e9'],
    ['a\\u000a', 'a\\u005cu000a'], // a backslash is escaped too: no escape can be faked
    ['\u007f', '\\u007f'],
  ];
  for (const [input, want] of rows) it(JSON.stringify(input), () => assert.equal(logSafe(input), want));
});

describe('isoTime(ms)', () => {
  // In the order a log calls it: the same millisecond, the next ones, across seconds, a clock set
  // back, far jumps; each must be exactly what Date#toISOString gives.
  const base = Date.UTC(2026, 11, 1, 23, 59, 58, 998);
  const times = [base, base, base + 1, base + 2, base + 3, base + 1001, base + 999, base - 1, base - 1000];
  times.push(0, 123, 999, 1000, -1, -999, -1000, -1001, Date.UTC(2027, 0, 1) - 1, Date.UTC(2027, 0, 1));
  times.push(Date.UTC(2024, 1, 29, 12));
  for (let i = 0; i < 2000; i++) times.push(base + Math.floor((i * 7919) % 5000) - 2500);
  it('is right from its very first call, whatever the millisecond', async () => {
    for (const [i, ms] of [0, 123, -1].entries()) {
      // A fresh instance of the module for each: its cache empty.
      const fresh = (await import(`../../src/server/logging.js?fresh=${i}`)) as { isoTime: typeof isoTime };
      assert.equal(fresh.isoTime(ms), new Date(ms).toISOString(), `first call with ms=${ms}`);
    }
  });
  it('equals toISOString for every millisecond asked, in any order', () => {
    for (const ms of times) assert.equal(isoTime(ms), new Date(ms).toISOString(), `ms=${ms}`);
  });
});

describe('clientErrorStatus(err) and alpnList(items)', () => {
  const rows: [{ code?: string; reason?: string }, number][] = [
    [{ code: 'HPE_HEADER_OVERFLOW' }, 431],
    [{ code: 'ERR_HTTP_REQUEST_TIMEOUT' }, 408],
    [{ code: 'HPE_INVALID_TRANSFER_ENCODING', reason: 'Invalid `Transfer-Encoding` header value' }, 501],
    [
      {
        code: 'HPE_INVALID_TRANSFER_ENCODING',
        reason: "Transfer-Encoding can't be present with Content-Length",
      },
      400,
    ],
    [{ code: 'HPE_INVALID_METHOD' }, 400],
    [{ code: 'HPE_INVALID_VERSION' }, 505],
    [{}, 400],
  ];
  for (const [err, want] of rows)
    it(`${JSON.stringify(err)} → ${want}`, () => assert.equal(clientErrorStatus(err)[0], want));
  for (const good of [['h2', 'http/1.1'], ['http/1.1'], ['http/1.1', 'h2']])
    it(`alpnList(${good.join(',')}) is accepted`, () => assert.deepEqual(alpnList(good), good));
  for (const bad of [[], ['h3'], ['h2', 'h2'], ['HTTP/1.1']])
    it(`alpnList(${JSON.stringify(bad)}) is refused in one line`, () =>
      assert.throws(
        () => alpnList(bad),
        /^UsageError: invalid --alpn: .* is not a list of h2, http\/1\.1 \(each once, at least one\)$/,
      ));
});
