// `--workers N`: a primary process forks N copies of `tlsecho server` on node:cluster. The primary
// owns the certificate files (one watcher, one log line per rotation), the session-ticket keys
// (shared, so a ticket resumes on any worker), signals, and metrics aggregation; the workers serve.
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Logger } from 'pino';
import { CommandError } from '../config/errors.js';
import { createEchoServer } from './echo-server.js';
import { ServerMetrics } from './metrics.js';
import type { Settings } from './options.js';
import { CertificateWatcher } from './reload.js';
import { handleSignals, ignoreSignals } from './signals.js';
import { newTicketKeys } from './tls-context.js';
import { loadTlsMaterial, type TlsMaterial } from './tls-material.js';

type WireMaterial = Omit<TlsMaterial, 'ca' | 'leaf'> & {
  ca: string;
  leaf: Omit<TlsMaterial['leaf'], 'notAfter'> & { notAfter: string };
};
type ToWorker =
  | { tlsecho: 'init'; material: WireMaterial; ticketKeys: string }
  | { tlsecho: 'material'; material: WireMaterial }
  | { tlsecho: 'reload-result'; result: 'applied' | 'rejected' }
  | { tlsecho: 'shutdown'; delayMs: number }
  | { tlsecho: 'metrics'; id: number; text?: string; error?: string };
type ToPrimary =
  | { tlsecho: 'hello' }
  | { tlsecho: 'ready'; httpsPort: number; httpPort: number }
  | { tlsecho: 'fatal'; message: string }
  | { tlsecho: 'metrics'; id: number };

const toWire = (m: TlsMaterial): WireMaterial => ({
  ...m,
  ca: m.ca.toString('base64'),
  leaf: { ...m.leaf, notAfter: m.leaf.notAfter.toISOString() },
});
const fromWire = (w: WireMaterial): TlsMaterial => ({
  ...w,
  ca: Buffer.from(w.ca, 'base64'),
  leaf: { ...w.leaf, notAfter: new Date(w.leaf.notAfter) },
});

/** Fields of the `ready` line (docs/architecture.md: tests and other parts wait for it). */
export function readyFields(
  ports: { httpsPort: number; httpPort: number; labTls12Port?: number },
  m: TlsMaterial,
  workers: number,
) {
  return {
    https_port: ports.httpsPort,
    http_port: ports.httpPort,
    ...(ports.labTls12Port !== undefined ? { lab_tls12_port: ports.labTls12Port } : {}),
    workers,
    names: m.leaf.names.join(','),
    not_after: m.leaf.notAfter.toISOString(),
    ca_fingerprint: m.caFingerprint.colon,
  };
}

const MAX_RESTARTS_PER_MINUTE = 5;

/** Runs the primary until shutdown; resolves to the exit code. */
export function runPrimary(settings: Settings, logger: Logger, count: number): Promise<number> {
  let material = loadTlsMaterial(settings); // start-up errors fail here, once
  const ticketKeys = newTicketKeys();
  const aggregator = new AggregatorRegistry();
  // A worker killed during start-up may still look connected: its EPIPE goes to the callback
  // (ignored; the 'exit' handler deals with the worker) instead of crashing the primary.
  const send = (w: Worker, m: ToWorker) => w.isConnected() && w.send(m, undefined, undefined, () => {});
  const broadcast = (m: ToWorker) => Object.values(cluster.workers ?? {}).forEach((w) => w && send(w, m));
  const ready = new Set<number>();
  const restarts: number[] = [];
  const exitCodes: number[] = [];
  let started = false;
  let stopping = false;

  return new Promise<number>((resolve, reject) => {
    const watcher = new CertificateWatcher({
      files: settings,
      current: material,
      logger,
      onChange: (m) => {
        material = m;
        broadcast({ tlsecho: 'material', material: toWire(m) });
      },
      onResult: (result) => broadcast({ tlsecho: 'reload-result', result }),
    }).start(settings.reloadIntervalMs);

    const finish = (code: number) => {
      watcher.stop();
      if (code === 0) logger.info({ workers: count }, 'stopped');
      else logger.warn({ workers: count }, 'stopped: some workers had to cut in-flight requests or failed');
      stopListening();
      resolve(code);
    };
    const fail = (err: Error) => {
      stopping = true;
      watcher.stop();
      stopListening();
      for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGKILL');
      reject(err);
    };

    cluster.on('message', (worker: Worker, msg: ToPrimary) => {
      if (!msg || typeof msg !== 'object' || !('tlsecho' in msg)) return;
      switch (msg.tlsecho) {
        case 'hello':
          send(worker, {
            tlsecho: 'init',
            material: toWire(material),
            ticketKeys: ticketKeys.toString('base64'),
          });
          break;
        case 'fatal':
          if (!started) fail(new CommandError(msg.message));
          else logger.error({ worker: worker.id, error: msg.message }, 'worker failed');
          break;
        case 'ready':
          // A signal that came during start-up reached workers that were not listening yet.
          if (stopping) return void send(worker, { tlsecho: 'shutdown', delayMs: 0 });
          ready.add(worker.id);
          if (!started && ready.size === count) {
            started = true;
            logger.info(readyFields(msg, material, count), 'ready');
          }
          break;
        case 'metrics':
          aggregator.clusterMetrics().then(
            (text) => send(worker, { tlsecho: 'metrics', id: msg.id, text }),
            (err: Error) => send(worker, { tlsecho: 'metrics', id: msg.id, error: err.message }),
          );
          break;
      }
    });

    cluster.on('exit', (worker, code, signal) => {
      ready.delete(worker.id);
      if (stopping) {
        exitCodes.push(code ?? 1);
        if (Object.keys(cluster.workers ?? {}).length === 0) finish(exitCodes.some((c) => c !== 0) ? 1 : 0);
        return;
      }
      if (!started && !stopping)
        return fail(new CommandError(`worker exited during start-up (code ${code}, signal ${signal})`));
      const now = Date.now();
      restarts.push(now);
      while (restarts[0]! < now - 60_000) restarts.shift();
      if (restarts.length > MAX_RESTARTS_PER_MINUTE) {
        logger.error({ restarts: restarts.length }, 'workers keep crashing; giving up');
        stopping = true;
        broadcast({ tlsecho: 'shutdown', delayMs: 0 });
        exitCodes.push(1);
        return;
      }
      logger.error({ worker: worker.id, code, signal }, 'worker died; starting a new one');
      cluster.fork();
    });

    const stopListening = handleSignals({
      logger,
      shutdownTimeoutMs: settings.shutdownTimeoutMs,
      stopping: () => stopping,
      reload: () => void watcher.check(),
      exitNow: () => {
        for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGKILL');
        finish(1);
      },
      stop: () => {
        stopping = true;
        broadcast({ tlsecho: 'shutdown', delayMs: settings.shutdownDelayMs });
      },
    });

    // Workers accept connections themselves from the shared socket (SCHED_NONE) instead of the
    // primary accepting each one and passing it over IPC, which costs every new connection CPU
    // in the primary (measured with bench/: docs/performance.md, "What moved the numbers").
    // NODE_CLUSTER_SCHED_POLICY=rr restores Node's round-robin where the kernel balances badly.
    if (!process.env.NODE_CLUSTER_SCHED_POLICY) cluster.schedulingPolicy = cluster.SCHED_NONE;
    for (let i = 0; i < count; i++) cluster.fork();
  });
}

/** Runs one worker until the primary tells it to stop; resolves to its exit code. */
export async function runWorker(settings: Settings, logger: Logger): Promise<number> {
  ignoreSignals(); // the primary coordinates the stop
  const send = (m: ToPrimary) => process.connected && process.send!(m);
  const pending = new Map<number, (m: Extract<ToWorker, { tlsecho: 'metrics' }>) => void>();
  let nextId = 0;

  const init = await new Promise<Extract<ToWorker, { tlsecho: 'init' }>>((resolve) => {
    process.on('message', function onInit(m: ToWorker) {
      if (m?.tlsecho !== 'init') return;
      process.off('message', onInit);
      resolve(m);
    });
    send({ tlsecho: 'hello' });
  });

  const metrics = new ServerMetrics();
  new AggregatorRegistry(); // answers the primary's metric requests from this worker
  AggregatorRegistry.setRegistries([metrics.registry]);
  const server = createEchoServer({
    settings,
    material: fromWire(init.material),
    ticketKeys: Buffer.from(init.ticketKeys, 'base64'),
    logger,
    metrics,
    metricsText: () =>
      new Promise((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(
          () => pending.delete(id) && reject(new Error('primary did not answer')),
          5000,
        );
        pending.set(id, (m) => {
          clearTimeout(timer);
          if (m.text !== undefined) resolve(m.text);
          else reject(new Error(m.error ?? 'unknown error'));
        });
        send({ tlsecho: 'metrics', id });
      }),
  });
  try {
    send({ tlsecho: 'ready', ...(await server.listen()) });
  } catch (err) {
    send({ tlsecho: 'fatal', message: (err as Error).message });
    return 1;
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (delayMs: number) => {
      if (stopping) return;
      stopping = true;
      server.shutdown({ delayMs }).then((clean) => resolve(clean ? 0 : 1));
    };
    process.on('message', (m: ToWorker) => {
      if (!m || typeof m !== 'object' || !('tlsecho' in m)) return;
      if (m.tlsecho === 'material') server.applyMaterial(fromWire(m.material));
      else if (m.tlsecho === 'reload-result') metrics.reloads.inc({ result: m.result });
      else if (m.tlsecho === 'shutdown') stop(m.delayMs);
      else if (m.tlsecho === 'metrics') {
        pending.get(m.id)?.(m);
        pending.delete(m.id);
      }
    });
    process.on('disconnect', () => stop(0)); // the primary is gone
  });
}
