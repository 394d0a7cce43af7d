// `tlsecho server`: the echo server of both seeds (the HTTPS echo and the ponger) with the
// plain-HTTP /root_ca endpoint. One process by default; `--workers N` forks on node:cluster.
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { defineCommand } from '../command.js';
import { runPrimary, runWorker, readyFields } from './cluster.js';
import { checkSettings, startServer } from './index.js';
import { createLogger, flushLogs, type Logger } from './logging.js';
import { fromFlags, serverOptions } from './options.js';
import { handleSignals } from './signals.js';

export const command = defineCommand({
  name: 'server',
  summary: 'run the HTTPS echo server (+ /ping) and the plain-HTTP /root_ca endpoint',
  options: serverOptions,
  async action(flags) {
    const settings = fromFlags(flags);
    checkSettings(settings);
    const workers = flags.workers === 0 ? availableParallelism() : flags.workers;
    const logOpts = { format: settings.logFormat, level: settings.logLevel };
    if (cluster.isWorker) {
      // Workers share the primary's stdout; LineBatch writes keep lines whole.
      const logger = createLogger({ ...logOpts, base: { worker: cluster.worker?.id } });
      exitWith(await runWorker(settings, logger));
    }
    const logger = createLogger(logOpts);
    if (workers > 1) exitWith(await runPrimary(settings, logger, workers));
    exitWith(await runSingle(settings, logger));
  },
});

async function runSingle(settings: ReturnType<typeof fromFlags>, logger: Logger): Promise<number> {
  const server = await startServer({ ...settings, logger });
  logger.info(readyFields(server, server.material(), 1), 'ready');
  return new Promise<number>((resolve) => {
    let stopping = false;
    handleSignals({
      logger,
      shutdownTimeoutMs: settings.shutdownTimeoutMs,
      stopping: () => stopping,
      reload: () => void server.reload(),
      exitNow: () => resolve(1),
      stop: () => {
        stopping = true;
        server.shutdown({ delayMs: settings.shutdownDelayMs }).then((clean) => {
          if (clean) logger.info('stopped');
          else logger.warn('stopped: in-flight requests were cut at --shutdown-timeout');
          resolve(clean ? 0 : 1);
        });
      },
    });
  });
}

/** Writes out buffered log lines, then exits (a server must not linger on a stray handle). */
function exitWith(code: number): never {
  flushLogs();
  process.exit(code);
}
