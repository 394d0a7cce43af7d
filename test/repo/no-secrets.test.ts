// No tracked file may hold a private key, and generated material must be git-ignored.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PRIVATE_KEY = /-----BEGIN ([A-Z0-9]+ )?PRIVATE KEY-----/;

function git(...args: string[]): string {
  return execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' });
}

describe('repository hygiene', { skip: !existsGit() && 'not a git checkout' }, () => {
  it('no tracked file holds a private key block', () => {
    const files = git('ls-files', '-z').split('\0').filter(Boolean);
    assert.ok(files.length > 10, 'git ls-files listed the project');
    const offenders = files.filter((f) => {
      try {
        return PRIVATE_KEY.test(readFileSync(join(ROOT, f), 'latin1'));
      } catch {
        return false; // deleted in the work tree
      }
    });
    assert.deepEqual(offenders, []);
  });

  it('generated certificates and keys are git-ignored', () => {
    for (const path of [
      'certs/minica-key.pem',
      'certs/server1.tlsecho.test/key.pem',
      'some/where/tls.key',
      'deploy/k8s/base/secrets/tls.key',
    ]) {
      assert.doesNotThrow(() => git('check-ignore', '-q', path), `${path} must be ignored`);
    }
  });
});

function existsGit(): boolean {
  try {
    git('rev-parse', '--git-dir');
    return true;
  } catch {
    return false;
  }
}
