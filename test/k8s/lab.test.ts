// The failure lab overlay (overlays/lab) rendered offline: `make k8s-secrets` with the lab overlay
// (secrets.sh --lab) into a temporary copy, then `kubectl kustomize`. One Service per lab name, so
// <kind>.tlsecho.svc.cluster.local reaches the lab server; the Secret laid out as `tlsecho ca lab`
// does; the base's hardening; policies that let lab-check, and nothing else, reach the lab server;
// and the pods run locally with their rendered args and mounts, lab check judging every name ✔.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as batch from 'kubernetes-models/batch/v1';
import { parse } from 'yaml';
import { startDnsServer, type DnsServer } from '../../src/dns/server.js';
import { LAB_KINDS } from '../../src/lab/names.js';
import { freePort } from '../../src/util/sandbox.js';
import { runCli, startCli, waitForLine } from '../helpers/cli.js';
import { tempDir } from '../helpers/pki.js';
import { allows, externalPod, podOf, type Pod } from './policy.js';
import {
  argValue,
  CORE_MODELS,
  find,
  kustomize,
  NAMESPACE,
  ofKind,
  ROOT,
  skipUnlessTools,
  validateWithModel,
  type K8sObject,
} from './render.js';

const MODELS = { ...CORE_MODELS, 'batch/v1': batch };
const DOMAIN = `${NAMESPACE}.svc.cluster.local`;
const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

/** A copy of deploy/k8s with `make k8s-secrets K8S_OVERLAY=…/lab` run into it. */
function prepareLab(args: string[] = []) {
  const tmp = tempDir('tlsecho-k8s-lab-');
  const k8sDir = join(tmp.dir, 'k8s');
  cpSync(join(ROOT, 'deploy/k8s'), k8sDir, {
    recursive: true,
    filter: (src) => !/[/\\]secrets([/\\]|$)/.test(src.slice(ROOT.length)),
  });
  const certsDir = join(tmp.dir, 'certs');
  const make = (extra: string[] = []) =>
    execFileSync(
      'make',
      [
        '-s',
        '-C',
        ROOT,
        '-f',
        'deploy/k8s/k8s.mk',
        'k8s-secrets',
        'K8S_OVERLAY=deploy/k8s/overlays/lab',
        `K8S_CERTS=${certsDir}`,
        `K8S_SECRETS=${join(k8sDir, 'overlays/tlsecho-ca/secrets')}`,
        `K8S_LAB_SECRETS=${join(k8sDir, 'overlays/lab/secrets')}`,
        ...extra,
        ...args,
      ],
      { encoding: 'utf8' },
    );
  make();
  return { ...tmp, k8sDir, certsDir, make };
}

/** The pod a Deployment or Job creates. */
function pod(o: K8sObject, nsLabels: Record<string, string>): Pod {
  return podOf(o, nsLabels);
}

describe('kubernetes lab overlay', { skip: skipUnlessTools() }, () => {
  let r: ReturnType<typeof prepareLab>;
  let objects: K8sObject[];
  let server: K8sObject;
  let job: K8sObject;
  before(() => {
    r = prepareLab();
    objects = kustomize(join(r.k8sDir, 'overlays/lab'));
    server = find(objects, 'Deployment', 'lab-server');
    job = find(objects, 'Job', 'lab-check');
  });
  after(() => r?.cleanup());

  it('adds the lab server, a Service per lab name and the lab-check Job to the default deployment', () => {
    for (const o of objects) validateWithModel(o, MODELS);
    for (const o of objects.filter((x) => x.kind !== 'Namespace'))
      assert.equal(o.metadata.namespace, NAMESPACE, `${o.kind} ${o.metadata.name} namespace`);
    const names = (kind: string) =>
      ofKind(objects, kind)
        .map((o) => o.metadata.name)
        .sort();
    assert.deepEqual(names('Deployment'), ['echo-client', 'echo-server', 'lab-server', 'pinger', 'ponger']);
    assert.deepEqual(names('Job'), ['lab-check']);
    assert.deepEqual(names('Service'), [...LAB_KINDS, 'ponger', 'server1', 'server2', 'server3'].sort());
  });

  it('each lab name <kind>.<domain> is a Service <kind> of the lab server; tls12 targets its own port', () => {
    const c = server.spec.template.spec.containers[0];
    const portOf = (p: string | number) =>
      c.ports.find((x: K8sObject) => x.name === p || x.containerPort === p)?.containerPort;
    const args = job.spec.template.spec.containers[0].args as string[];
    assert.equal(argValue(args, 'domain'), DOMAIN, 'lab check names <kind>.<namespace>.svc.cluster.local');
    for (const kind of LAB_KINDS) {
      const svc = find(objects, 'Service', kind);
      assert.deepEqual(svc.spec.selector, { 'app.kubernetes.io/name': 'lab-server' });
      assert.equal(svc.spec.ports.length, 1);
      const want = kind === 'tls12' ? argValue(args, 'tls12-port') : argValue(args, 'port');
      assert.equal(String(svc.spec.ports[0].port), want, `${kind}: the port lab check calls`);
      const target = kind === 'tls12' ? argValue(c.args, 'lab-tls12-port') : argValue(c.args, 'https-port');
      assert.equal(String(portOf(svc.spec.ports[0].targetPort)), target, `${kind} targets its server port`);
    }
    assert.equal(argValue(c.args, 'lab'), c.volumeMounts.find((m: K8sObject) => m.name === 'lab').mountPath);
  });

  it('the Secret holds every lab name as tlsecho ca lab lays it out, from the lab root lab-check trusts', () => {
    const secret = find(objects, 'Secret', 'lab-server-tls');
    assert.equal(secret.type, 'kubernetes.io/tls');
    const volume = server.spec.template.spec.volumes.find((v: K8sObject) => v.name === 'lab');
    assert.equal(volume.secret.secretName, 'lab-server-tls');
    const paths = new Map<string, string>(
      volume.secret.items.map((i: K8sObject) => [i.path as string, i.key as string]),
    );
    const root = new X509Certificate(decode(secret.data['ca.crt']));
    const cm = find(objects, 'ConfigMap', job.spec.template.spec.volumes[0].configMap.name);
    assert.equal(cm.data['ca.crt'], decode(secret.data['ca.crt']), 'lab-check trusts the lab root');
    assert.deepEqual(Object.keys(cm.data), ['ca.crt']);
    assert.equal(paths.size, 2 * LAB_KINDS.length);
    for (const kind of LAB_KINDS) {
      const name = `${kind}.${DOMAIN}`;
      const certPem = decode(secret.data[paths.get(`${name}/cert.pem`)!]);
      const keyPem = decode(secret.data[paths.get(`${name}/key.pem`)!]);
      const cert = new X509Certificate(certPem);
      assert.ok(cert.checkPrivateKey(createPrivateKey(keyPem)), `${name}: key matches`);
      const expectHost = kind === 'wrong-name' ? undefined : name;
      assert.equal(cert.checkHost(name), expectHost, `${name} checkHost`);
      const fromRoot = cert.verify(root.publicKey);
      assert.equal(
        fromRoot,
        !['untrusted', 'self-signed', 'incomplete-chain'].includes(kind),
        `${name} issuer`,
      );
    }
    // The lab's CA keys stay on the host: only leaf keys are in the Secret.
    for (const k of Object.keys(secret.data))
      assert.match(k, /^(tls\.(crt|key)|ca\.crt|[a-z0-9-]+\.(crt|key))$/, k);
  });

  it("the lab's pods get exactly the base's hardening (restricted profile, uid 65532)", () => {
    const base = find(objects, 'Deployment', 'echo-server').spec.template.spec;
    const hardening = (p: K8sObject) => ({
      pod: p.securityContext,
      token: p.automountServiceAccountToken,
      containers: p.containers.map((c: K8sObject) => c.securityContext),
    });
    for (const o of [server, job]) {
      const spec = o.spec.template.spec;
      assert.deepEqual(hardening(spec), {
        ...hardening(base),
        containers: [base.containers[0].securityContext],
      });
      for (const c of spec.containers)
        for (const kind of ['requests', 'limits'])
          for (const res of ['cpu', 'memory'])
            assert.ok(c.resources?.[kind]?.[res], `${o.metadata.name} resources.${kind}.${res}`);
      for (const v of spec.volumes) if (v.secret) assert.equal(v.secret.defaultMode, 0o440);
    }
    const strip = (f: string) => parse(readFileSync(join(ROOT, 'deploy/k8s', f), 'utf8')) as unknown;
    assert.deepEqual(strip('overlays/lab/hardening.yaml'), strip('base/hardening.yaml'), 'one hardening');
    assert.equal(job.spec.template.spec.restartPolicy, 'Never');
  });

  it('only lab-check reaches the lab server, on its TLS ports; lab-check reaches nothing else', () => {
    const policies = ofKind(objects, 'NetworkPolicy');
    const nsLabels = {
      'kubernetes.io/metadata.name': NAMESPACE,
      ...find(objects, 'Namespace', NAMESPACE).metadata.labels,
    };
    const pods: Record<string, Pod> = Object.fromEntries(
      [...ofKind(objects, 'Deployment'), job].map((d): [string, Pod] => [d.metadata.name, pod(d, nsLabels)]),
    );
    const lab = pods['lab-server']!;
    const check = pods['lab-check']!;
    for (const port of [8443, 8444])
      assert.equal(allows(policies, check, lab, port), true, `lab-check -> lab-server:${port}`);
    assert.equal(allows(policies, check, lab, 8080), false, 'lab-check -> lab-server:8080');
    const scraper = externalPod('monitoring', { app: 'prometheus' }, { 'tlsecho/metrics-scraper': 'true' });
    const others: [string, Pod][] = [
      ...Object.entries(pods).filter(([n]) => n !== 'lab-check' && n !== 'lab-server'),
      ['outsider', externalPod('default', { app: 'curl' })],
      ['scraper', scraper],
    ];
    for (const [name, other] of others) {
      for (const port of [8443, 8444, 8080])
        assert.equal(allows(policies, other, lab, port), false, `${name} -> lab-server:${port}`);
      for (const port of [8443, 8080])
        assert.equal(allows(policies, check, other, port), false, `lab-check -> ${name}:${port}`);
      assert.equal(allows(policies, lab, other, 8443), false, `lab-server -> ${name}`);
    }
    const dns = externalPod('kube-system', { 'k8s-app': 'kube-dns' }, {}, [
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
    ]);
    for (const [name, p] of [['lab-check', check] as const, ['lab-server', lab] as const])
      assert.equal(allows(policies, p, dns, 53, 'UDP'), true, `${name} -> kube-dns`);
  });

  it('the pods run locally with their rendered args and mounts: lab check gives every name ✔', async () => {
    const children: ChildProcess[] = [];
    let dns: DnsServer | undefined;
    try {
      const secret = find(objects, 'Secret', 'lab-server-tls');
      const mounts: Record<string, string> = {};
      for (const v of server.spec.template.spec.volumes as K8sObject[]) {
        const dir = join(r.dir, 'mounts', v.name);
        for (const item of v.secret.items as K8sObject[]) {
          const file = join(dir, item.path);
          mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
          writeFileSync(file, Buffer.from(secret.data[item.key], 'base64'), { mode: 0o600 });
        }
        mounts[v.name] = dir;
      }
      const c = server.spec.template.spec.containers[0];
      const local = (args: string[], m: Record<string, string>, volumeMounts: K8sObject[]) =>
        args.map((a) => {
          for (const vm of volumeMounts) a = a.replace(`=${vm.mountPath}`, `=${m[vm.name]}`);
          return a;
        });
      const [https, tls12, http] = [
        await freePort('127.0.0.1'),
        await freePort('127.0.0.1'),
        await freePort('127.0.0.1'),
      ];
      const sargs = local(c.args, mounts, c.volumeMounts).map((a) =>
        a
          .replace(/^--https-port=.*/, `--https-port=${https}`)
          .replace(/^--lab-tls12-port=.*/, `--lab-tls12-port=${tls12}`)
          .replace(/^--http-port=.*/, `--http-port=${http}`),
      );
      const child = startCli(['server', ...sargs]);
      children.push(child);
      await waitForLine(child, /\bready\b.*https_port/, 20_000);

      const jc = job.spec.template.spec.containers[0];
      assert.deepEqual(jc.command, ['/nodejs/bin/node', '/app/dist/src/cli.js', 'lab', 'check']);
      const caDir = join(r.dir, 'mounts', 'root-ca');
      mkdirSync(caDir, { recursive: true });
      const cm = find(objects, 'ConfigMap', job.spec.template.spec.volumes[0].configMap.name);
      writeFileSync(join(caDir, 'ca.crt'), cm.data['ca.crt']);
      dns = await startDnsServer({
        zone: DOMAIN,
        records: Object.fromEntries(LAB_KINDS.map((k) => [`${k}.${DOMAIN}`, ['127.0.0.1']])),
      });
      // Each Service maps 443 to its own target port; locally the two ports stand for them.
      const jargs = local(jc.args, { 'root-ca': caDir }, jc.volumeMounts).map((a) =>
        a.replace(/^--port=.*/, `--port=${https}`).replace(/^--tls12-port=.*/, `--tls12-port=${tls12}`),
      );
      const res = await runCli(['lab', 'check', ...jargs, `--dns=${dns.address}`], { timeoutMs: 60_000 });
      assert.equal(res.code, 0, `lab check:\n${res.stdout}\n${res.stderr}`);
      assert.match(res.stdout, /^all 9 verdicts correct$/m);
      for (const kind of LAB_KINDS)
        assert.match(res.stdout, new RegExp(`^${kind}\\.${DOMAIN.replace(/\./g, '\\.')} .*✔$`, 'm'), kind);
    } finally {
      for (const ch of children) ch.kill('SIGKILL');
      await dns?.close();
    }
  });

  it('secrets.sh --lab: keys 0600, a re-run keeps the lab, a bad argument is one line', () => {
    const dir = join(r.k8sDir, 'overlays/lab/secrets');
    for (const kind of LAB_KINDS) assert.equal(statSync(join(dir, `${kind}.key`)).mode & 0o777, 0o600, kind);
    assert.equal(statSync(join(dir, 'tls.key')).mode & 0o777, 0o600);
    const before = readFileSync(join(dir, 'good.crt'), 'utf8');
    assert.match(r.make(), /keeping .*lab-server\/cert\.pem/);
    assert.equal(readFileSync(join(dir, 'good.crt'), 'utf8'), before, 'a second run keeps the lab');
    const bad = spawnSync('sh', [join(ROOT, 'deploy/k8s/secrets.sh'), '--labs'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, /unknown argument '--labs'/);
  });
});
