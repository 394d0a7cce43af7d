// One log line per DNS query, shared by `tlsecho dns` and the demo.
import type { DnsQueryLog } from './server.js';

export function formatQuery(q: DnsQueryLog): string {
  const result = q.addresses.length > 0 ? q.addresses.join(', ') : q.rcode;
  return `query ${q.type} ${q.name} from ${q.from} (${q.transport}) -> ${result}`;
}
