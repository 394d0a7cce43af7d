// One server process: the HTTPS echo and the plain-HTTP port, with their limits, metrics and logs.
// Used directly by startServer() and by each worker of `--workers N`.
import http from 'node:http';
import type { Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { CommandError } from '../config/errors.js';
import { serverFacts } from './echo.js';
import { computeFacts, factsOf, plainIp, serverNameLabeler } from './facts.js';
import { httpHandler } from './http-plain.js';
import { Http1Server } from './http1.js';
import { httpsHandler } from './https-app.js';
import { handshakeFailureReason, ServerMetrics } from './metrics.js';
import { answerPlainHttp, notTlsReason, tcpOf } from './not-tls.js';
import type { Settings } from './options.js';
import { drainableHttp, drainableHttp1, drainAndClose } from './shutdown.js';
import type { ServerState } from './state.js';
import { renewTicketsOnResume } from './ticket-renewal.js';
import { secureContextOptions, tlsServerOptions } from './tls-context.js';
import type { TlsMaterial } from './tls-material.js';

export interface EchoServer {
  state: ServerState;
  listen(): Promise<{ httpsPort: number; httpPort: number }>;
  /** Serves new connections with this certificate (already validated). */
  applyMaterial(m: TlsMaterial): void;
  /** Graceful stop; true when in-flight requests finished before the deadline. */
  shutdown(opts?: { delayMs?: number }): Promise<boolean>;
}

/** Node's HTTP limits for the plain-HTTP port (all per connection; the cap is per port and process). */
function httpLimits(s: Settings): http.ServerOptions {
  return {
    maxHeaderSize: s.maxHeaderSize,
    headersTimeout: s.headerTimeoutMs,
    requestTimeout: s.requestTimeoutMs,
    keepAliveTimeout: s.keepAliveTimeoutMs,
    // Node checks the two timeouts on this interval (default 30 s, far too coarse for them).
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(s.headerTimeoutMs / 4))),
  };
}

const CLIENT_ERRORS: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/** Answers malformed, oversized or too slow requests on the plain-HTTP port, and counts them. */
function onClientError(state: ServerState) {
  return (err: NodeJS.ErrnoException, socket: Socket) => {
    const status = CLIENT_ERRORS[err.code ?? ''] ?? '400 Bad Request';
    if (err.code !== 'ECONNRESET') {
      const client = plainIp(socket.remoteAddress);
      state.logger.info(
        { client, code: err.code, status: Number(status.slice(0, 3)) },
        'rejected request on http port',
      );
      state.metrics.httpRequests.inc({ route: 'other', status: status.slice(0, 3) });
    }
    if (!socket.writable || (socket as Socket & { _httpMessage?: unknown })._httpMessage)
      return void socket.destroy();
    const body = `${status}\n`;
    socket.end(
      `HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    // Let the answer reach the client before the connection goes, but not for long.
    setTimeout(() => socket.destroy(), 1000).unref();
  };
}

function listen(
  server: http.Server | tls.Server,
  port: number,
  host: string | undefined,
  flag: string,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const where = `${host ?? 'all interfaces'} port ${port} (${flag})`;
      const why =
        err.code === 'EADDRINUSE'
          ? 'address already in use'
          : err.code === 'EACCES'
            ? 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)'
            : err.code === 'EADDRNOTAVAIL'
              ? 'no such local address'
              : err.message;
      reject(new CommandError(`cannot listen on ${where}: ${why}`));
    };
    server.once('error', onError);
    server.listen({ port, host }, () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    });
  });
}

export function createEchoServer(opts: {
  settings: Settings;
  material: TlsMaterial;
  ticketKeys: Buffer;
  logger: Logger;
  metrics?: ServerMetrics;
  /** Prometheus text for /metrics; defaults to this process's registry. */
  metricsText?: () => Promise<string>;
}): EchoServer {
  const { settings, material, ticketKeys, logger } = opts;
  const metrics = opts.metrics ?? new ServerMetrics();
  const state: ServerState = {
    settings,
    logger,
    metrics,
    material,
    facts: serverFacts(material.caFingerprint.colon),
    serverNameLabel: serverNameLabeler(material.leaf.names),
    ready: false,
    shuttingDown: false,
    httpsPort: settings.httpsPort,
    httpPort: settings.httpPort,
    metricsText: opts.metricsText ?? (() => metrics.registry.metrics()),
  };
  metrics.notAfter.set(material.leaf.notAfter.getTime() / 1000);

  // TLS by node:tls, HTTP/1.1 on top by http1.ts (node:http's per-request cost halved throughput).
  const httpsServer = tls.createServer(tlsServerOptions(material, ticketKeys, settings.handshakeTimeoutMs));
  const http1 = new Http1Server({
    handler: httpsHandler(state),
    maxHeaderSize: settings.maxHeaderSize,
    // A request here is complete with its head (bodies are never read): --header-timeout bounds it.
    headerTimeoutMs: settings.headerTimeoutMs,
    keepAliveTimeoutMs: settings.keepAliveTimeoutMs,
    stopping: () => state.shuttingDown,
    onRejected: (socket, r) => {
      const f = factsOf(socket);
      logger.info(
        { client: f?.clientIp ?? plainIp(socket.remoteAddress), code: r.code, status: r.status },
        'rejected request on https port',
      );
      metrics.requests.inc({ route: 'other', status: r.status, server_name: f?.serverNameLabel ?? 'n/a' });
    },
  });
  const httpServer = http.createServer(httpLimits(settings), httpHandler(state));
  for (const s of [httpsServer, httpServer]) s.maxConnections = settings.maxConnections;
  httpServer.on('clientError', onClientError(state));

  // Facts are computed once per connection, before its first request is parsed.
  httpsServer.on('secureConnection', (socket: TLSSocket) => {
    const f = computeFacts(socket, state.serverNameLabel);
    metrics.handshakes.inc({ version: f.tlsVersion, resumed: String(f.resumed) });
  });
  http1.attach(httpsServer);
  renewTicketsOnResume(httpsServer, ticketKeys);
  httpsServer.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const client = plainIp(socket.remoteAddress ?? tcpOf(socket)?.remoteAddress);
    const notTls = notTlsReason(err, socket);
    if (notTls) {
      metrics.handshakeFailures.inc({ reason: notTls });
      if (notTls === 'plain_http' && answerPlainHttp(socket, state.httpPort)) {
        logger.info({ client, status: 400 }, 'plain HTTP request on the HTTPS port');
        return;
      }
      logger.debug({ client, reason: notTls }, 'not a TLS connection');
      socket.destroy();
      return;
    }
    // Node checks a client certificate after the handshake and then just closes the connection,
    // which surfaces here as a reset; authorizationError says what was wrong with the certificate.
    const certError = socket.authorizationError as unknown as string | undefined;
    const reason = certError ? 'client_cert_rejected' : handshakeFailureReason(err);
    metrics.handshakeFailures.inc({ reason });
    logger.info({ client, reason, error: certError ?? err.code ?? err.message }, 'TLS handshake failed');
    // With a listener here node:tls leaves the socket open (a handshake timeout included).
    socket.destroy();
  });

  return {
    state,
    async listen() {
      const httpsPort = await listen(httpsServer, settings.httpsPort, settings.host, '--https-port');
      let httpPort: number;
      try {
        httpPort = await listen(httpServer, settings.httpPort, settings.host, '--http-port');
      } catch (err) {
        httpsServer.close();
        throw err;
      }
      state.httpsPort = httpsPort;
      state.httpPort = httpPort;
      state.ready = true;
      return { httpsPort, httpPort };
    },
    applyMaterial(m) {
      httpsServer.setSecureContext(secureContextOptions(m, ticketKeys));
      renewTicketsOnResume(httpsServer, ticketKeys); // a new context needs the hook again
      state.material = m;
      state.facts = serverFacts(m.caFingerprint.colon);
      state.serverNameLabel = serverNameLabeler(m.leaf.names);
      metrics.notAfter.set(m.leaf.notAfter.getTime() / 1000);
    },
    shutdown(o = {}) {
      return drainAndClose(state, [drainableHttp1(httpsServer, http1), drainableHttp(httpServer)], {
        delayMs: o.delayMs ?? 0,
        timeoutMs: settings.shutdownTimeoutMs,
      });
    },
  };
}
