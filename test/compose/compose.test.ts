// The Compose deployment on a real Docker engine: images built by `make images`, certificates by
// `make certs`, the repository's compose.yaml run under unique project names. Everything runs
// with a PATH that has no setfacl: the seed's three commands need no host package beyond Docker,
// make and Node.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chownSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fingerprintOfPem } from '../../src/ca/fingerprint.js';
import { tempDir } from '../helpers/pki.js';
import { skipUnless } from '../helpers/requirements.js';
import { ComposeProject, check, composeEnv, dockerMissing, exec, pathWithout, waitFor } from './docker.js';

const skip = skipUnless('DOCKER', dockerMissing());
const DOMAIN = 'e2e.test';
const NAMES = [1, 2, 3].map((i) => `server${i}.${DOMAIN}`);

describe('Docker Compose stack', { skip, timeout: 10 * 60_000 }, () => {
  const id = randomBytes(3).toString('hex');
  const tag = `test-${id}`;
  const images = {
    TLSECHO_SERVER_IMAGE: `tlsecho-server:${tag}`,
    TLSECHO_CLIENT_IMAGE: `tlsecho-client:${tag}`,
  };
  const tmp = tempDir('tlsecho-compose-');
  const certs = join(tmp.dir, 'certs');
  const env = composeEnv(certs, DOMAIN, {
    PATH: pathWithout(['setfacl', 'getfacl'], join(tmp.dir, 'bin')),
    // ephemeral loopback ports, so parallel runs and a user's stack do not collide
    TLSECHO_PUBLISH_HTTPS: '127.0.0.1:',
    TLSECHO_PUBLISH_HTTP: '127.0.0.1:',
    ...images,
  });
  const projects: ComposeProject[] = [];
  const project = (suffix: string, extra: NodeJS.ProcessEnv = {}, overrides: string[] = []) => {
    const p = new ComposeProject(`tlsecho-${suffix}-${id}`, { ...env, ...extra }, overrides);
    projects.push(p);
    return p;
  };

  before(async () => {
    const which = await exec('bash', ['-c', '! command -v setfacl && ! command -v getfacl'], { env });
    assert.equal(which.code, 0, `setfacl must not be on the test's PATH: ${which.stdout}`);
    // -o: use the dist/ these tests run from instead of recompiling the tree.
    await check('make', ['-o', 'dist/src/cli.js', 'certs'], { env, timeoutMs: 60_000 });
    // As the user who ran make would have it: 0600, owned by someone who is neither root nor the
    // container's uid (when the test may chown).
    if (process.getuid?.() === 0) chownSync(env.MX_keyfile!, 4242, 4242);
    await check('make', ['images', `TAG=${tag}`], { env, timeoutMs: 8 * 60_000 });
  });

  after(async () => {
    for (const p of projects) await p.down();
    await exec('docker', ['image', 'rm', images.TLSECHO_SERVER_IMAGE, images.TLSECHO_CLIENT_IMAGE]);
    tmp.cleanup();
  });

  it('make certs leaves the key 0600 (no ACL) and records the root fingerprint for Compose', () => {
    // An ACL would show up as group bits (its mask): none may be set.
    assert.equal(statSync(env.MX_keyfile!).mode & 0o777, 0o600);
    const pin = readFileSync(join(certs, 'ca-fingerprint.env'), 'utf8');
    const fp = fingerprintOfPem(readFileSync(env.MX_cafile!, 'utf8'));
    assert.match(pin, new RegExp(`^TLSECHO_CA_FINGERPRINT=${fp.hex}$`, 'm'));
  });

  const e2e = project('e2e');

  it('client reaches server1..3 by Docker DNS over verified TLS and sees its own IP echoed', async () => {
    await e2e.ok(['up', '-d', '--no-build'], 180_000);
    assert.equal(await e2e.inspect('server', '{{.State.Health.Status}}'), 'healthy');
    const clientIp = await e2e.inspect(
      'client',
      `{{(index .NetworkSettings.Networks "${e2e.name}_echo").IPAddress}}`,
    );
    assert.match(clientIp, /^\d+\.\d+\.\d+\.\d+$/);
    const ipWord = new RegExp(`(^|[^\\d.])${clientIp.replace(/\./g, '\\.')}([^\\d.]|$)`);

    // Every name answered at least once, over TLS, with the client's own address in the echo.
    const seen = await waitFor(
      'an echo from all three names',
      async () => {
        const lines = (await e2e.logs('client')).split('\n');
        const hits = NAMES.map((n) =>
          lines.find(
            (l) =>
              l.includes(` ${n} -> `) &&
              / TLSv1\.[23] /.test(l) &&
              ipWord.test(l.split(': ').slice(1).join(': ')),
          ),
        );
        return hits.every(Boolean) ? (hits as string[]) : undefined;
      },
      90_000,
      async () => `client logs:\n${await e2e.logs('client')}\nserver logs:\n${await e2e.logs('server')}`,
    );
    for (const [i, line] of seen.entries()) assert.ok(line.includes(NAMES[i]!), line);

    // The seed's bootstrap: the root from the server's /root_ca, pinned to what make recorded.
    const client = await e2e.logs('client');
    const fp = fingerprintOfPem(readFileSync(env.MX_cafile!, 'utf8'));
    assert.match(
      client,
      new RegExp(
        `trusting root CA .* from http://server1\\.e2e\\.test:8080/root_ca, SHA-256 ${fp.colon} \\(matches --ca-fingerprint\\)`,
      ),
    );
    assert.doesNotMatch(client, /FAILED|warning/);
    assert.match(await e2e.logs('server'), /ready.*https_port.*8443/);
    assert.match(
      await e2e.logs('tls-key'),
      /installed \/run\/secrets\/tls_key as \/tls-key\/key\.pem for uid 65532/,
    );

    // Runs as the image's non-root user; its key copy is its own and 0400, not in the environment.
    assert.equal(await e2e.inspect('server', '{{.Config.User}}'), '65532:65532');
    const serverEnv = await e2e.inspect('server', '{{json .Config.Env}}');
    assert.doesNotMatch(serverEnv, /PRIVATE KEY|MX_keyfile/);
    const stat = await e2e.ok(
      [
        'exec',
        '-T',
        'server',
        '/nodejs/bin/node',
        '-e',
        "const s = require('fs').statSync('/run/tls-key/key.pem'); console.log(s.uid, (s.mode & 0o777).toString(8))",
      ],
      30_000,
    );
    assert.equal(stat.stdout.trim(), '65532 400');
  });

  it('docker compose stop ends both containers with exit code 0 (SIGTERM, no SIGKILL)', async () => {
    await e2e.ok(['up', '-d', '--no-build'], 180_000); // no-op when the test above left it running
    await e2e.ok(['stop'], 60_000);
    for (const service of ['client', 'server'])
      assert.equal(
        await e2e.inspect(service, '{{.State.Status}} exit={{.State.ExitCode}} oom={{.State.OOMKilled}}'),
        'exited exit=0 oom=false',
        `${service} logs:\n${await e2e.logs(service)}`,
      );
  });

  it('client started before the server retries until the server is up', async () => {
    const p = project('retry');
    await p.ok(['up', '-d', '--no-build', '--no-deps', 'client'], 120_000);
    await waitFor(
      'the client to report that it is waiting',
      async () => ((await p.logs('client')).includes('waiting for server') ? true : undefined),
      60_000,
      () => p.logs('client'),
    );
    await p.ok(['up', '-d', '--no-build', 'server'], 180_000);
    await waitFor(
      'an echo after the server came up',
      async () => {
        const lines = (await p.logs('client')).split('\n');
        return NAMES.every((n) => lines.some((l) => l.includes(` ${n} -> `) && / TLSv1\.[23] /.test(l)))
          ? true
          : undefined;
      },
      90_000,
      async () => `client logs:\n${await p.logs('client')}`,
    );
    assert.equal(
      await p.inspect('client', '{{.State.Running}} restarts={{.RestartCount}}'),
      'true restarts=0',
    );
  });

  it('a missing secret file stops the server from starting, naming the file', async () => {
    const absent = join(tmp.dir, 'absent', 'key.pem');
    const p = project('nosecret', { MX_keyfile: absent });
    const r = await p.run(['up', '-d', '--no-build', 'server'], 120_000);
    assert.notEqual(r.code, 0);
    assert.ok(`${r.stdout}${r.stderr}`.includes(absent), `output names ${absent}:\n${r.stderr}`);
    const id = await p.container('server');
    if (id) assert.equal(await p.inspect('server', '{{.State.Running}}'), 'false');
  });

  it('the root as a secret (compose.ca-file.yaml) is the documented alternative and works', async () => {
    const p = project('cafile', {}, ['deploy/docker/compose.ca-file.yaml']);
    await p.ok(['up', '-d', '--no-build'], 180_000);
    await waitFor(
      'an echo with the root from the secret',
      async () => {
        const logs = await p.logs('client');
        return /trusting root CA .* from \/run\/secrets\/ca_cert/.test(logs) &&
          NAMES.some((n) => logs.includes(` ${n} -> `))
          ? true
          : undefined;
      },
      90_000,
      async () => `client logs:\n${await p.logs('client')}`,
    );
  });

  it('a key file that is not a key makes the server exit with a one-line error', async () => {
    const bare = join(tmp.dir, 'not-a-key.pem');
    writeFileSync(bare, 'not a key\n', { mode: 0o600 });
    const p = project('badkey', { MX_keyfile: bare });
    await p.run(['up', '-d', '--no-build', 'server'], 120_000);
    const state = await waitFor(
      'the server to exit',
      async () => {
        const s = await p.inspect('server', '{{.State.Status}} {{.State.ExitCode}}');
        return s.startsWith('exited') ? s : undefined;
      },
      30_000,
      () => p.logs('server'),
    );
    assert.notEqual(state, 'exited 0');
    const logs = await p.logs('server');
    assert.match(logs, /--key-file \/run\/tls-key\/key\.pem is not a PEM private key/);
    assert.doesNotMatch(logs, /^\s+at /m, 'a clear message, not a stack trace');
  });
});
