// The default deployment (overlays/tlsecho-ca) rendered offline: every object is valid against the
// Kubernetes schemas, every pod meets the restricted Pod Security Standard, and Services, probes,
// mounts and shutdown timing agree with the containers and with what tlsecho serves.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseDuration } from '../../src/config/options.js';
import { runCli } from '../helpers/cli.js';
import {
  argValue,
  find,
  kustomize,
  NAMESPACE,
  ofKind,
  prepare,
  skipUnlessTools,
  type K8sObject,
  type Rendered,
  validateWithModel,
  CORE_MODELS,
} from './render.js';
import { selects } from './policy.js';

function containersOf(d: K8sObject): K8sObject[] {
  const spec = d.spec.template.spec;
  return [...(spec.initContainers ?? []), ...spec.containers];
}

describe('kubernetes manifests (overlays/tlsecho-ca)', { skip: skipUnlessTools() }, () => {
  let r: Rendered;
  let objects: K8sObject[];
  let deployments: K8sObject[];
  before(() => {
    r = prepare();
    objects = kustomize(join(r.k8sDir, 'overlays/tlsecho-ca'));
    deployments = ofKind(objects, 'Deployment');
  });
  after(() => r?.cleanup());

  it('renders the seed objects and every one validates against the Kubernetes schema', () => {
    const names = (kind: string) =>
      ofKind(objects, kind)
        .map((o) => o.metadata.name)
        .sort();
    assert.deepEqual(names('Deployment'), ['echo-client', 'echo-server', 'pinger', 'ponger']);
    assert.deepEqual(names('Service'), ['ponger', 'server1', 'server2', 'server3']);
    assert.deepEqual(names('PodDisruptionBudget'), ['ponger']);
    assert.deepEqual(names('Namespace'), [NAMESPACE]);
    for (const o of objects) validateWithModel(o, CORE_MODELS);
    for (const o of objects.filter((x) => x.kind !== 'Namespace'))
      assert.equal(o.metadata.namespace, NAMESPACE, `${o.kind} ${o.metadata.name} namespace`);
  });

  it('the namespace enforces the restricted Pod Security Standard', () => {
    const labels = find(objects, 'Namespace', NAMESPACE).metadata.labels;
    assert.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted');
  });

  it('every pod meets the restricted profile and has requests and limits', () => {
    assert.ok(deployments.length > 0);
    for (const d of deployments) {
      const name = d.metadata.name;
      const pod = d.spec.template.spec;
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${name} runAsNonRoot`);
      assert.equal(pod.securityContext?.runAsUser, 65532, `${name} runAsUser`);
      assert.equal(pod.securityContext?.runAsGroup, 65532, `${name} runAsGroup`);
      assert.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${name} seccomp`);
      assert.equal(pod.automountServiceAccountToken, false, `${name} mounts no API token`);
      for (const key of ['hostNetwork', 'hostPID', 'hostIPC']) assert.ok(!pod[key], `${name} ${key}`);
      for (const v of pod.volumes ?? [])
        assert.ok(
          ['configMap', 'secret', 'emptyDir', 'projected', 'downwardAPI'].some((t) => t in v),
          `${name} volume ${v.name} is of a type the restricted profile allows`,
        );
      for (const c of containersOf(d)) {
        const where = `${name}/${c.name}`;
        const sc = c.securityContext ?? {};
        assert.equal(sc.allowPrivilegeEscalation, false, `${where} allowPrivilegeEscalation`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${where} readOnlyRootFilesystem`);
        assert.ok(!sc.privileged, `${where} privileged`);
        assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where} drops all capabilities`);
        assert.ok(!sc.capabilities?.add?.length, `${where} adds no capability`);
        assert.ok(sc.runAsUser === undefined || sc.runAsUser !== 0, `${where} not root`);
        for (const p of c.ports ?? []) assert.ok(!p.hostPort, `${where} hostPort`);
        for (const kind of ['requests', 'limits'])
          for (const res of ['cpu', 'memory'])
            assert.ok(c.resources?.[kind]?.[res], `${where} resources.${kind}.${res}`);
        assert.match(c.image, /^tlsecho-(server|client):/, `${where} image`);
        assert.equal(c.imagePullPolicy, 'IfNotPresent', `${where}: images come from k3d image import`);
      }
    }
  });

  it('servers listen on 8443/8080 with one worker and probe the plain-HTTP health endpoints', () => {
    const servers = deployments.filter((d) =>
      d.spec.template.spec.containers[0].image.startsWith('tlsecho-server'),
    );
    assert.deepEqual(servers.map((d) => d.metadata.name).sort(), ['echo-server', 'ponger']);
    for (const d of servers) {
      const c = d.spec.template.spec.containers[0];
      const port = (p: number | string) =>
        c.ports.find((x: K8sObject) => x.name === p || x.containerPort === p);
      assert.equal(port('https')?.containerPort, 8443);
      assert.equal(port('http')?.containerPort, 8080);
      assert.equal(argValue(c.args, 'https-port'), '8443');
      assert.equal(argValue(c.args, 'http-port'), '8080');
      assert.equal(argValue(c.args, 'workers'), '1', `${d.metadata.name}: replicas scale, not workers`);
      for (const [probe, path] of [
        ['readinessProbe', '/readyz'],
        ['livenessProbe', '/healthz'],
      ] as const) {
        const get = c[probe]?.httpGet;
        assert.equal(get?.path, path, `${d.metadata.name} ${probe} path`);
        assert.equal(get.scheme ?? 'HTTP', 'HTTP');
        assert.equal(port(get.port)?.containerPort, 8080, `${d.metadata.name} ${probe} on the HTTP port`);
      }
    }
  });

  it('servers stop within terminationGracePeriodSeconds', () => {
    for (const d of deployments.filter((x) =>
      x.spec.template.spec.containers[0].image.startsWith('tlsecho-server'),
    )) {
      const pod = d.spec.template.spec;
      const c = pod.containers[0];
      const shutdown = parseDuration(argValue(c.args, 'shutdown-timeout') ?? '');
      assert.ok(shutdown, `${d.metadata.name} sets --shutdown-timeout`);
      const delay = parseDuration(argValue(c.args, 'shutdown-delay') ?? '0') ?? 0;
      const preStop = (c.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
      const needed = preStop + delay + shutdown;
      assert.ok(
        pod.terminationGracePeriodSeconds * 1000 > needed,
        `${d.metadata.name}: grace ${pod.terminationGracePeriodSeconds}s must exceed preStop + delay + timeout (${needed} ms)`,
      );
    }
  });

  it('Services select the pods and target their container ports', () => {
    for (const s of ofKind(objects, 'Service')) {
      const targets = deployments.filter((d) =>
        selects({ matchLabels: s.spec.selector }, d.spec.template.metadata.labels),
      );
      assert.equal(targets.length, 1, `Service ${s.metadata.name} selects exactly one Deployment`);
      const c = targets[0]!.spec.template.spec.containers[0];
      for (const p of s.spec.ports) {
        assert.equal(p.port, 443, `Service ${s.metadata.name} on 443`);
        const cp = c.ports.find(
          (x: K8sObject) => x.name === p.targetPort || x.containerPort === p.targetPort,
        );
        assert.equal(cp?.containerPort, 8443, `Service ${s.metadata.name} targets the TLS port`);
      }
    }
    for (const n of ['server1', 'server2', 'server3'])
      assert.equal(find(objects, 'Service', n).spec.selector['app.kubernetes.io/name'], 'echo-server');
    assert.equal(find(objects, 'Service', 'ponger').spec.selector['app.kubernetes.io/name'], 'ponger');
  });

  it('Deployment selectors match their own pod labels', () => {
    for (const d of deployments)
      assert.ok(selects(d.spec.selector, d.spec.template.metadata.labels), `${d.metadata.name} selector`);
  });

  it('ponger runs 2 replicas spread one per node, with a PodDisruptionBudget', () => {
    const ponger = find(objects, 'Deployment', 'ponger');
    assert.equal(ponger.spec.replicas, 2);
    const labels = ponger.spec.template.metadata.labels;
    const spread = ponger.spec.template.spec.topologySpreadConstraints ?? [];
    assert.ok(
      spread.some(
        (t: K8sObject) =>
          t.topologyKey === 'kubernetes.io/hostname' &&
          t.maxSkew === 1 &&
          t.whenUnsatisfiable === 'DoNotSchedule' &&
          selects(t.labelSelector, labels),
      ),
      'a hard one-per-node spread over the ponger pods',
    );
    const pdb = find(objects, 'PodDisruptionBudget', 'ponger');
    assert.ok(selects(pdb.spec.selector, labels), 'the PDB selects the ponger pods');
    assert.ok(
      pdb.spec.minAvailable >= 1 && pdb.spec.minAvailable < ponger.spec.replicas,
      'a drain can proceed',
    );
  });

  it('TLS Secrets are mounted as whole folders, read-only, never with subPath', () => {
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      for (const c of containersOf(d))
        for (const m of c.volumeMounts ?? []) {
          assert.equal(m.subPath, undefined, `${d.metadata.name} ${m.name}: subPath mounts never update`);
          assert.equal(m.subPathExpr, undefined);
          assert.equal(m.readOnly, true, `${d.metadata.name} ${m.name} read-only`);
        }
      for (const v of pod.volumes ?? [])
        if (v.secret) assert.equal(v.secret.defaultMode, 0o440, `${d.metadata.name} ${v.name} mode 0440`);
    }
  });

  it('clients mount the root certificate only, and servers the Secret their args name', () => {
    const secrets = new Map(ofKind(objects, 'Secret').map((s) => [s.metadata.name, s]));
    for (const d of deployments) {
      const pod = d.spec.template.spec;
      const c = pod.containers[0];
      const isServer = c.image.startsWith('tlsecho-server');
      for (const v of pod.volumes ?? []) {
        const mount = c.volumeMounts.find((m: K8sObject) => m.name === v.name);
        if (v.secret) {
          assert.ok(isServer, `${d.metadata.name} (a client) mounts no Secret`);
          const s = secrets.get(v.secret.secretName);
          assert.equal(s?.type, 'kubernetes.io/tls', `${v.secret.secretName} is a kubernetes.io/tls Secret`);
          for (const [flag, key] of [
            ['cert-file', 'tls.crt'],
            ['key-file', 'tls.key'],
            ['ca-file', 'ca.crt'],
          ])
            assert.equal(
              argValue(c.args, flag!),
              `${mount.mountPath}/${key}`,
              `${d.metadata.name} --${flag}`,
            );
        }
        if (v.configMap) {
          const cm = find(objects, 'ConfigMap', v.configMap.name);
          assert.deepEqual(Object.keys(cm.data), ['ca.crt']);
          assert.doesNotMatch(cm.data['ca.crt'], /PRIVATE KEY/);
          if (!isServer) assert.equal(argValue(c.args, 'ca-file'), `${mount.mountPath}/ca.crt`);
        }
      }
    }
  });

  it('every flag in a container args is one the tlsecho command accepts', async () => {
    const help: Record<string, string> = {};
    for (const cmd of ['server', 'client']) help[cmd] = (await runCli([cmd, '--help'])).stdout;
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0];
      const cmd = c.image.startsWith('tlsecho-server') ? 'server' : 'client';
      for (const a of c.args as string[]) {
        const flag = a.split('=')[0]!;
        assert.match(
          help[cmd]!,
          new RegExp(`(^|\\s)${flag}(\\s|=|,|$)`, 'm'),
          `${d.metadata.name}: 'tlsecho ${cmd} --help' lists ${flag}`,
        );
      }
    }
  });
});
