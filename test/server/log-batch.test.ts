// The request log's writer (src/server/log-batch.ts) on real files and a real pipe: every line
// gets out without another write or an exit, exit paths write what is pending at once, and the
// lines of two processes sharing one pipe (workers sharing the primary's stdout) stay whole.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { LineBatch } from '../../src/server/log-batch.js';
import { tempDir } from '../helpers/pki.js';

/** Resolves once `file` holds `want`; false if that takes longer than 2 s. */
async function eventually(file: string, want: string): Promise<boolean> {
  for (const deadline = Date.now() + 2000; Date.now() < deadline;) {
    if (readFileSync(file, 'utf8') === want) return true;
    await new Promise((r) => setTimeout(r, 2));
  }
  return false;
}

describe('LineBatch', () => {
  const t = tempDir();
  after(() => t.cleanup());
  /** A LineBatch writing to a new file of the temporary folder, for the length of `use`. */
  const withBatch = async (name: string, use: (batch: LineBatch, file: string) => Promise<void>) => {
    const file = join(t.dir, name);
    const fd = openSync(file, 'w');
    try {
      await use(new LineBatch(fd), file);
    } finally {
      closeSync(fd);
    }
  };

  it('writes each batch on its own, also one begun right after the last write', async () => {
    await withBatch('spaced.log', async (batch, file) => {
      batch.write('one\n');
      batch.write('two\n');
      assert.equal(readFileSync(file, 'utf8'), '', 'nothing is written within the turn');
      await new Promise((r) => setImmediate(r)); // after the batch's own immediate
      assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\n', 'the first batch is written when its turn ends');
      batch.write('three\n'); // within the spacing: waits for a timer, not for more lines
      assert.ok(await eventually(file, 'one\ntwo\nthree\n'), 'the second batch is written');
    });
  });

  it('cuts a batch at 4,096 bytes while its timer is due, and the process goes on as before', async () => {
    await withBatch('cut.log', async (batch, file) => {
      batch.write('first\n');
      await new Promise((r) => setImmediate(r)); // written; the next batch waits for a timer
      batch.write('second\n');
      const long = `${'x'.repeat(1000)}\n`;
      for (let i = 0; i < 5; i++) batch.write(long); // over 4,096 bytes: cut while the timer is due
      batch.write('last\n');
      const want = `first\nsecond\n${long.repeat(5)}last\n`;
      assert.ok(await eventually(file, want), 'every line written, in order');
      // Node's own queues are intact: immediates and timers still run.
      const ran = await Promise.race([
        Promise.all([new Promise((r) => setImmediate(r)), new Promise((r) => setTimeout(r, 10))]).then(
          () => true,
        ),
        new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref()),
      ]);
      assert.ok(ran, 'setImmediate and setTimeout still run');
    });
  });

  it('writes UTF-8 lines among ASCII ones as UTF-8, before and after a cut', async () => {
    await withBatch('utf8.log', async (batch, file) => {
      const ascii = `${'a'.repeat(2500)}\n`;
      const long = `${'é'.repeat(800)}\n`; // 1,601 bytes in UTF-8
      batch.writeAscii(ascii);
      batch.write('é ü 東京\n'); // not ASCII: this batch is encoded as UTF-8
      batch.writeAscii(ascii); // past 4,096 bytes: cut, and a batch of ASCII begins
      batch.write(long); // a UTF-8 line that itself cuts, and begins the last batch
      batch.write('ascii again\n');
      const want = `${ascii}é ü 東京\n${ascii}${long}ascii again\n`;
      assert.ok(await eventually(file, want), readFileSync(file, 'utf8').slice(-40));
      assert.equal(readFileSync(file).length, Buffer.byteLength(want));
    });
  });

  it('writes what is pending at once on flushSync', async () => {
    await withBatch('exit.log', async (batch, file) => {
      batch.write('a\n');
      batch.flushSync(); // the first write: an immediate was scheduled
      batch.write('b\n');
      batch.flushSync(); // the second, within the spacing: a timer was scheduled
      assert.equal(readFileSync(file, 'utf8'), 'a\nb\n');
    });
  });

  it('keeps the lines of two processes on one pipe whole, in batches over PIPE_BUF', async () => {
    const module = fileURLToPath(new URL('../../src/server/log-batch.js', import.meta.url));
    // Each writer: 40 turns of 500 lines of 60–240 bytes, far more than 4,096 bytes a turn.
    const writer = `
      const { LineBatch } = await import(${JSON.stringify(module)});
      const batch = new LineBatch(1);
      const tag = process.argv[1];
      for (let turn = 0; turn < 40; turn++) {
        for (let i = 0; i < 500; i++) batch.write(tag + ' ' + turn + ' ' + i + ' ' + 'x'.repeat(50 + ((i * 37) % 190)) + ' end\\n');
        await new Promise((r) => setImmediate(r));
      }
      batch.flushSync();`;
    const script = `node --input-type=module -e "$0" A & node --input-type=module -e "$0" B & wait`;
    const child = spawn('sh', ['-c', script, writer], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8');
    // A slow reader, so that the pipe fills and both writers block on it at once.
    child.stdout.on('data', (d: string) => {
      out += d;
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), 1);
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0);
    const lines = out.split('\n');
    assert.equal(lines.pop(), '', 'the output ends with a whole line');
    const next = { A: 0, B: 0 } as Record<string, number>;
    for (const line of lines) {
      const m = /^([AB]) (\d+) (\d+) x+ end$/.exec(line);
      assert.ok(m, `a whole line: ${JSON.stringify(line.slice(0, 80))}`);
      const n = Number(m[2]) * 500 + Number(m[3]);
      assert.equal(n, next[m[1]!], `writer ${m[1]}'s lines in order`);
      next[m[1]!]!++;
    }
    assert.deepEqual(next, { A: 20_000, B: 20_000 });
  });
});
