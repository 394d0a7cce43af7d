// `make export`: the git history as a bare repository in a tar.gz (the seed's "git bare export"),
// refused when a private key is anywhere in that history.
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../helpers/pki.js';
import { ROOT, check, exec } from './docker.js';

const MAKEFILE = join(ROOT, 'Makefile');
const GIT_ENV = {
  GIT_AUTHOR_NAME: 'test',
  GIT_AUTHOR_EMAIL: 'test@example.invalid',
  GIT_COMMITTER_NAME: 'test',
  GIT_COMMITTER_EMAIL: 'test@example.invalid',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
};

const git = (cwd: string, ...args: string[]) => check('git', args, { cwd, env: GIT_ENV });

/** A fresh repository with one commit per entry of `commits` (path -> content, null deletes). */
async function makeRepo(dir: string, commits: Record<string, string | null>[]): Promise<void> {
  mkdirSync(dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  for (const [i, files] of commits.entries()) {
    for (const [path, content] of Object.entries(files)) {
      if (content === null) rmSync(join(dir, path));
      else {
        mkdirSync(join(dir, path, '..'), { recursive: true });
        writeFileSync(join(dir, path), content);
      }
    }
    await git(dir, 'add', '-A');
    await git(dir, 'commit', '-q', '-m', `commit ${i + 1}`);
  }
}

/** Runs the project's `make export` in `repo`, writing into `out`. */
function makeExport(repo: string, out: string) {
  return exec('make', ['-f', MAKEFILE, 'export', `EXPORT_DIR=${out}`], {
    cwd: repo,
    env: GIT_ENV,
    timeoutMs: 120_000,
  });
}

/** Unpacks the archive and clones from the bare repository in it; returns the clone's folder. */
async function cloneFromArchive(archive: string, work: string): Promise<string> {
  const unpacked = join(work, 'unpacked');
  mkdirSync(unpacked, { recursive: true });
  await check('tar', ['-xzf', archive, '-C', unpacked]);
  assert.deepEqual(readdirSync(unpacked), ['tlsecho.git']);
  const clone = join(work, 'clone');
  await git(work, 'clone', '-q', join(unpacked, 'tlsecho.git'), clone);
  return clone;
}

describe('make export', { timeout: 5 * 60_000 }, () => {
  const tmp = tempDir('tlsecho-export-');
  after(() => tmp.cleanup());

  it('packs a bare repository that git clone can clone, with the whole history', async () => {
    const repo = join(tmp.dir, 'clean');
    await makeRepo(repo, [{ 'README.md': 'one\n' }, { 'src/a.txt': 'two\n' }]);
    writeFileSync(join(repo, 'uncommitted.txt'), 'not part of the history\n');
    const out = join(tmp.dir, 'out-clean');
    const r = await makeExport(repo, out);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /uncommitted changes are not exported/);
    const clone = await cloneFromArchive(join(out, 'tlsecho.git.tar.gz'), join(tmp.dir, 'work-clean'));
    assert.ok(existsSync(join(clone, 'src', 'a.txt')));
    assert.ok(!existsSync(join(clone, 'uncommitted.txt')));
    assert.equal((await git(clone, 'rev-list', '--count', 'HEAD')).stdout.trim(), '2');
  });

  it('refuses, naming commit and path, when a private key was ever committed', async () => {
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      type: 'pkcs8',
      format: 'pem',
    }) as string;
    const repo = join(tmp.dir, 'leaky');
    // The key is added, then deleted: it is no longer in HEAD, only in the history.
    await makeRepo(repo, [{ 'README.md': 'one\n' }, { 'old/server.key': key }, { 'old/server.key': null }]);
    const out = join(tmp.dir, 'out-leaky');
    const r = await makeExport(repo, out);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /private key is in the git history/);
    assert.match(r.stderr, /^[0-9a-f]{40}:old\/server\.key$/m);
    assert.ok(!existsSync(join(out, 'tlsecho.git.tar.gz')), 'no archive written');
  });

  it(
    'exports this repository',
    { skip: !existsSync(join(ROOT, '.git')) && 'not a git checkout' },
    async () => {
      const out = join(tmp.dir, 'out-self');
      const r = await makeExport(ROOT, out);
      assert.equal(r.code, 0, r.stderr);
      const clone = await cloneFromArchive(join(out, 'tlsecho.git.tar.gz'), join(tmp.dir, 'work-self'));
      assert.ok(existsSync(join(clone, 'package.json')));
    },
  );
});
