// The Compose deployment on a real Docker engine: images built by `make images`, certificates by
// `make certs`, the repository's compose.yaml run under unique project names.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../helpers/pki.js';
import { skipUnless } from '../helpers/requirements.js';
import { ComposeProject, check, dockerMissing, exec, waitFor } from './docker.js';

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
  const env: NodeJS.ProcessEnv = {
    MX_domain: DOMAIN,
    MX_certspath: certs,
    MX_certfile: join(certs, `server1.${DOMAIN}`, 'cert.pem'),
    MX_keyfile: join(certs, `server1.${DOMAIN}`, 'key.pem'),
    MX_cafile: join(certs, 'minica.pem'),
    // ephemeral loopback ports, so parallel runs and a user's stack do not collide
    TLSECHO_PUBLISH_HTTPS: '127.0.0.1:',
    TLSECHO_PUBLISH_HTTP: '127.0.0.1:',
    ...images,
  };
  const projects: ComposeProject[] = [];
  const project = (suffix: string, extra: NodeJS.ProcessEnv = {}) => {
    const p = new ComposeProject(`tlsecho-${suffix}-${id}`, { ...env, ...extra });
    projects.push(p);
    return p;
  };

  before(async () => {
    // -o: use the dist/ these tests run from instead of recompiling the tree.
    await check('make', ['-o', 'dist/src/cli.js', 'certs'], { env, timeoutMs: 60_000 });
    await check('make', ['images', `TAG=${tag}`], { env, timeoutMs: 8 * 60_000 });
  });

  after(async () => {
    for (const p of projects) await p.down();
    await exec('docker', ['image', 'rm', images.TLSECHO_SERVER_IMAGE, images.TLSECHO_CLIENT_IMAGE]);
    tmp.cleanup();
  });

  it('make certs keeps the key 0600 and grants only uid 65532 read access by ACL', async () => {
    // With an ACL the group bits show the ACL mask; what counts is group::--- and no world bits.
    assert.equal(statSync(env.MX_keyfile!).mode & 0o007, 0, 'not world-readable');
    const acl = (await check('getfacl', ['-p', '-c', env.MX_keyfile!])).stdout;
    assert.match(acl, /^user:65532:r--$/m);
    assert.match(acl, /^group::---$/m);
    assert.match(acl, /^other::---$/m);
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

    const client = await e2e.logs('client');
    assert.match(client, /trusting root CA .* from \/run\/secrets\/ca_cert/);
    assert.doesNotMatch(client, /FAILED|warning/);
    assert.match(await e2e.logs('server'), /ready.*https_port.*8443/);

    // Runs as the image's non-root user; the key is a mounted file, not an environment variable.
    assert.equal(await e2e.inspect('server', '{{.Config.User}}'), '65532:65532');
    const serverEnv = await e2e.inspect('server', '{{json .Config.Env}}');
    assert.doesNotMatch(serverEnv, /PRIVATE KEY|MX_keyfile/);
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

  it('a key the container cannot read (no ACL) makes the server exit with a one-line error', async () => {
    const bare = join(tmp.dir, 'key-without-acl.pem');
    copyFileSync(env.MX_keyfile!, bare); // a plain copy: mode 0600, no ACL
    const p = project('noacl', { MX_keyfile: bare });
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
    assert.match(logs, /\/run\/secrets\/tls_key/);
    assert.doesNotMatch(logs, /^\s+at /m, 'a clear message, not a stack trace');
  });
});
