// One GET over HTTPS (verified against one trusted root) or plain HTTP (only for /root_ca), to an
// address already resolved, with the server NAME as SNI, verified name and Host header.
import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { RequestFailure } from './failures.js';

export interface Target {
  /** The name the user asked for: SNI, certificate check and Host header. */
  name: string;
  /** Where to connect, as resolved through DNS. */
  address: string;
  port: number;
}

export interface Trust {
  /** PEM of the one root we trust; it replaces Node's built-in store rather than adding to it. */
  ca: string;
  /** Client certificate and key for mutual TLS. */
  cert?: string;
  key?: string;
}

export interface Response {
  status: number;
  body: string;
  latencyMs: number;
  /** TLS version negotiated, e.g. TLSv1.3 (HTTPS only). */
  protocol?: string;
}

export interface GetOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  accept?: string;
  maxBytes?: number;
}

const DEFAULT_MAX_BYTES = 64 * 1024;

export function httpsGet(target: Target, path: string, trust: Trust, o: GetOptions): Promise<Response> {
  return get(
    https,
    {
      ...base(target, path, o),
      ca: trust.ca,
      ...(trust.cert && trust.key ? { cert: trust.cert, key: trust.key } : {}),
      // SNI carries host names only (RFC 6066); for an IP the certificate is checked against the IP.
      ...(isIP(target.name) ? {} : { servername: target.name }),
      rejectUnauthorized: true,
    },
    o,
  );
}

export function httpGet(target: Target, path: string, o: GetOptions): Promise<Response> {
  return get(http, base(target, path, o), o);
}

function base(target: Target, path: string, o: GetOptions): https.RequestOptions {
  const hostHeader = isIP(target.name) === 6 ? `[${target.name}]` : target.name;
  return {
    host: target.address,
    port: target.port,
    path,
    method: 'GET',
    headers: { host: `${hostHeader}:${target.port}`, accept: o.accept ?? 'text/plain' },
    // A fresh connection (and, for HTTPS, a full handshake) per request: every request shows the
    // SNI of the name it picked, and the server sees each one. See docs/client.md.
    agent: false,
    ...(o.signal ? { signal: o.signal } : {}),
  };
}

function get(
  mod: typeof http | typeof https,
  options: https.RequestOptions,
  o: GetOptions,
): Promise<Response> {
  const started = performance.now();
  const maxBytes = o.maxBytes ?? DEFAULT_MAX_BYTES;
  return new Promise((resolve, reject) => {
    const req = mod.request(options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          req.destroy(
            new RequestFailure({
              reason: 'response too large',
              detail: `over ${maxBytes} bytes`,
              unavailable: false,
            }),
          );
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => {
        clearTimeout(timer);
        const socket = res.socket as { getProtocol?: () => string | null } | null;
        resolve({
          status: res.statusCode ?? 0,
          body: Buffer.concat(chunks).toString('utf8'),
          latencyMs: performance.now() - started,
          ...(socket?.getProtocol ? { protocol: socket.getProtocol() ?? undefined } : {}),
        });
      });
      res.on('error', reject);
    });
    const timer = setTimeout(
      () =>
        req.destroy(
          new RequestFailure({
            reason: 'timed out',
            detail: `no answer within ${o.timeoutMs} ms`,
            unavailable: true,
          }),
        ),
      o.timeoutMs,
    );
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    req.end();
  });
}
