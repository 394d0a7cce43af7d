// readUserFile: the one way every command reads a file the user named, with the same one-line
// messages (missing, a folder, unreadable, empty, not the expected PEM).
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { CommandError } from '../../src/config/errors.js';
import { readUserFile } from '../../src/config/user-file.js';
import { makePki, tempDir } from '../helpers/pki.js';

describe('readUserFile', () => {
  const t = tempDir();
  after(() => t.cleanup());
  const fails = (path: string, option: string, o: Parameters<typeof readUserFile>[2], message: string) =>
    assert.throws(
      () => readUserFile(path, option, o),
      (e: unknown) => e instanceof CommandError && e.message === message,
    );

  it('returns the text of a good file', async () => {
    const pki = await makePki(join(t.dir, 'pki'));
    assert.equal(readUserFile(pki.root.cert, '--ca-file', { pem: 'certificate' }), pki.caPem);
    assert.equal(readUserFile(pki.server!.key, '--key-file', { pem: 'private key' }), pki.keyPem);
  });

  it('missing: says so, with the tlsecho ca hint for the names tlsecho ca writes', () => {
    const nope = join(t.dir, 'nope.pem');
    fails(nope, '--ca-file', {}, `cannot read --ca-file ${nope}: no such file`);
    const root = join(t.dir, 'certs', 'minica.pem');
    fails(root, '--ca-file', {}, `cannot read --ca-file ${root}: no such file (run 'npx tlsecho ca' first)`);
    const key = join(t.dir, 'certs', 'server1.tlsecho.test', 'key.pem');
    fails(key, '--key-file', {}, `cannot read --key-file ${key}: no such file (run 'npx tlsecho ca' first)`);
  });

  it('a folder, an empty file, a file that is not the PEM expected', () => {
    fails(t.dir, '--cert-file', {}, `cannot read --cert-file ${t.dir}: is a folder, not a file`);
    const empty = join(t.dir, 'empty.pem');
    writeFileSync(empty, '\n');
    fails(empty, '--cert-file', {}, `--cert-file ${empty} is empty`);
    assert.equal(readUserFile(empty, 'config file', { allowEmpty: true }), '\n');
    const text = join(t.dir, 'text.pem');
    writeFileSync(text, 'hello\n');
    fails(
      text,
      '--cert-file',
      { pem: 'certificate' },
      `--cert-file ${text} is not a PEM certificate (no 'BEGIN CERTIFICATE' line)`,
    );
    fails(
      text,
      '--key-file',
      { pem: 'private key' },
      `--key-file ${text} is not a PEM private key (no 'BEGIN PRIVATE KEY' line)`,
    );
  });

  it('unreadable: permission denied', { skip: process.getuid?.() === 0 && 'root reads any file' }, () => {
    const locked = join(t.dir, 'locked.pem');
    writeFileSync(locked, 'x');
    chmodSync(locked, 0o000);
    fails(locked, '--ca-file', {}, `cannot read --ca-file ${locked}: permission denied`);
  });
});
