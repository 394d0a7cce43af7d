// A small evaluator of the NetworkPolicy semantics the manifests use (matchLabels selectors,
// pod/namespace peers, numeric or named ports), so tests can ask "may A reach B on port P?" of
// the rendered policies rather than compare YAML text.
import type { K8sObject } from './render.js';

export type Labels = Record<string, string>;

export interface Pod {
  namespace: string;
  labels: Labels;
  namespaceLabels: Labels;
  /** containerPort by port name, and the set of numbers. */
  ports: { name?: string; containerPort: number; protocol?: string }[];
}

/** matchLabels only: a selector with matchExpressions is refused so nothing is silently ignored. */
export function selects(selector: K8sObject | undefined, labels: Labels): boolean {
  if (!selector) return false;
  if (selector.matchExpressions?.length) throw new Error('matchExpressions are not evaluated here');
  return Object.entries((selector.matchLabels ?? {}) as Labels).every(([k, v]) => labels[k] === v);
}

function peerMatches(peer: K8sObject, policyNs: string, other: Pod): boolean {
  if (peer.ipBlock) return false; // pod-to-pod flows only
  const nsOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, other.namespaceLabels)
    : other.namespace === policyNs;
  const podOk = peer.podSelector ? selects(peer.podSelector, other.labels) : true;
  return nsOk && podOk;
}

function portMatches(rulePorts: K8sObject[] | undefined, dest: Pod, port: number, protocol: string): boolean {
  if (!rulePorts?.length) return true;
  return rulePorts.some((p) => {
    if ((p.protocol ?? 'TCP') !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === 'number')
      return p.port === port || (p.endPort && port >= p.port && port <= p.endPort);
    return dest.ports.some((cp) => cp.name === p.port && cp.containerPort === port);
  });
}

/** Whether the policies let `from` open a connection to `to` on the pod port `port`. */
export function allows(policies: K8sObject[], from: Pod, to: Pod, port: number, protocol = 'TCP'): boolean {
  const direction = (subject: Pod, type: 'Ingress' | 'Egress', other: Pod, dest: Pod) => {
    const applying = policies.filter(
      (p) =>
        p.metadata.namespace === subject.namespace &&
        selects(p.spec.podSelector, subject.labels) &&
        (p.spec.policyTypes ?? ['Ingress']).includes(type),
    );
    if (applying.length === 0) return true; // not isolated in this direction
    const key = type === 'Ingress' ? 'ingress' : 'egress';
    const peers = type === 'Ingress' ? 'from' : 'to';
    return applying.some((p) =>
      ((p.spec[key] ?? []) as K8sObject[]).some(
        (rule) =>
          (!rule[peers] ||
            (rule[peers] as K8sObject[]).some((peer) => peerMatches(peer, p.metadata.namespace, other))) &&
          portMatches(rule.ports, dest, port, protocol),
      ),
    );
  };
  return direction(from, 'Egress', to, to) && direction(to, 'Ingress', from, to);
}

/** The pod a Deployment creates, as the evaluator sees it. */
export function podOf(deployment: K8sObject, namespaceLabels: Labels): Pod {
  const spec = deployment.spec.template.spec;
  return {
    namespace: deployment.metadata.namespace,
    labels: deployment.spec.template.metadata.labels,
    namespaceLabels,
    ports: (spec.containers as K8sObject[]).flatMap((c) => (c.ports ?? []) as Pod['ports']),
  };
}

/** A pod outside the namespace, e.g. CoreDNS or a Prometheus. */
export function externalPod(
  namespace: string,
  labels: Labels,
  extraNamespaceLabels: Labels = {},
  ports: Pod['ports'] = [],
): Pod {
  const namespaceLabels = { 'kubernetes.io/metadata.name': namespace, ...extraNamespaceLabels };
  return { namespace, labels, namespaceLabels, ports };
}
