// The optional cert-manager overlay renders, validates against the Kubernetes and cert-manager
// schemas, chains self-signed Issuer -> CA Certificate -> CA Issuer -> server Certificates, and
// gives the clients the root (ca.crt) without any key.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as certManager from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { serverNames } from '../../src/config/shared.js';
import {
  argValue,
  find,
  kustomize,
  NAMESPACE,
  ofKind,
  skipUnlessTools,
  ROOT,
  type K8sObject,
  validateWithModel,
  CORE_MODELS,
} from './render.js';

const MODELS: Record<string, Record<string, unknown>> = { ...CORE_MODELS, 'cert-manager.io/v1': certManager };

describe('kubernetes cert-manager overlay', { skip: skipUnlessTools() }, () => {
  let objects: K8sObject[];
  // Needs no generated files: it renders straight from the work tree.
  before(() => (objects = kustomize(join(ROOT, 'deploy/k8s/overlays/cert-manager'))));

  it('validates against the schemas and needs no tlsecho ca material', () => {
    for (const o of objects) validateWithModel(o, MODELS);
    assert.equal(ofKind(objects, 'Secret').length, 0, 'cert-manager writes the Secrets');
    assert.equal(ofKind(objects, 'ConfigMap').length, 0);
    for (const o of objects.filter((x) => x.kind !== 'Namespace'))
      assert.equal(o.metadata.namespace, NAMESPACE);
  });

  it('chains self-signed issuer -> CA certificate -> CA issuer -> server certificates', () => {
    const caCert = ofKind(objects, 'Certificate').find((c) => c.spec.isCA);
    assert.ok(caCert, 'a CA Certificate');
    assert.ok(
      find(objects, 'Issuer', caCert.spec.issuerRef.name).spec.selfSigned,
      'signed by a self-signed Issuer',
    );
    const caIssuer = ofKind(objects, 'Issuer').find((i) => i.spec.ca?.secretName === caCert.spec.secretName);
    assert.ok(caIssuer, 'a CA Issuer over the CA Certificate');
    const leaves = ofKind(objects, 'Certificate').filter((c) => !c.spec.isCA);
    for (const c of leaves) {
      assert.equal(c.spec.issuerRef.name, caIssuer.metadata.name, `${c.metadata.name} issued by the CA`);
      assert.ok(c.spec.usages.includes('server auth'));
    }
    // The Secrets the servers mount are exactly the ones cert-manager writes.
    const mounted = ofKind(objects, 'Deployment').flatMap((d) =>
      d.spec.template.spec.volumes
        .filter((v: K8sObject) => v.secret && !v.secret.items)
        .map((v: K8sObject) => v.secret.secretName),
    );
    assert.deepEqual([...new Set(mounted)].sort(), leaves.map((c) => c.spec.secretName).sort());
  });

  it('the certificates name what the clients call, and the clients see only ca.crt', () => {
    const byName = (s: string) => ofKind(objects, 'Certificate').find((c) => c.spec.secretName === s)!;
    const pinger = find(objects, 'Deployment', 'pinger');
    const echoClient = find(objects, 'Deployment', 'echo-client');
    const echoDomain = argValue(echoClient.spec.template.spec.containers[0].args, 'domain')!;
    for (const [client, names] of [
      [pinger, argValue(pinger.spec.template.spec.containers[0].args, 'names')!.split(',')],
      [echoClient, serverNames(echoDomain)],
    ] as const) {
      const volumes = client.spec.template.spec.volumes;
      assert.equal(volumes.length, 1);
      assert.deepEqual(
        volumes[0].secret.items,
        [{ key: 'ca.crt', path: 'ca.crt' }],
        `${client.metadata.name} gets ca.crt only`,
      );
      const cert = byName(volumes[0].secret.secretName);
      assert.ok(
        cert && !cert.spec.isCA,
        `${client.metadata.name} trusts via a server Secret, never the CA's`,
      );
      for (const n of names) assert.ok(cert.spec.dnsNames.includes(n), `${cert.metadata.name} names ${n}`);
    }
  });
});
