// Before a server is loaded, one verified request of each kind must get the expected answer: a
// fast wrong answer would win a benchmark. wrk and h2load do not verify certificates; this does.
import { connect } from 'node:http2';
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { CommandError } from '../src/config/errors.js';
import { HOST } from './ports.js';

interface Answer {
  status: number;
  type: string;
  body: string;
  protocol: string;
  cipher: string;
}

export function get(o: {
  port: number;
  ca: string;
  /** '' sends no SNI (as `openssl s_time` does); the certificate's IP SAN is checked then. */
  servername: string;
  path: string;
  accept?: string;
}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: HOST,
        port: o.port,
        path: o.path,
        servername: o.servername,
        ca: o.ca,
        agent: false,
        headers: { host: o.servername || HOST, ...(o.accept ? { accept: o.accept } : {}) },
        timeout: 5000,
      },
      (res) => {
        const sock = res.socket as TLSSocket;
        const protocol = sock.getProtocol() ?? '';
        const cipher = sock.getCipher().standardName;
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            type: res.headers['content-type'] ?? '',
            body,
            protocol,
            cipher,
          }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

function allValues(v: unknown): string[] {
  if (v === null || typeof v !== 'object') return [String(v)];
  return Object.values(v).flatMap(allValues);
}

/** The answers the benchmark loads must be the echo contract; throws a one-line error if not. */
export async function checkServer(
  name: string,
  port: number,
  ca: string,
): Promise<{ protocol: string; cipher: string }> {
  const fail = (what: string, got: Answer) =>
    new CommandError(`${name}: ${what}; got ${got.status} ${JSON.stringify(got.body.slice(0, 200))}`);
  let first: Answer | undefined;
  // server1.tlsecho.test is a name of the seed; localhost is the SNI wrk sends (the URL's host).
  for (const servername of ['server1.tlsecho.test', 'localhost']) {
    const want = `Client connection from ${HOST} to server ${servername}`;
    const a = await get({ port, ca, servername, path: '/' });
    first ??= a;
    if (a.status !== 200 || a.body.replace(/\n$/, '') !== want) throw fail(`GET / is not '${want}'`, a);
  }
  for (const servername of ['localhost', '']) {
    const ping = await get({ port, ca, servername, path: '/ping' });
    if (ping.status !== 200 || ping.body.trim() !== 'pong')
      throw fail(`GET /ping${servername ? '' : ' without SNI'} is not 'pong'`, ping);
  }
  const json = await get({ port, ca, servername: 'localhost', path: '/', accept: 'application/json' });
  let values: string[];
  try {
    values = allValues(JSON.parse(json.body));
  } catch {
    throw fail('GET / with Accept: application/json is not JSON', json);
  }
  if (json.status !== 200 || !json.type.includes('application/json'))
    throw fail('GET / with Accept: application/json is not an application/json 200', json);
  if (!values.includes(HOST) || !values.includes('localhost'))
    throw fail('the JSON echo lacks the client address or the SNI', json);
  return { protocol: first!.protocol, cipher: first!.cipher };
}

/** One verified HTTP/2 request: the status, the body and the ALPN protocol the session took. */
function getH2(o: { port: number; ca: string; servername: string; path: string }): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const session = connect(`https://${o.servername}:${o.port}`, {
      host: HOST,
      servername: o.servername,
      ca: o.ca,
      ALPNProtocols: ['h2'],
    });
    const timer = setTimeout(() => session.destroy(new Error('no answer within 5 s')), 5000);
    const done = (err: Error | undefined, a?: Answer) => {
      clearTimeout(timer);
      session.close();
      if (err) reject(err);
      else resolve(a!);
    };
    session.on('error', (err) => done(err));
    const req = session.request({ ':path': o.path });
    let status = 0;
    let type = '';
    let body = '';
    req.on('response', (h) => {
      status = Number(h[':status']);
      type = String(h['content-type'] ?? '');
    });
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const sock = session.socket as TLSSocket;
      done(undefined, {
        status,
        type,
        body,
        protocol: `${sock.getProtocol() ?? ''} ${sock.alpnProtocol || 'no ALPN'}`,
        cipher: sock.getCipher().standardName,
      });
    });
    req.on('error', (err) => done(err));
    req.end();
  });
}

/** The h2 scenario's answers: the echo line and pong over HTTP/2 (ALPN h2), verified. */
export async function checkH2(
  name: string,
  port: number,
  ca: string,
): Promise<{ protocol: string; cipher: string }> {
  let a: Answer;
  try {
    a = await getH2({ port, ca, servername: 'localhost', path: '/' });
  } catch (err) {
    throw new CommandError(`${name}: no HTTP/2 answer (does it offer ALPN h2?): ${(err as Error).message}`);
  }
  const want = `Client connection from ${HOST} to server localhost`;
  if (!a.protocol.endsWith(' h2')) throw new CommandError(`${name}: ALPN did not select h2 (${a.protocol})`);
  if (a.status !== 200 || a.body.replace(/\n$/, '') !== want)
    throw new CommandError(
      `${name}: GET / over HTTP/2 is not '${want}'; got ${a.status} ${JSON.stringify(a.body.slice(0, 200))}`,
    );
  const ping = await getH2({ port, ca, servername: 'localhost', path: '/ping' });
  if (ping.status !== 200 || ping.body.trim() !== 'pong')
    throw new CommandError(
      `${name}: GET /ping over HTTP/2 is not 'pong'; got ${ping.status} ${JSON.stringify(ping.body.slice(0, 200))}`,
    );
  return { protocol: a.protocol, cipher: a.cipher };
}
