// compose.yaml's lab profile on a real Docker engine: `make lab-certs` under the root `make certs`
// made, then `docker compose --profile lab run --rm lab-check`: the lab server answers every lab
// name by its network alias, with its keys copied for uid 65532, and tlsecho's own client gives
// every served name a correct verdict. A two-tier CA serves all nine names; a wrong verdict is a
// non-zero exit. A plain `docker compose up` still starts none of it. Runs with no setfacl on PATH.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chownSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { labNames } from '../../src/lab/names.js';
import { tempDir } from '../helpers/pki.js';
import { skipUnless } from '../helpers/requirements.js';
import { ComposeProject, check, composeEnv, dockerMissing, exec, pathWithout } from './docker.js';

const skip = skipUnless('DOCKER', dockerMissing());
const DOMAIN = 'lab.test';

/** The verdict lines of `lab check`'s table, by name. */
function verdicts(stdout: string): Map<string, string> {
  const rows = stdout.split('\n').filter((l) => /^\S+\.lab\.test\s/.test(l));
  return new Map(rows.map((l) => [l.split(/\s+/)[0]!, l]));
}

describe('Docker Compose: the lab profile', { skip, timeout: 10 * 60_000 }, () => {
  const id = randomBytes(3).toString('hex');
  const tag = `test-lab-${id}`;
  const images = {
    TLSECHO_SERVER_IMAGE: `tlsecho-server:${tag}`,
    TLSECHO_CLIENT_IMAGE: `tlsecho-client:${tag}`,
  };
  const tmp = tempDir('tlsecho-compose-lab-');
  const envFor = (certs: string): NodeJS.ProcessEnv =>
    composeEnv(certs, DOMAIN, {
      PATH: pathWithout(['setfacl', 'getfacl'], join(tmp.dir, 'bin')),
      TLSECHO_PUBLISH_HTTPS: '127.0.0.1:',
      TLSECHO_PUBLISH_HTTP: '127.0.0.1:',
      ...images,
    });
  const minica = envFor(join(tmp.dir, 'certs'));
  const twoTier = envFor(join(tmp.dir, 'certs-two-tier'));
  const projects: ComposeProject[] = [];
  const project = (suffix: string, env: NodeJS.ProcessEnv) => {
    const p = new ComposeProject(`tlsecho-${suffix}-${id}`, env);
    projects.push(p);
    return p;
  };
  const labCheck = (p: ComposeProject, args: string[] = []) =>
    p.run(['--profile', 'lab', 'run', '--rm', 'lab-check', ...args], 240_000);

  before(async () => {
    const make = (env: NodeJS.ProcessEnv, target: string) =>
      check('make', ['-o', 'dist/src/cli.js', target], { env, timeoutMs: 60_000 });
    await make(minica, 'lab-certs'); // runs make certs first
    // The whole lab needs a root with room for an intermediate: a two-tier CA.
    await check(
      'node',
      ['dist/src/cli.js', 'ca', '--intermediate', '--out', twoTier.MX_certspath!, '--domain', DOMAIN],
      { env: twoTier },
    );
    await make(twoTier, 'lab-certs');
    if (process.getuid?.() === 0)
      for (const env of [minica, twoTier])
        for (const name of readdirSync(join(env.MX_certspath!, 'lab')))
          if (!name.startsWith('_')) chownSync(join(env.MX_certspath!, 'lab', name, 'key.pem'), 4242, 4242);
    await check('make', ['images', `TAG=${tag}`], { env: minica, timeoutMs: 8 * 60_000 });
  });

  after(async () => {
    for (const p of projects) await p.run(['--profile', 'lab', 'down', '-v', '--remove-orphans', '-t', '5']);
    await exec('docker', ['image', 'rm', images.TLSECHO_SERVER_IMAGE, images.TLSECHO_CLIENT_IMAGE]);
    tmp.cleanup();
  });

  it('make lab-certs leaves every lab key 0600 on the host', () => {
    const lab = join(minica.MX_certspath!, 'lab');
    const names = readdirSync(lab).filter((n) => !n.startsWith('_'));
    assert.equal(names.length, 8, `a pathlen:0 root: incomplete-chain is skipped (${names.join(' ')})`);
    for (const n of names) assert.equal(statSync(join(lab, n, 'key.pem')).mode & 0o777, 0o600, n);
  });

  const p = project('lab', minica);

  it('a plain docker compose up starts no lab service', async () => {
    await p.ok(['up', '-d', '--no-build'], 180_000);
    // The containers the project has (docker-compose 1.29's `ps --services` lists the file's).
    const ps = await check('docker', [
      'ps',
      '-a',
      '--filter',
      `label=com.docker.compose.project=${p.name}`,
      '--format',
      '{{.Label "com.docker.compose.service"}}',
    ]);
    const services = ps.stdout.trim().split('\n').sort();
    assert.deepEqual(services, ['client', 'server', 'tls-key']);
  });

  it('lab check inside the network: every served name ✔, exit 0, keys 0400 for uid 65532', async () => {
    const r = await labCheck(p);
    assert.equal(r.code, 0, `lab-check exit code:\n${r.stdout}\n${r.stderr}`);
    const rows = verdicts(r.stdout);
    const served = labNames(DOMAIN).filter((n) => !n.startsWith('incomplete-chain.'));
    assert.deepEqual([...rows.keys()].sort(), served.sort(), r.stdout);
    for (const [name, row] of rows) assert.match(row, /✔$/, `${name}: ${row}`);
    assert.match(r.stdout, /^all 8 verdicts correct$/m);
    assert.match(r.stdout, /^incomplete-chain\.lab\.test: not served by this lab, not judged/m);
    assert.match(
      await p.logs('lab-keys'),
      /installed 8 lab names from \/run\/lab-source into \/lab for uid 65532 \(keys 0400\)/,
    );
    assert.equal(await p.inspect('lab-server', '{{.Config.User}}'), '65532:65532');
    const stat = await p.ok(
      [
        'exec',
        '-T',
        'lab-server',
        '/nodejs/bin/node',
        '-e',
        "const fs = require('fs'); for (const n of fs.readdirSync('/run/lab')) { const s = fs.statSync('/run/lab/' + n + '/key.pem'); console.log(n, s.uid, (s.mode & 0o777).toString(8)) }",
      ],
      30_000,
    );
    const lines = stat.stdout.trim().split('\n');
    assert.equal(lines.length, 8, 'only the served names: no lab CA key in the volume');
    for (const l of lines) assert.match(l, / 65532 400$/, l);
  });

  it('a wrong verdict makes lab-check exit non-zero (tls12 asked on the main port)', async () => {
    const r = await labCheck(p, [
      `--domain=${DOMAIN}`,
      '--ca-file=/run/secrets/ca_cert',
      '--port=8443',
      '--tls12-port=8443',
    ]);
    assert.equal(r.code, 1, `${r.stdout}\n${r.stderr}`);
    // The main port has no tls12 site: it answers with the lab's default certificate.
    assert.match(verdicts(r.stdout).get(`tls12.${DOMAIN}`) ?? '', /refused: name not in certificate +✘$/);
    assert.match(r.stdout, /^1 of 8 verdicts wrong$/m);
  });

  it('a two-tier CA serves all nine names, incomplete-chain included, every verdict ✔', async () => {
    const r = await labCheck(project('lab2tier', twoTier));
    assert.equal(r.code, 0, `lab-check exit code:\n${r.stdout}\n${r.stderr}`);
    const rows = verdicts(r.stdout);
    assert.deepEqual([...rows.keys()].sort(), labNames(DOMAIN).sort(), r.stdout);
    for (const [name, row] of rows) assert.match(row, /✔$/, `${name}: ${row}`);
    assert.match(r.stdout, /^all 9 verdicts correct$/m);
  });
});
