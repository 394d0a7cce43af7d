// The rendered NetworkPolicies, evaluated: default deny, then exactly pinger -> ponger and
// echo-client -> echo-server on the TLS port, DNS to kube-dns, and metrics from a labelled namespace.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  find,
  kustomize,
  NAMESPACE,
  ofKind,
  prepare,
  skipUnlessTools,
  type K8sObject,
  type Rendered,
} from './render.js';
import { allows, externalPod, podOf, selects, type Pod } from './policy.js';

describe('network policies', { skip: skipUnlessTools() }, () => {
  let r: Rendered;
  let objects: K8sObject[];
  let policies: K8sObject[];
  let pods: Record<string, Pod>;
  before(() => {
    r = prepare();
    objects = kustomize(join(r.k8sDir, 'overlays/tlsecho-ca'));
    policies = ofKind(objects, 'NetworkPolicy');
    const nsLabels = {
      'kubernetes.io/metadata.name': NAMESPACE,
      ...find(objects, 'Namespace', NAMESPACE).metadata.labels,
    };
    pods = Object.fromEntries(
      ofKind(objects, 'Deployment').map((d) => [d.metadata.name, podOf(d, nsLabels)]),
    );
  });
  after(() => r?.cleanup());

  const coreDns = () =>
    externalPod('kube-system', { 'k8s-app': 'kube-dns' }, {}, [
      { name: 'dns', containerPort: 53, protocol: 'UDP' },
      { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
    ]);

  it('denies all ingress and egress by default', () => {
    const deny = policies.find(
      (p) =>
        Object.keys(p.spec.podSelector).length === 0 &&
        !p.spec.ingress &&
        !p.spec.egress &&
        ['Ingress', 'Egress'].every((t) => p.spec.policyTypes.includes(t)),
    );
    assert.ok(deny, 'a policy selecting every pod with no rule in either direction');
    const outsider = externalPod('default', { app: 'curl' });
    assert.equal(allows([], outsider, pods.ponger!, 8443), true, 'without policies everything is open');
    for (const [name, pod] of Object.entries(pods)) {
      for (const port of [8443, 8080])
        assert.equal(allows(policies, outsider, pod, port), false, `outsider -> ${name}:${port}`);
      assert.equal(allows(policies, pod, outsider, 443), false, `${name} -> the internet`);
    }
  });

  it('allows pinger -> ponger and echo-client -> echo-server on the TLS port only', () => {
    const p = pods;
    assert.equal(allows(policies, p.pinger!, p.ponger!, 8443), true, 'pinger -> ponger:8443');
    assert.equal(
      allows(policies, p['echo-client']!, p['echo-server']!, 8443),
      true,
      'echo-client -> echo-server:8443',
    );
    assert.equal(allows(policies, p.pinger!, p.ponger!, 8080), false, 'pinger -> ponger:8080');
    assert.equal(
      allows(policies, p['echo-client']!, p['echo-server']!, 8080),
      false,
      'echo-client -> /root_ca',
    );
    assert.equal(allows(policies, p.pinger!, p['echo-server']!, 8443), false, 'pinger -> echo-server');
    assert.equal(allows(policies, p['echo-client']!, p.ponger!, 8443), false, 'echo-client -> ponger');
    assert.equal(allows(policies, p.ponger!, p.pinger!, 8443), false, 'ponger -> pinger');
  });

  it('every pod may resolve names through kube-dns over UDP and TCP 53, and nowhere else', () => {
    for (const [name, pod] of Object.entries(pods)) {
      assert.equal(allows(policies, pod, coreDns(), 53, 'UDP'), true, `${name} -> kube-dns udp/53`);
      assert.equal(allows(policies, pod, coreDns(), 53, 'TCP'), true, `${name} -> kube-dns tcp/53`);
      const elsewhere = externalPod('default', { 'k8s-app': 'kube-dns' });
      assert.equal(allows(policies, pod, elsewhere, 53, 'UDP'), false, `${name} -> a fake kube-dns`);
    }
  });

  it('a scraper in a labelled monitoring namespace reaches /metrics on 8080 of the servers', () => {
    const labelled = externalPod('monitoring', { app: 'prometheus' }, { 'tlsecho/metrics-scraper': 'true' });
    const unlabelled = externalPod('monitoring', { app: 'prometheus' });
    for (const name of ['ponger', 'echo-server']) {
      // The scraper's own namespace must let it out; only the tlsecho side is ours to check.
      assert.equal(allows(policies, labelled, pods[name]!, 8080), true, `scraper -> ${name}:8080`);
      assert.equal(allows(policies, unlabelled, pods[name]!, 8080), false, `unlabelled -> ${name}:8080`);
      assert.equal(allows(policies, labelled, pods[name]!, 8443), false, `scraper -> ${name}:8443`);
    }
  });

  it('every policy port is a port the selected or addressed pods declare', () => {
    const deployments = ofKind(objects, 'Deployment');
    const portsOf = (selector: K8sObject) =>
      deployments
        .filter((d) => selects(selector, d.spec.template.metadata.labels))
        .flatMap((d) => d.spec.template.spec.containers.flatMap((c: K8sObject) => c.ports ?? []));
    for (const p of policies) {
      if (Object.keys(p.spec.podSelector).length === 0) continue; // namespace-wide (deny, DNS)
      for (const rule of p.spec.ingress ?? []) {
        const declared = portsOf(p.spec.podSelector);
        for (const port of rule.ports ?? [])
          assert.ok(
            declared.some((c: K8sObject) => c.containerPort === port.port || c.name === port.port),
            `${p.metadata.name}: ingress port ${port.port} is a container port of the pods it selects`,
          );
      }
      for (const rule of p.spec.egress ?? [])
        for (const peer of rule.to ?? []) {
          if (peer.namespaceSelector) continue;
          const declared = portsOf(peer.podSelector);
          assert.ok(declared.length > 0, `${p.metadata.name}: egress peer selects a tlsecho pod`);
          for (const port of rule.ports ?? [])
            assert.ok(
              declared.some((c: K8sObject) => c.containerPort === port.port || c.name === port.port),
              `${p.metadata.name}: egress port ${port.port} is a container port of the peer`,
            );
        }
    }
  });
});
