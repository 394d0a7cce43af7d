// One server process: the HTTPS port (a TCP listener that reads each ClientHello first, then
// node:tls, then HTTP/1.1 on node:http or HTTP/2 on node:http2 by ALPN) and the plain-HTTP port,
// with their limits, metrics and logs. Used directly by startServer() and by each worker of
// `--workers N`.
import http from 'node:http';
import net, { type Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { CommandError } from '../config/errors.js';
import { checkInterval, Connection } from './connection.js';
import { serverFacts } from './echo.js';
import { certificateCovers, computeFacts, plainIp, serverNameLabeler } from './facts.js';
import { answerClientError, createH1 } from './h1.js';
import { createH2 } from './h2.js';
import { httpHandler } from './http-plain.js';
import { handshakeFailureReason, ServerMetrics } from './metrics.js';
import { tcpOf } from '../util/node-internals.js';
import { answerPlainHttp, notTlsReason } from './not-tls.js';
import { observer } from './observe.js';
import { clientAuthOf, type Settings } from './options.js';
import { drainAndClose, QUIET_MS, type Drainable } from './shutdown.js';
import type { Served, ServerContext } from './state.js';
import { renewTicketsOnResume } from './ticket-renewal.js';
import { labContexts, labSniCallback, loadLabSites, sameSites, tls12Options } from './lab-sites.js';
import { secureContextOptions, tlsServerOptions, type TlsKeyPair } from './tls-context.js';
import type { TlsMaterial } from './tls-material.js';
import { captureOf, listenWithClientHello, type ClientHelloCapture } from '../tls/capture.js';
import { openKeyLog, KEYLOG_WARNING, type KeyLog } from '../tls/keylog.js';
import { helloLabels } from '../tls/labels.js';

export interface EchoServer {
  readonly context: ServerContext;
  listen(): Promise<{ httpsPort: number; httpPort: number; labTls12Port?: number }>;
  /** Re-reads the --lab folder; 'applied' when changed names now serve. */
  reloadLab(): 'applied' | 'rejected' | 'unchanged';
  /** Serves new connections with this certificate (already validated). */
  applyMaterial(m: TlsMaterial): void;
  /** Graceful stop; true when in-flight requests finished before the deadline. */
  shutdown(opts?: { delayMs?: number }): Promise<boolean>;
}

/**
 * What the request path reads of a certificate, built whole for each one served. The lab's names
 * (--lab) count as served names: a label of their own, and no 421 for them over HTTP/2 (a client
 * coalesces only onto a certificate covering the name, which no lab certificate does for another).
 */
export function servedOf(m: TlsMaterial, labNames: readonly string[] = []): Served {
  const names = [...m.leaf.names, ...labNames];
  return {
    material: m,
    facts: serverFacts(m.caFingerprint.colon, labNames),
    serverNameLabel: serverNameLabeler(names),
    covers: certificateCovers(names),
  };
}

/** Node's HTTP limits for the plain-HTTP port (all per connection; the cap is per port and process). */
function httpLimits(s: Settings): http.ServerOptions {
  return {
    maxHeaderSize: s.maxHeaderSize,
    headersTimeout: s.headerTimeoutMs,
    requestTimeout: s.requestTimeoutMs,
    keepAliveTimeout: s.keepAliveTimeoutMs,
    connectionsCheckingInterval: checkInterval(s.headerTimeoutMs),
  };
}

function listen(server: net.Server, port: number, host: string | undefined, flag: string): Promise<number> {
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

/** Logs connections dropped at --max-connections: the first at once, then one line per second. */
function dropLogger(logger: Logger, metrics: ServerMetrics): (client: string | undefined) => void {
  let lastLine = 0;
  let unlogged = 0;
  return (client) => {
    metrics.connectionsRejected.inc({ reason: 'cap' });
    unlogged++;
    const now = Date.now();
    if (now - lastLine < 1000) return;
    logger.warn(
      { client: plainIp(client), dropped: unlogged },
      'connection dropped: --max-connections reached on the HTTPS port',
    );
    lastLine = now;
    unlogged = 0;
  };
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
  let lab = settings.lab
    ? labContexts(loadLabSites(settings.lab), material.ca.toString('utf8'), ticketKeys)
    : undefined;
  const labNames = () => lab?.sites.map((x) => x.name) ?? [];
  const ctx: ServerContext = {
    settings,
    logger,
    metrics,
    served: servedOf(material, labNames()),
    ready: false,
    shuttingDown: false,
    httpsPort: settings.httpsPort,
    httpPort: settings.httpPort,
    metricsText: opts.metricsText ?? (() => metrics.registry.metrics()),
  };
  metrics.notAfter.set(material.leaf.notAfter.getTime() / 1000);

  const serverOptions = (m: TlsKeyPair) =>
    tlsServerOptions(m, ticketKeys, {
      handshakeTimeoutMs: settings.handshakeTimeoutMs,
      alpn: settings.alpn,
      clientAuth: clientAuthOf(settings),
    });
  // node:tls does the handshake but does not listen: `front` accepts each connection, reads its
  // ClientHello (src/tls/capture.ts), puts the bytes back and hands the socket over.
  const listener = tls.createServer(serverOptions(material));
  // The lab's names have a TLS server of their own, whose default certificate has no chain (see
  // LabContexts.fallback): the front hands it the connections whose SNI is a lab name.
  const labListener = lab?.fallback
    ? tls.createServer({
        ...serverOptions({ cert: lab.fallback.cert, key: lab.fallback.key, clientCa: material.clientCa }),
        SNICallback: labSniCallback(() => lab!),
      })
    : undefined;
  const pickListener = (capture: ClientHelloCapture) => {
    if (!labListener) return listener;
    const hello = capture.hello();
    const sni = 'parsed' in hello ? hello.parsed.serverName?.toLowerCase() : undefined;
    return sni !== undefined && lab?.byName.has(sni) ? labListener : listener;
  };
  // tls12.<domain> of the lab: its own listener, since SNI cannot lower the version (lab-sites.ts).
  const tls12Listener =
    lab?.tls12 && tls.createServer({ ...serverOptions(lab.tls12), ...tls12Options(lab.tls12, ticketKeys) });

  const front = listenWithClientHello(pickListener, {
    timeoutMs: settings.handshakeTimeoutMs,
    onCapture: (capture, socket) => {
      if (capture.status === 'complete' || capture.status === 'not_tls')
        metrics.clientHellos.inc(helloLabels(capture.hello()));
      if (capture.handedBack && capture.status !== 'timeout') return true;
      // Closed before a whole ClientHello (scans, probes), or too slow to send one: dropped.
      const reason =
        capture.status === 'timeout'
          ? 'timeout'
          : capture.bytes.length === 0
            ? 'no_data'
            : 'connection_reset';
      metrics.handshakeFailures.inc({ reason });
      logger.debug(
        { client: plainIp(socket.remoteAddress), reason, detail: capture.reason },
        'no ClientHello',
      );
      return false;
    },
  });
  let keylog: KeyLog | undefined;
  try {
    keylog = settings.tlsKeylog === undefined ? undefined : openKeyLog(settings.tlsKeylog);
  } catch (err) {
    throw new CommandError((err as Error).message); // one line, named by the flag's file
  }
  if (keylog) {
    logger.warn({ file: settings.tlsKeylog }, KEYLOG_WARNING);
    for (const l of [listener, ...(labListener ? [labListener] : [])])
      l.on('keylog', (line: Buffer) => keylog.write(line));
  }
  const certRequested = clientAuthOf(settings) !== 'none';
  const h1 = createH1(ctx, observer(ctx, 'h1'));
  const h2 = createH2(ctx, observer(ctx, 'h2'));
  const httpServer = http.createServer(httpLimits(settings), httpHandler(ctx));
  for (const s of [front, httpServer, ...(tls12Listener ? [tls12Listener] : [])])
    s.maxConnections = settings.maxConnections;
  const logDrop = dropLogger(logger, metrics);
  front.on('drop', (data?: { remoteAddress?: string }) => logDrop(data?.remoteAddress));

  httpServer.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    const status = answerClientError(err, socket);
    if (status === 0) return;
    logger.info(
      { client: plainIp(socket.remoteAddress), code: err.code, status },
      'rejected request on http port',
    );
    metrics.httpRequests.inc({ route: 'other', status: String(status) });
  });

  // The one place a TLS connection is taken up: its facts, then the engine its ALPN chose.
  const onSecureConnection = (socket: TLSSocket) => {
    const c = new Connection(
      computeFacts(socket, ctx.served.serverNameLabel, certRequested),
      captureOf(socket),
    );
    metrics.handshakes.inc({ version: c.facts.tlsVersion, resumed: String(c.facts.resumed) });
    if (socket.alpnProtocol === 'h2') h2.serve(socket, c);
    else h1.serve(socket, c);
  };
  listener.on('secureConnection', onSecureConnection);
  renewTicketsOnResume(listener, ticketKeys);
  const onTlsClientError = (err: NodeJS.ErrnoException, socket: TLSSocket) => {
    const client = plainIp(socket.remoteAddress ?? tcpOf(socket)?.remoteAddress);
    const notTls = notTlsReason(err, socket);
    if (notTls) {
      metrics.handshakeFailures.inc({ reason: notTls });
      if (notTls === 'plain_http' && answerPlainHttp(socket, ctx.httpPort)) {
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
  };
  listener.on('tlsClientError', onTlsClientError);
  for (const l of [tls12Listener, labListener]) {
    if (!l) continue;
    l.on('secureConnection', onSecureConnection);
    l.on('tlsClientError', onTlsClientError);
  }
  if (labListener) renewTicketsOnResume(labListener, ticketKeys);

  // The lab's files are polled like the main pair; a bad change is logged and the old one serves.
  let labRejection: string | undefined;
  const reloadLab = (): 'applied' | 'rejected' | 'unchanged' => {
    if (!lab || !settings.lab) return 'unchanged';
    try {
      const sites = loadLabSites(settings.lab);
      if (sameSites(sites, lab.sites)) return 'unchanged';
      lab = labContexts(sites, ctx.served.material.ca.toString('utf8'), ticketKeys);
      if (lab.tls12) tls12Listener?.setSecureContext(tls12Options(lab.tls12, ticketKeys));
      if (labListener && lab.fallback) {
        const { cert, key } = lab.fallback;
        const clientCa = ctx.served.material.clientCa;
        labListener.setSecureContext(secureContextOptions({ cert, key, clientCa }, ticketKeys));
        renewTicketsOnResume(labListener, ticketKeys);
      }
      ctx.served = servedOf(ctx.served.material, labNames());
      labRejection = undefined;
      logger.info({ names: labNames().join(',') }, 'lab certificates reloaded');
      return 'applied';
    } catch (err) {
      const reason = (err as Error).message;
      if (reason !== labRejection)
        logger.warn({ reason }, 'lab reload rejected; still serving the current lab');
      labRejection = reason;
      return 'rejected';
    }
  };
  const labTimer =
    lab && settings.reloadIntervalMs > 0
      ? setInterval(reloadLab, settings.reloadIntervalMs).unref()
      : undefined;

  const https: Drainable = {
    listener: front,
    drain: () => {
      h1.closeQuiet(QUIET_MS);
      h2.closeGracefully();
    },
    closeAll: () => {
      h1.closeAll();
      h2.closeAll();
    },
  };
  const plain: Drainable = {
    listener: httpServer,
    drain: () => httpServer.closeIdleConnections(),
    closeAll: () => httpServer.closeAllConnections(),
  };

  const tls12: Drainable | undefined = tls12Listener && {
    listener: tls12Listener,
    drain: () => undefined, // its connections are the engines', drained with the main port's
    closeAll: () => undefined,
  };

  return {
    context: ctx,
    reloadLab,
    async listen() {
      const httpsPort = await listen(front, settings.httpsPort, settings.host, '--https-port');
      let httpPort: number;
      let labTls12Port: number | undefined;
      try {
        httpPort = await listen(httpServer, settings.httpPort, settings.host, '--http-port');
        if (tls12Listener)
          labTls12Port = await listen(
            tls12Listener,
            settings.labTls12Port,
            settings.host,
            '--lab-tls12-port',
          );
      } catch (err) {
        front.close();
        if (httpServer.listening) httpServer.close();
        throw err;
      }
      ctx.httpsPort = httpsPort;
      ctx.httpPort = httpPort;
      ctx.ready = true;
      return { httpsPort, httpPort, ...(labTls12Port !== undefined ? { labTls12Port } : {}) };
    },
    applyMaterial(m) {
      listener.setSecureContext(secureContextOptions(m, ticketKeys));
      renewTicketsOnResume(listener, ticketKeys); // a new context needs the hook again
      ctx.served = servedOf(m, labNames());
      metrics.notAfter.set(m.leaf.notAfter.getTime() / 1000);
    },
    async shutdown(o = {}) {
      clearInterval(labTimer);
      const clean = await drainAndClose({
        servers: [https, plain, ...(tls12 ? [tls12] : [])],
        delayMs: o.delayMs ?? 0,
        timeoutMs: settings.shutdownTimeoutMs,
        notReady: () => (ctx.ready = false),
        draining: () => (ctx.shuttingDown = true),
      });
      h1.dispose();
      h2.dispose();
      await keylog?.close();
      return clean;
    },
  };
}
