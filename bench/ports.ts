// Loopback ports: a free one for nginx (which cannot report an ephemeral port), and waiting for
// a listener to accept connections.
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort as freePortOn } from '../src/util/sandbox.js';

export const HOST = '127.0.0.1';

export function freePort(): Promise<number> {
  return freePortOn(HOST);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect(port, HOST);
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** Resolves once `port` accepts a TCP connection; rejects after `timeoutMs` or if `alive()` fails. */
export async function waitForPort(port: number, alive: () => string | undefined, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await accepts(port)) return;
    const dead = alive();
    if (dead) throw new Error(dead);
    await sleep(20);
  }
  throw new Error(`nothing listens on ${HOST}:${port} after ${timeoutMs} ms`);
}
