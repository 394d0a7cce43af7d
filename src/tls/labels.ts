// Metric labels from a ClientHello, from a small fixed set of values each, so a metric
// counted by them cannot grow without bound: never a fingerprint, a name or an address.
import type { ClientHelloResult } from './client-hello.js';
import { isGrease } from './iana.js';

export interface HelloLabels {
  /** The highest version offered: "1.3", "1.2", "1.1", "1.0", "other", or "unparsed". */
  offered_max_version: '1.3' | '1.2' | '1.1' | '1.0' | 'other' | 'unparsed';
  /** Whether h2 was among the ALPN protocols offered: "true", "false", or "unparsed". */
  h2_offered: 'true' | 'false' | 'unparsed';
}

const VERSION_LABELS: Record<number, HelloLabels['offered_max_version']> = {
  0x0304: '1.3',
  0x0303: '1.2',
  0x0302: '1.1',
  0x0301: '1.0',
};

const H2 = Buffer.from('h2');

export function helloLabels(result: ClientHelloResult): HelloLabels {
  if ('unparsed' in result) return { offered_max_version: 'unparsed', h2_offered: 'unparsed' };
  const h = result.parsed;
  const versions = h.supportedVersions?.filter((v) => !isGrease(v));
  const max = versions?.length ? Math.max(...versions) : h.legacyVersion;
  return {
    offered_max_version: VERSION_LABELS[max] ?? 'other',
    h2_offered: h.alpn?.some((p) => H2.equals(p)) ? 'true' : 'false',
  };
}
