// The server's signal policy (src/server/signals.ts) with real signals sent to this process:
// what each signal does, and that removing the handlers leaves other code's listeners alone.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/server/logging.js';
import { handleSignals, ignoreSignals, SERVER_SIGNALS } from '../../src/server/signals.js';

/** Sends a real signal to this process and waits (up to 5 s) for its delivery to listeners. */
async function send(signal: NodeJS.Signals): Promise<void> {
  // Signal watchers do not keep the event loop alive; this timer does, and bounds the wait.
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(new Error(`${signal} was not delivered within 5 s`)), 5000);
  try {
    const delivered = once(process, signal, { signal: stop.signal });
    process.kill(process.pid, signal);
    await delivered;
  } finally {
    clearTimeout(timer);
  }
}

describe('server signals', () => {
  // Someone else's listener (as a test runner or a library has): it must outlive ours, and it
  // keeps a signal that reaches no handler of ours from ending the test process.
  const theirs = () => {};
  before(() => SERVER_SIGNALS.forEach((s) => process.on(s, theirs)));
  after(() => SERVER_SIGNALS.forEach((s) => process.off(s, theirs)));

  it('reloads on SIGHUP, stops on the first SIGTERM/SIGINT, exits at once on the next', async () => {
    const calls: string[] = [];
    let stopping = false;
    const dispose = handleSignals({
      logger: silentLogger,
      shutdownTimeoutMs: 1000,
      stopping: () => stopping,
      reload: () => calls.push('reload'),
      stop: (s) => {
        stopping = true;
        calls.push(`stop ${s}`);
      },
      exitNow: (s) => calls.push(`exitNow ${s}`),
    });
    try {
      await send('SIGHUP');
      await send('SIGTERM');
      await send('SIGHUP'); // still reloads while stopping
      await send('SIGINT');
      assert.deepEqual(calls, ['reload', 'stop SIGTERM', 'reload', 'exitNow SIGINT']);
    } finally {
      dispose();
    }
  });

  it("a stop begun by the owner turns the first signal into 'exit now'", async () => {
    const calls: string[] = [];
    const dispose = handleSignals({
      logger: silentLogger,
      shutdownTimeoutMs: 1000,
      stopping: () => true,
      reload: () => calls.push('reload'),
      stop: () => calls.push('stop'),
      exitNow: () => calls.push('exitNow'),
    });
    try {
      await send('SIGTERM');
      assert.deepEqual(calls, ['exitNow']);
    } finally {
      dispose();
    }
  });

  it('removes only its own listeners', async () => {
    const before = SERVER_SIGNALS.map((s) => process.listenerCount(s));
    let reloads = 0;
    const dispose = handleSignals({
      logger: silentLogger,
      shutdownTimeoutMs: 1000,
      stopping: () => false,
      reload: () => reloads++,
      stop: () => {},
      exitNow: () => {},
    });
    const ignoring = ignoreSignals();
    assert.deepEqual(
      SERVER_SIGNALS.map((s) => process.listenerCount(s)),
      before.map((n) => n + 2),
    );
    dispose();
    ignoring();
    assert.deepEqual(
      SERVER_SIGNALS.map((s) => process.listenerCount(s)),
      before,
    );
    for (const s of SERVER_SIGNALS) assert.ok(process.listeners(s).includes(theirs), `${s}: ours only`);
    await send('SIGHUP');
    assert.equal(reloads, 0, 'a removed handler still ran');
  });
});
