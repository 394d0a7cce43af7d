// Certificate rotation without restart. Polls the files' contents (not inodes or mtimes: a
// Kubernetes secret update swaps a `..data` symlink, editors and `tlsecho ca --force` rename), and
// hands over a new pair only after it loads and builds a TLS context. A bad pair is rejected with
// one log line (repeated only when the reason changes) and the current one keeps serving.
import type { Logger } from 'pino';
import { buildSecureContext } from './tls-context.js';
import { loadTlsMaterial, sameMaterial, type TlsFiles, type TlsMaterial } from './tls-material.js';

export type ReloadResult = 'applied' | 'rejected' | 'unchanged';

export interface WatcherOptions {
  /** The files to watch. */
  files: TlsFiles;
  /** The material now serving, loaded from them at start. */
  current: TlsMaterial;
  logger: Logger;
  /** A new pair that loaded and builds a TLS context. */
  onChange: (m: TlsMaterial) => void;
  /** Every applied or rejected check (the reload metric); unchanged files report nothing. */
  onResult?: (r: Exclude<ReloadResult, 'unchanged'>) => void;
}

export class CertificateWatcher {
  private timer: NodeJS.Timeout | undefined;
  private lastRejection: string | undefined;
  private current: TlsMaterial;

  constructor(private readonly o: WatcherOptions) {
    this.current = o.current;
  }

  start(intervalMs: number): this {
    if (intervalMs > 0) this.timer = setInterval(() => this.check(), intervalMs).unref();
    return this;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  check(): ReloadResult {
    let next: TlsMaterial;
    try {
      next = loadTlsMaterial(this.o.files);
      if (sameMaterial(next, this.current)) {
        this.lastRejection = undefined;
        return 'unchanged';
      }
      buildSecureContext(next);
    } catch (err) {
      const reason = (err as Error).message;
      if (reason !== this.lastRejection)
        this.o.logger.warn(
          { reason, serving_serial: this.current.leaf.serial },
          'certificate reload rejected; still serving the current certificate',
        );
      if (reason !== this.lastRejection) this.o.onResult?.('rejected');
      this.lastRejection = reason;
      return 'rejected';
    }
    this.lastRejection = undefined;
    this.current = next;
    this.o.onChange(next);
    this.o.logger.info(
      {
        serial: next.leaf.serial,
        not_after: next.leaf.notAfter.toISOString(),
        names: next.leaf.names.join(','),
      },
      'certificate reloaded',
    );
    this.o.onResult?.('applied');
    return 'applied';
  }
}
