// The k3d cluster file and the make targets of the Kubernetes workflow.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { ROOT, skipUnlessTools } from './render.js';

describe('k3d cluster and make targets', () => {
  it('the k3d config asks for 1 server and 2 agents without traefik and servicelb', () => {
    const k3d = parse(readFileSync(join(ROOT, 'deploy/k8s/k3d.yaml'), 'utf8'));
    assert.equal(k3d.apiVersion, 'k3d.io/v1alpha5');
    assert.equal(k3d.kind, 'Simple');
    assert.equal(k3d.metadata.name, 'tlsecho');
    assert.equal(k3d.servers, 1);
    assert.equal(k3d.agents, 2);
    assert.match(k3d.image, /^rancher\/k3s:v1\.\d+\.\d+-k3s\d+$/, 'a pinned k3s version');
    const args = k3d.options.k3s.extraArgs as { arg: string; nodeFilters: string[] }[];
    for (const component of ['traefik', 'servicelb']) {
      const a = args.find((x) => x.arg === `--disable=${component}`);
      assert.ok(a, `--disable=${component}`);
      assert.ok(
        a.nodeFilters.every((f) => f.startsWith('server:')),
        `${component} disabled on the servers`,
      );
    }
  });

  it('k8s.mk has every target of the workflow, each with a ## description for make help', () => {
    const mk = readFileSync(join(ROOT, 'deploy/k8s/k8s.mk'), 'utf8');
    const described = new Set([...mk.matchAll(/^([a-z0-9-]+):[^=\n]*## \S/gm)].map((m) => m[1]));
    for (const t of [
      'cluster-create',
      'cluster-delete',
      'k8s-images',
      'k8s-secrets',
      'k8s-deploy',
      'k8s-logs',
      'k8s-port-forward',
      'k8s-delete',
    ])
      assert.ok(described.has(t), `target ${t} with a ## description`);
  });

  it(
    'the targets address the k3d context and the images of TAG and REGISTRY',
    { skip: skipUnlessTools() },
    () => {
      const vars = ['TAG=0.1.0', 'REGISTRY=registry.example/team/'];
      const make = (...args: string[]) =>
        execFileSync('make', ['-s', '-C', ROOT, '-f', 'deploy/k8s/k8s.mk', ...args, ...vars], {
          encoding: 'utf8',
        });
      const dry = make('-n', 'k8s-port-forward', 'k8s-images', 'k8s-logs', 'k8s-delete');
      assert.match(dry, /port-forward --address 127\.0\.0\.1 svc\/ponger 8443:443/);
      assert.match(
        dry,
        /k3d image import --cluster tlsecho registry\.example\/team\/tlsecho-server:0\.1\.0 registry\.example\/team\/tlsecho-client:0\.1\.0/,
      );
      for (const line of dry.split('\n').filter((l) => /^kubectl /.test(l)))
        assert.match(line, /^kubectl --context k3d-tlsecho /, 'never the current context by accident');
      // What k8s-deploy applies (the cert-manager overlay needs no generated files).
      const rendered = make('k8s-render', 'K8S_OVERLAY=deploy/k8s/overlays/cert-manager');
      const images = [...rendered.matchAll(/image: (\S+)/g)].map((m) => m[1]);
      assert.equal(images.length, 4);
      for (const image of images)
        assert.match(image!, /^registry\.example\/team\/tlsecho-(server|client):0\.1\.0$/);
    },
  );
});
