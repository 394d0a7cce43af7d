// Renders the Kubernetes manifests the way a user deploys them, but into a temporary copy of
// deploy/k8s: the real `make k8s-secrets` target issues the certificates with `tlsecho ca`, then
// `kubectl kustomize` builds the overlay. Nothing is written into the work tree.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as apps from 'kubernetes-models/apps/v1';
import * as core from 'kubernetes-models/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import { parseAllDocuments } from 'yaml';
import { tempDir } from '../helpers/pki.js';
import { skipUnless } from '../helpers/requirements.js';

/** The model class of each core kind the manifests may contain; anything else fails validation. */
export const CORE_MODELS: Record<string, Record<string, unknown>> = {
  v1: core,
  'apps/v1': apps,
  'networking.k8s.io/v1': networking,
  'policy/v1': policy,
};

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const NAMESPACE = 'tlsecho';

/** One rendered Kubernetes object, loosely typed: the tests check its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type K8sObject = Record<string, any>;

export interface Rendered {
  dir: string;
  /** The temporary copy of deploy/k8s. */
  k8sDir: string;
  /** Where `make k8s-secrets` put the `tlsecho ca` output (minica layout). */
  certsDir: string;
  cleanup: () => void;
}

/** Why the k8s tests cannot run here, or undefined when kubectl (with kustomize) and make exist. */
export function missingTools(): string | undefined {
  for (const [tool, args] of [
    ['kubectl', ['kustomize', '--help']],
    ['make', ['--version']],
  ] as const) {
    const r = spawnSync(tool, args, { stdio: 'ignore' });
    if (r.error || r.status !== 0) return `${tool} is not installed (needed to render the manifests)`;
  }
  return undefined;
}

/** The `skip` option for a suite: a reason when tools are missing, unless they are required. */
export function skipUnlessTools(): string | false {
  return skipUnless('KUBECTL', missingTools());
}

/** Copies deploy/k8s (without any generated secrets) and runs `make k8s-secrets` into the copy. */
export function prepare(): Rendered {
  const tmp = tempDir('tlsecho-k8s-');
  const k8sDir = join(tmp.dir, 'k8s');
  cpSync(join(ROOT, 'deploy/k8s'), k8sDir, {
    recursive: true,
    filter: (src) => !/[/\\]secrets([/\\]|$)/.test(src.slice(ROOT.length)),
  });
  const certsDir = join(tmp.dir, 'certs');
  try {
    makeSecrets(k8sDir, certsDir);
  } catch (err) {
    tmp.cleanup();
    throw err;
  }
  return { dir: tmp.dir, k8sDir, certsDir, cleanup: tmp.cleanup };
}

/** The real make target, pointed at the temporary copy; `rotate` runs the script with --force. */
export function makeSecrets(k8sDir: string, certsDir: string, rotate = false): string {
  const secrets = join(k8sDir, 'overlays/tlsecho-ca/secrets');
  const env = { ...process.env, K8S_CERTS: certsDir, K8S_SECRETS: secrets };
  if (rotate)
    return execFileSync('sh', [join(ROOT, 'deploy/k8s/secrets.sh'), '--force'], { env, encoding: 'utf8' });
  return execFileSync(
    'make',
    [
      '-s',
      '-C',
      ROOT,
      '-f',
      'deploy/k8s/k8s.mk',
      'k8s-secrets',
      `K8S_CERTS=${certsDir}`,
      `K8S_SECRETS=${secrets}`,
    ],
    { encoding: 'utf8' },
  );
}

/** `kubectl kustomize <dir>`, parsed into objects (a YAML error fails the test). */
export function kustomize(dir: string): K8sObject[] {
  const out = execFileSync('kubectl', ['kustomize', dir], { encoding: 'utf8', maxBuffer: 16 << 20 });
  return parseAllDocuments(out).map((doc) => {
    if (doc.errors.length) throw new Error(`kubectl kustomize ${dir}: ${doc.errors[0]!.message}`);
    const o = doc.toJS() as K8sObject;
    // kustomize wraps Secret data at 70 columns; the API server's base64 decoding skips newlines.
    if (o.kind === 'Secret' && o.data)
      for (const k of Object.keys(o.data)) o.data[k] = String(o.data[k]).replace(/\s+/g, '');
    return o;
  });
}

export function find(objects: K8sObject[], kind: string, name: string): K8sObject {
  const o = objects.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in the rendered manifests`);
  return o;
}

export function ofKind(objects: K8sObject[], kind: string): K8sObject[] {
  return objects.filter((o) => o.kind === kind);
}

/** The value of `--name=value` (or `--name value`) in a container's args. */
export function argValue(args: string[], name: string): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a.startsWith(`--${name}=`)) return a.slice(name.length + 3);
    if (a === `--${name}`) return args[i + 1];
  }
  return undefined;
}

type Models = Record<string, Record<string, unknown>>;

/** Constructs the object with its kubernetes-models class (by apiVersion and kind) and validates it. */
export function validateWithModel(o: K8sObject, models: Models): void {
  const Model = models[o.apiVersion]?.[o.kind] as (new (data: K8sObject) => { validate(): void }) | undefined;
  assert.ok(Model, `no schema for ${o.apiVersion} ${o.kind} (${o.metadata?.name})`);
  try {
    new Model(o).validate();
  } catch (err) {
    assert.fail(`${o.kind} ${o.metadata?.name} is not valid: ${(err as Error).message}`);
  }
}
