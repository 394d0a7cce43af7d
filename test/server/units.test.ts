// Table-driven tests of the server's pure functions (as go-httpbin's helpers_test.go): each row
// is an input and the answer it must get, edge cases included.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { negotiate, type Format } from '../../src/server/echo.js';
import { plainIp, serverNameLabeler } from '../../src/server/facts.js';
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
