// The TLS material: `make k8s-secrets` issues it with `tlsecho ca` into git-ignored files, the
// rendered Secrets carry certificates for exactly the names the clients call, the clients get the
// root and never a key, and nothing of it is tracked by git.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serverNames } from '../../src/config/shared.js';
import {
  argValue,
  find,
  kustomize,
  makeSecrets,
  NAMESPACE,
  ofKind,
  prepare,
  ROOT,
  skipUnlessTools,
  type K8sObject,
  type Rendered,
} from './render.js';
import { selects } from './policy.js';

const decode = (b64: string) => Buffer.from(b64, 'base64').toString('utf8');

/** The names a client Deployment calls: --names, else server{1,2,3}.<--domain>. */
function calledNames(d: K8sObject): string[] {
  const args = d.spec.template.spec.containers[0].args as string[];
  const names = argValue(args, 'names');
  if (names) return names.split(',');
  const domain = argValue(args, 'domain');
  assert.ok(domain, `${d.metadata.name} sets --names or --domain`);
  return serverNames(domain);
}

/** The Service a name reaches through the pod's DNS search path, or undefined. */
function serviceFor(objects: K8sObject[], name: string): K8sObject | undefined {
  const [svc, ns = NAMESPACE, ...rest] = name.split('.');
  const suffix = rest.join('.');
  if (ns !== NAMESPACE || !['', 'svc', 'svc.cluster.local'].includes(suffix)) return undefined;
  return ofKind(objects, 'Service').find((s) => s.metadata.name === svc);
}

describe('kubernetes TLS secrets', { skip: skipUnlessTools() }, () => {
  let r: Rendered;
  let objects: K8sObject[];
  before(() => {
    r = prepare();
    objects = kustomize(join(r.k8sDir, 'overlays/tlsecho-ca'));
  });
  after(() => r?.cleanup());

  it('make k8s-secrets lays out the kustomize inputs with private keys mode 0600', () => {
    const secrets = join(r.k8sDir, 'overlays/tlsecho-ca/secrets');
    for (const dir of ['ponger', 'echo-server']) {
      assert.equal(statSync(join(secrets, dir, 'tls.key')).mode & 0o777, 0o600, `${dir}/tls.key`);
      assert.doesNotThrow(() => createPrivateKey(readFileSync(join(secrets, dir, 'tls.key'))));
    }
    assert.equal(
      readFileSync(join(secrets, 'ca.crt'), 'utf8'),
      readFileSync(join(r.certsDir, 'minica.pem'), 'utf8'),
    );
  });

  it('each server Secret is kubernetes.io/tls with a certificate for every name its clients call', () => {
    const clients = ofKind(objects, 'Deployment').filter((d) =>
      d.spec.template.spec.containers[0].image.startsWith('tlsecho-client'),
    );
    assert.deepEqual(clients.map((d) => d.metadata.name).sort(), ['echo-client', 'pinger']);
    let checked = 0;
    for (const client of clients)
      for (const name of calledNames(client)) {
        const svc = serviceFor(objects, name);
        assert.ok(svc, `${client.metadata.name} calls ${name}: a Service in ${NAMESPACE} answers to it`);
        const server = ofKind(objects, 'Deployment').find((d) =>
          selects({ matchLabels: svc.spec.selector }, d.spec.template.metadata.labels),
        );
        assert.ok(server, `Service ${svc.metadata.name} has pods`);
        const volume = server.spec.template.spec.volumes.find((v: K8sObject) => v.secret);
        const secret = find(objects, 'Secret', volume.secret.secretName);
        assert.equal(secret.type, 'kubernetes.io/tls');
        assert.deepEqual(Object.keys(secret.data).sort(), ['ca.crt', 'tls.crt', 'tls.key']);
        const cert = new X509Certificate(decode(secret.data['tls.crt']));
        const root = new X509Certificate(decode(secret.data['ca.crt']));
        assert.equal(cert.checkHost(name), name, `${secret.metadata.name} covers ${name}`);
        assert.ok(cert.verify(root.publicKey), `${secret.metadata.name} is signed by the root in ca.crt`);
        assert.ok(root.ca, 'ca.crt is a CA certificate');
        assert.ok(cert.checkPrivateKey(createPrivateKey(decode(secret.data['tls.key']))), 'key matches');
        // kubectl port-forward: https://localhost:8443/ and https://127.0.0.1:8443/
        assert.equal(cert.checkHost('localhost'), 'localhost');
        assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
        checked++;
      }
    assert.equal(checked, 4, 'ponger and server1..3');
  });

  it('each certificate covers only its own service', () => {
    const ponger = new X509Certificate(decode(find(objects, 'Secret', 'ponger-tls').data['tls.crt']));
    const echo = new X509Certificate(decode(find(objects, 'Secret', 'echo-server-tls').data['tls.crt']));
    assert.equal(ponger.checkHost(`server1.${NAMESPACE}.svc.cluster.local`), undefined);
    assert.equal(echo.checkHost(`ponger.${NAMESPACE}.svc`), undefined);
  });

  it('the clients get the root certificate and no key', () => {
    const secret = find(objects, 'Secret', 'ponger-tls');
    const clients = ofKind(objects, 'Deployment').filter(
      (d) => d.metadata.labels['app.kubernetes.io/component'] === 'client',
    );
    for (const d of clients)
      for (const v of d.spec.template.spec.volumes) {
        assert.equal(v.secret, undefined, `${d.metadata.name} mounts no Secret`);
        const cm = find(objects, 'ConfigMap', v.configMap.name);
        assert.equal(cm.data['ca.crt'], decode(secret.data['ca.crt']), 'the ConfigMap holds the root');
        for (const value of Object.values(cm.data) as string[]) assert.doesNotMatch(value, /PRIVATE KEY/);
      }
  });

  it('re-running keeps the certificates; --force rotates the leaves under the same root', () => {
    const leaf = () =>
      new X509Certificate(readFileSync(join(r.k8sDir, 'overlays/tlsecho-ca/secrets/ponger/tls.crt')));
    const before = leaf().serialNumber;
    const rootBefore = readFileSync(join(r.certsDir, 'minica.pem'), 'utf8');
    assert.match(makeSecrets(r.k8sDir, r.certsDir), /keeping/);
    assert.equal(leaf().serialNumber, before, 'a second run keeps the certificate');
    makeSecrets(r.k8sDir, r.certsDir, true);
    assert.notEqual(leaf().serialNumber, before, 'rotation issues a new certificate');
    assert.equal(readFileSync(join(r.certsDir, 'minica.pem'), 'utf8'), rootBefore, 'and keeps the root');
    const rotated = kustomize(join(r.k8sDir, 'overlays/tlsecho-ca'));
    assert.equal(
      find(rotated, 'Secret', 'ponger-tls').metadata.name,
      'ponger-tls',
      'the Secret keeps its name, so it is updated in place rather than rolling the pods',
    );
  });
});

describe('kubernetes secrets are not in git', () => {
  const git = (...args: string[]) => execFileSync('git', ['-C', ROOT, ...args], { encoding: 'utf8' });
  let isRepo = true;
  try {
    git('rev-parse', '--git-dir');
  } catch {
    isRepo = false;
  }

  it(
    'no tracked file under deploy/k8s is a key or certificate',
    { skip: !isRepo && 'not a git checkout' },
    () => {
      const files = git('ls-files', '-z', 'deploy/k8s').split('\0').filter(Boolean);
      for (const f of files) {
        assert.doesNotMatch(f, /(\.(key|crt|pem|p12)$|\/secrets\/)/, `${f} is generated material`);
        assert.doesNotMatch(
          readFileSync(join(ROOT, f), 'latin1'),
          /-----BEGIN [A-Z ]*(PRIVATE KEY|CERTIFICATE)-----/,
          f,
        );
      }
    },
  );

  it('the generated folders are git-ignored', { skip: !isRepo && 'not a git checkout' }, () => {
    for (const path of [
      'deploy/k8s/overlays/tlsecho-ca/secrets/ponger/tls.key',
      'deploy/k8s/overlays/tlsecho-ca/secrets/ca.crt',
      'certs/k8s/minica-key.pem',
      'artifacts/k8s/kustomization.yaml',
    ])
      assert.doesNotThrow(() => git('check-ignore', '-q', path), `${path} must be ignored`);
  });
});
