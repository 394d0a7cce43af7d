// Metric labels from the ClientHello: a fixed, small set of values.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseClientHello } from '../../src/tls/client-hello.js';
import { helloLabels } from '../../src/tls/labels.js';
import { buildClientHello, ext } from './hello-builder.js';

const labels = (extensions: ReturnType<typeof ext.raw>[] | undefined, legacyVersion = 0x0303) =>
  helloLabels(parseClientHello(buildClientHello({ legacyVersion, ciphers: [0x1301], extensions })));

describe('helloLabels', () => {
  it('the highest non-GREASE supported_versions entry, and whether h2 is offered', () => {
    assert.deepEqual(labels([ext.versions([0x7a7a, 0x0304, 0x0303]), ext.alpn(['http/1.1', 'h2'])]), {
      offered_max_version: '1.3',
      h2_offered: 'true',
    });
    assert.deepEqual(labels([ext.alpn(['h2c', 'http/1.1'])]), {
      offered_max_version: '1.2',
      h2_offered: 'false',
    });
  });

  it('legacy_version without supported_versions; unknown versions are "other"', () => {
    assert.deepEqual(labels(undefined, 0x0301), { offered_max_version: '1.0', h2_offered: 'false' });
    assert.deepEqual(labels([ext.versions([0x0305])]), { offered_max_version: 'other', h2_offered: 'false' });
  });

  it('an unparsed ClientHello is "unparsed" in both', () => {
    assert.deepEqual(helloLabels({ unparsed: 'truncated' }), {
      offered_max_version: 'unparsed',
      h2_offered: 'unparsed',
    });
  });
});
