// tlsecho's own view of a run, from its /metrics: how many TLS handshakes resumed a session.
// Diagnostic only: if the metric is missing, the run is reported without it.
import { get } from 'node:http';
import { HOST } from './ports.js';

function fetchText(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = get({ host: HOST, port, path: '/metrics', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error('no answer')));
    req.on('error', reject);
  });
}

export interface HandshakeCounts {
  full: number;
  resumed: number;
}

/** Totals of tlsecho_tls_handshakes_total by `resumed`, or undefined if /metrics lacks them. */
export async function handshakeCounts(httpPort: number): Promise<HandshakeCounts | undefined> {
  let text: string;
  try {
    text = await fetchText(httpPort);
  } catch {
    return undefined;
  }
  const counts = { full: 0, resumed: 0 };
  let seen = false;
  for (const m of text.matchAll(
    /^tlsecho_tls_handshakes_total\{[^}]*resumed="(true|false)"[^}]*\} (\d+)/gm,
  )) {
    seen = true;
    counts[m[1] === 'true' ? 'resumed' : 'full'] += Number(m[2]);
  }
  return seen ? counts : undefined;
}
