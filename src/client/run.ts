// The client's main loop: establish trust, then call the server under a random one of its names at
// each interval, print what it answered (or why it failed), and summarise at the end.
import { setTimeout as sleep } from 'node:timers/promises';
import { CommandError } from '../config/errors.js';
import { readUserFile } from '../config/user-file.js';
import type { HandshakeReport } from '../tls/report.js';
import { describeFailure, RequestFailure, type Failure } from './failures.js';
import { handshakeLines } from './handshake.js';
import { httpsGet, type Trust } from './http.js';
import { makeResolver, type ResolveFn } from './resolve.js';
import { Stats } from './summary.js';
import { acceptRoot, defaultCaUrl, fetchRootPem, loadCaFile, type TrustedRoot } from './trust.js';

export interface ClientConfig {
  names: string[];
  port: number;
  httpPort: number;
  caFile?: string;
  caUrl?: URL;
  /** Lowercase hex SHA-256 of the root, from --ca-fingerprint. */
  pin?: string;
  dns?: string;
  intervalMs: number;
  /** 0 = until stopped. */
  count: number;
  timeoutMs: number;
  /** How long to wait for the server to come up; 0 = forever. */
  waitMs: number;
  mode: 'echo' | 'ping';
  /** Echo mode: ask for the JSON echo and print the handshake as the server saw it. */
  showHandshake?: boolean;
  certFile?: string;
  keyFile?: string;
}

export interface ClientIO {
  /** Results: one line each. */
  out(line: string): void;
  /** Warnings and waiting notices. */
  err(line: string): void;
  /** Aborted on SIGINT/SIGTERM: stop after printing the summary. */
  signal: AbortSignal;
  random?: () => number;
}

const BACKOFF_START_MS = 250;
const BACKOFF_CAP_MS = 5000;

/** Runs until --count requests were made or the signal fires; resolves to the exit code. */
export async function runClient(cfg: ClientConfig, io: ClientIO): Promise<number> {
  const stamp = (line: string) => `${new Date().toISOString()} ${line}`;
  const out = (line: string) => io.out(stamp(line));
  const err = (line: string) => io.err(stamp(line));
  const resolve = makeResolver(cfg.dns, Math.min(cfg.timeoutMs, 5000));
  const waiter = new Waiter(cfg.waitMs, err, io.signal);

  const clientPair = loadClientPair(cfg);
  const root = await establishTrust(cfg, resolve, waiter, out, err, io.signal);
  if (!root) return 1; // stopped while waiting for /root_ca
  const trust: Trust = { ca: root.pem, ...clientPair };

  const stats = new Stats(cfg.names);
  const random = io.random ?? Math.random;
  let everConnected = false;
  while (!io.signal.aborted && (cfg.count === 0 || stats.requests < cfg.count)) {
    const started = Date.now();
    const name = cfg.names[Math.floor(random() * cfg.names.length)]!;
    const r = await callOnce(name, cfg, trust, resolve, out, io.signal);
    if (io.signal.aborted) break; // interrupted mid-request: not counted
    if (r.ok) {
      everConnected = true;
      waiter.reset();
      stats.recordSuccess(name, r.latencyMs);
    } else if (r.failure.unavailable && !everConnected) {
      // Start-up order (Compose, a rolling Pod): the server is not there yet. Wait, don't count.
      if (!(await waiter.wait(`${name}${r.where}: ${message(r.failure, cfg.dns)}`))) break;
      continue;
    } else {
      err(`FAILED ${name}${r.where}: ${message(r.failure)}`);
      stats.recordFailure(name, r.failure.reason);
    }
    if (cfg.count !== 0 && stats.requests >= cfg.count) break;
    const rest = cfg.intervalMs - (Date.now() - started);
    if (rest > 0) await sleep(rest, undefined, { signal: io.signal }).catch(() => undefined);
  }

  for (const line of stats.format()) io.out(line);
  return stats.failed > 0 || stats.requests === 0 ? 1 : 0;
}

type Outcome = { ok: true; latencyMs: number } | { ok: false; failure: Failure; where: string };

async function callOnce(
  name: string,
  cfg: ClientConfig,
  trust: Trust,
  resolve: ResolveFn,
  out: (line: string) => void,
  signal: AbortSignal,
): Promise<Outcome> {
  let where = '';
  try {
    const { address } = await resolve(name);
    where = ` -> ${address.includes(':') ? `[${address}]` : address}:${cfg.port}`;
    const target = { name, address, port: cfg.port };
    if (cfg.mode === 'ping') out(`Sent ping to ${name}${where}`);
    const json = cfg.mode === 'echo' && cfg.showHandshake === true;
    const res = await httpsGet(target, cfg.mode === 'ping' ? '/ping' : '/', trust, {
      timeoutMs: cfg.timeoutMs,
      signal,
      ...(json ? { accept: 'application/json' } : {}),
    });
    let body = res.body.trim();
    let handshake: string[] = [];
    if (json && res.status === 200) {
      const doc = parseEcho(body);
      body = doc.message;
      handshake = handshakeLines(doc.handshake);
    }
    const tls = res.protocol ? ` ${res.protocol}` : '';
    if (res.status !== 200)
      throw new RequestFailure({ reason: `HTTP ${res.status}`, detail: firstLine(body), unavailable: false });
    if (cfg.mode === 'ping') {
      if (body !== 'pong')
        throw new RequestFailure({
          reason: 'unexpected answer',
          detail: `expected 'pong', got '${firstLine(body)}'`,
          unavailable: false,
        });
      out(`Got pong from ${name}${where}${tls} in ${res.latencyMs.toFixed(1)}ms`);
    } else {
      out(`${name}${where}${tls} ${res.latencyMs.toFixed(1)}ms: ${body}`);
      for (const line of handshake) out(line);
    }
    return { ok: true, latencyMs: res.latencyMs };
  } catch (e) {
    return { ok: false, failure: describeFailure(e), where };
  }
}

/** The JSON echo's message and handshake; an answer that is not the echo is a failure. */
function parseEcho(body: string): { message: string; handshake: HandshakeReport | null | undefined } {
  try {
    const doc = JSON.parse(body) as { message?: unknown; handshake?: HandshakeReport | null };
    if (typeof doc.message === 'string') return { message: doc.message, handshake: doc.handshake };
  } catch {
    // reported below
  }
  throw new RequestFailure({
    reason: 'unexpected answer',
    detail: `expected the JSON echo, got '${firstLine(body)}'`,
    unavailable: false,
  });
}

async function establishTrust(
  cfg: ClientConfig,
  resolve: ResolveFn,
  waiter: Waiter,
  out: (line: string) => void,
  err: (line: string) => void,
  signal: AbortSignal,
): Promise<TrustedRoot | undefined> {
  let root: TrustedRoot;
  if (cfg.caFile) {
    root = loadCaFile(cfg.caFile, cfg.pin);
  } else {
    const url = cfg.caUrl ?? defaultCaUrl(cfg.names[0]!, cfg.httpPort);
    let pem: string | undefined;
    while (pem === undefined) {
      if (signal.aborted) return undefined;
      try {
        pem = await fetchRootPem(url, resolve, { timeoutMs: cfg.timeoutMs, signal });
      } catch (e) {
        if (signal.aborted) return undefined;
        const f = describeFailure(e);
        if (!f.unavailable)
          throw new CommandError(`cannot fetch the root CA from ${url.href}: ${message(f)}`);
        if (!(await waiter.wait(`${url.href}: ${message(f, cfg.dns)}`))) return undefined;
      }
    }
    waiter.reset();
    root = acceptRoot(pem, url.href, cfg.pin);
  }
  const what = `root CA "${root.subject}" from ${root.source}, SHA-256 ${root.fingerprint.colon}`;
  if (root.pinned) out(`trusting ${what} (matches --ca-fingerprint)`);
  else if (cfg.caFile) out(`trusting ${what}`);
  else
    err(
      `warning: trusting ${what} on first use, with no --ca-fingerprint to check it against; ` +
        `pin it with --ca-fingerprint ${root.fingerprint.hex}`,
    );
  return root;
}

function loadClientPair(cfg: ClientConfig): { cert?: string; key?: string } {
  if (!cfg.certFile || !cfg.keyFile) return {};
  return {
    cert: readUserFile(cfg.certFile, '--cert-file', { pem: 'certificate' }),
    key: readUserFile(cfg.keyFile, '--key-file', { pem: 'private key' }),
  };
}

/** Capped exponential backoff while the server is not up, bounded by --wait-timeout. */
class Waiter {
  private delay = BACKOFF_START_MS;
  private since: number | undefined;

  constructor(
    private readonly limitMs: number,
    private readonly err: (line: string) => void,
    private readonly signal: AbortSignal,
  ) {}

  reset(): void {
    this.delay = BACKOFF_START_MS;
    this.since = undefined;
  }

  /** Sleeps before the next attempt; false when stopped. Throws once the wait limit is used up. */
  async wait(what: string): Promise<boolean> {
    this.since ??= Date.now();
    const waited = Date.now() - this.since;
    if (this.limitMs > 0 && waited >= this.limitMs)
      throw new CommandError(`server not reachable after ${(waited / 1000).toFixed(1)}s: ${what}`);
    // Never sleep past the limit: the last attempt happens at the deadline.
    const delay = this.limitMs > 0 ? Math.min(this.delay, this.limitMs - waited) : this.delay;
    this.err(`waiting for server: ${what}; retrying in ${(delay / 1000).toFixed(2)}s`);
    await sleep(delay, undefined, { signal: this.signal }).catch(() => undefined);
    this.delay = Math.min(this.delay * 2, BACKOFF_CAP_MS);
    return !this.signal.aborted;
  }
}

function message(f: Failure, dns?: string): string {
  if (f.reason === NOT_RESOLVED) return `${f.reason} (${notResolvedHint(dns)})`;
  return f.detail ? `${f.reason} (${f.detail})` : f.reason;
}

const NOT_RESOLVED = describeFailure({ code: 'ENOTFOUND' }).reason;

// In Compose or Kubernetes a name that does not resolve yet is a server that is not up yet, so the
// client keeps waiting; on one machine it means nothing answers for the name at all, and the
// line says how to make it resolve.
function notResolvedHint(dns: string | undefined): string {
  return dns
    ? `the DNS server ${dns} has no address for it; check --domain or --names`
    : "not in DNS or /etc/hosts; on one machine run 'npx tlsecho dns' and add --dns 127.0.0.1:10053, " +
        'or use --names localhost';
}

function firstLine(s: string): string {
  const line = s.split('\n')[0] ?? '';
  return line.length > 120 ? `${line.slice(0, 120)}…` : line;
}
