// Full TLS handshakes per second. wrk cannot measure them: it offers its previous session on
// every reconnect, so its "new connection" runs are abbreviated handshakes wherever the server
// resumes. `openssl s_time -new` never resumes: each client
// process does sequential full handshakes plus one GET /ping; several run in parallel.
import { performance } from 'node:perf_hooks';
import { CommandError } from '../src/config/errors.js';
import { HOST } from './ports.js';
import { startGroup } from './processes.js';

function sTime(openssl: string, port: number, ca: string, seconds: number): Promise<number> {
  const args = ['s_time', '-connect', `${HOST}:${port}`, '-new', '-time', String(seconds), '-www', '/ping'];
  return new Promise((resolve, reject) => {
    const child = startGroup(openssl, [...args, '-CAfile', ca, '-verify', '1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /^(\d+) connections in [\d.]+s/m.exec(out);
      if (code !== 0 || !m)
        return reject(
          new CommandError(`openssl ${args.join(' ')} failed (${code}): ${out.trim().split('\n').pop()}`),
        );
      resolve(Number(m[1]));
    });
  });
}

/** Full handshakes (each with one GET /ping) per second from `clients` parallel s_time processes. */
export async function fullHandshakes(o: {
  openssl: string;
  port: number;
  ca: string;
  durationMs: number;
  clients: number;
}): Promise<{ rps: number; requests: number; duration_us: number }> {
  const t0 = performance.now();
  const seconds = Math.max(1, Math.round(o.durationMs / 1000));
  const counts = await Promise.all(
    Array.from({ length: o.clients }, () => sTime(o.openssl, o.port, o.ca, seconds)),
  );
  const elapsed = (performance.now() - t0) / 1000;
  const requests = counts.reduce((a, b) => a + b, 0);
  return { rps: requests / elapsed, requests, duration_us: Math.round(elapsed * 1e6) };
}
