// compose.yaml's failure lab, as Compose itself renders it (`docker compose config`, no engine
// needed): behind the profile lab only, every lab name a network alias of the lab server, the lab's
// certificates delivered as the main pair is (a one-shot copy into a volume for uid 65532), the
// non-root hardening of the other services, and the default services untouched by it.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'yaml';
import { labNames } from '../../src/lab/names.js';
import { tempDir } from '../helpers/pki.js';
import { skipUnless } from '../helpers/requirements.js';
import { check, composeEnv, ROOT } from './docker.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Service = Record<string, any>;

const DOMAIN = 'render.test';
const LAB = ['lab-check', 'lab-keys', 'lab-server'];
const DEFAULT = ['client', 'server', 'tls-key'];

function composeMissing(): string | undefined {
  const r = spawnSync('docker', ['compose', 'version'], { stdio: 'ignore', timeout: 20_000 });
  return r.status === 0 ? undefined : "'docker compose' is not available";
}

/** The value of `--name=value` in a command list. */
function flag(command: string[], name: string): string | undefined {
  return command.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
}

interface Mount {
  type: string;
  source: string;
  target: string;
  readOnly: boolean;
}

/** A service's volumes in one form: docker-compose 1.29 renders short strings, Compose v2 objects. */
function mounts(svc: Service): Mount[] {
  return ((svc.volumes ?? []) as (string | Service)[]).map((v) => {
    if (typeof v !== 'string')
      return { type: v.type, source: v.source, target: v.target, readOnly: v.read_only === true };
    const [source = '', target = '', mode = 'rw'] = v.split(':');
    return { type: source.startsWith('/') ? 'bind' : 'volume', source, target, readOnly: mode === 'ro' };
  });
}

/** depends_on as service -> condition (Compose v2 adds `required` and `restart`). */
function dependsOn(svc: Service): Record<string, string> {
  return Object.fromEntries(
    Object.entries((svc.depends_on ?? {}) as Record<string, Service>).map(([k, v]) => [k, v.condition]),
  );
}

/** compose.yaml as Compose renders it for the temporary certificates folder. */
async function renderCompose(env: NodeJS.ProcessEnv) {
  const file = join(ROOT, 'compose.yaml');
  const r = await check('docker', ['compose', '-f', file, '--project-directory', ROOT, 'config'], {
    env,
  });
  return parse(r.stdout) as { services: Record<string, Service>; volumes?: object; secrets?: object };
}

describe('compose.yaml: the lab profile, rendered', { skip: skipUnless('DOCKER', composeMissing()) }, () => {
  const tmp = tempDir('tlsecho-compose-config-');
  const certs = join(tmp.dir, 'certs');
  const env = composeEnv(certs, DOMAIN, { PATH: process.env.PATH });
  let services: Record<string, Service>;
  let rendered: Awaited<ReturnType<typeof renderCompose>>;
  before(async () => {
    mkdirSync(certs, { recursive: true });
    // The client's env_file must exist for Compose to render; nothing else is read.
    writeFileSync(join(certs, 'ca-fingerprint.env'), 'TLSECHO_CA_FINGERPRINT=00\n');
    rendered = await renderCompose(env);
    services = rendered.services;
  });
  after(() => tmp.cleanup());

  it('the lab services are exactly lab-keys, lab-server and lab-check, each behind the profile lab', () => {
    const profiled = Object.keys(services).filter((s) => services[s]!.profiles);
    assert.deepEqual(profiled.sort(), LAB);
    for (const s of LAB) assert.deepEqual(services[s]!.profiles, ['lab'], `${s} profiles`);
  });

  it('the default profile is unchanged: the same three services, no lab volume, alias or secret', () => {
    const plain = Object.keys(services).filter((s) => !services[s]!.profiles);
    assert.deepEqual(plain.sort(), DEFAULT);
    for (const s of DEFAULT) {
      const svc = services[s]!;
      for (const dep of Object.keys(dependsOn(svc)))
        assert.ok(!LAB.includes(dep), `${s} does not depend on the lab's ${dep}`);
      for (const m of mounts(svc)) {
        assert.notEqual(m.source, 'lab', `${s} does not mount the lab volume`);
        assert.doesNotMatch(m.source, /\/lab$/, `${s} does not mount the lab folder`);
      }
    }
    assert.deepEqual(
      services.server!.networks.echo.aliases,
      [1, 2, 3].map((i) => `server${i}.${DOMAIN}`),
    );
    assert.deepEqual(Object.keys(rendered.secrets ?? {}).sort(), ['ca_cert', 'tls_cert', 'tls_key']);
    assert.deepEqual(Object.keys(rendered.volumes ?? {}).sort(), ['lab', 'tls_key']);
  });

  it('every lab name <kind>.<MX_domain> is a network alias of the lab server, and no other name', () => {
    const aliases = services['lab-server']!.networks.echo.aliases as string[];
    assert.deepEqual([...aliases].sort(), labNames(DOMAIN).sort());
    assert.equal(labNames(DOMAIN).length, 9);
  });

  it('lab-keys copies the lab folder into the volume lab for uid 65532, with no network', () => {
    const k = services['lab-keys']!;
    assert.deepEqual(k.entrypoint, ['/nodejs/bin/node', '/app/dist/src/install-lab.js']);
    const [source, target, uid] = k.command as string[];
    assert.equal(uid, '65532');
    assert.deepEqual(mounts(k), [
      { type: 'bind', source: join(certs, 'lab'), target: source, readOnly: true },
      { type: 'volume', source: 'lab', target, readOnly: false },
    ]);
    assert.equal(k.network_mode, 'none');
    assert.equal(k.user, '0:0');
    assert.deepEqual(k.cap_drop, ['ALL']);
    assert.deepEqual([...k.cap_add].sort(), ['CHOWN', 'DAC_OVERRIDE', 'FOWNER']);
    assert.equal(k.read_only, true);
    assert.ok(!k.secrets, 'lab-keys gets no other secret');
  });

  it('lab-server serves --lab from the volume, read-only, after both one-shot copies', () => {
    const s = services['lab-server']!;
    const cmd = s.command as string[];
    assert.equal(flag(cmd, 'domain'), DOMAIN);
    assert.equal(flag(cmd, 'lab'), '/run/lab');
    assert.deepEqual(mounts(s), [
      { type: 'volume', source: 'tls_key', target: '/run/tls-key', readOnly: true },
      { type: 'volume', source: 'lab', target: '/run/lab', readOnly: true },
    ]);
    assert.equal(flag(cmd, 'key-file'), '/run/tls-key/key.pem');
    assert.equal(flag(cmd, 'ca-file'), '/run/secrets/ca_cert', 'client-cert trusts the root');
    assert.deepEqual(
      (s.secrets as Service[]).map((x) => x.source).sort(),
      ['ca_cert', 'tls_cert'],
      'never the host key itself',
    );
    assert.deepEqual(dependsOn(s), {
      'tls-key': 'service_completed_successfully',
      'lab-keys': 'service_completed_successfully',
    });
  });

  it('lab-check runs tlsecho lab check on the lab ports, trusting ca_cert, after the server is healthy', () => {
    const c = services['lab-check']!;
    assert.deepEqual(c.entrypoint, ['/nodejs/bin/node', '/app/dist/src/cli.js', 'lab', 'check']);
    assert.match(c.image, /^tlsecho-client:/);
    const cmd = c.command as string[];
    const server = services['lab-server']!.command as string[];
    assert.equal(flag(cmd, 'domain'), DOMAIN);
    assert.equal(flag(cmd, 'ca-file'), '/run/secrets/ca_cert');
    assert.deepEqual(
      (c.secrets as Service[]).map((x) => x.source),
      ['ca_cert'],
    );
    assert.equal(flag(cmd, 'port'), flag(server, 'https-port') ?? '8443');
    assert.equal(flag(cmd, 'tls12-port'), flag(server, 'lab-tls12-port'));
    assert.deepEqual(dependsOn(c), { 'lab-server': 'service_healthy' });
    assert.deepEqual(Object.keys(c.networks), ['echo']);
    assert.ok(!cmd.some((a) => /insecure|no-verify|reject/i.test(a)), 'verification stays on');
  });

  it('the lab services run hardened: non-root (but the one-shot), read-only, no capabilities, no ports', () => {
    for (const s of LAB) {
      const svc = services[s]!;
      assert.equal(svc.read_only, true, `${s} read_only`);
      assert.deepEqual(svc.cap_drop, ['ALL'], `${s} cap_drop`);
      assert.ok(svc.security_opt.includes('no-new-privileges:true'), `${s} no-new-privileges`);
      assert.ok(!svc.ports, `${s} publishes no port: the lab lives inside the network`);
      assert.ok(!svc.privileged, `${s} privileged`);
      if (s === 'lab-keys') continue;
      assert.equal(svc.user, undefined, `${s} runs as the image's user, 65532`);
      assert.ok(!svc.cap_add, `${s} adds no capability`);
    }
  });
});
