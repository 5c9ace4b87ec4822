// Mesh control planes and the infrastructure kept out of a mesh are not injected by default.
// Their pods often carry what looks like a span signal (Linkerd's control plane holds
// linkerd-proxy, an istioctl-installed gateway is istio-proxy itself, istiod may export its own
// traces), but a sidecar there only adds a way for the mesh or for admission to fail.
//
// Two scopes, each overridden by an explicit tracebridge.io/inject: "true" at the same or a
// narrower scope:
// - the pod: labels the mesh installers put on control-plane pods, and cert-manager's images
//   (its webhook and cainjector issue the certificates admission depends on). Only the pod's own
//   opt-in overrides these: a namespace-wide opt-in is meant for the apps in it.
// - the namespace: one that opts out of a mesh as a whole (Linkerd's own namespace carries
//   linkerd.io/inject: disabled; infrastructure namespaces carry the same or
//   istio-injection=disabled). The pod's or the namespace's opt-in overrides it. A pod that opts
//   back into Linkerd (linkerd.io/inject: enabled overrides its namespace's disabled, in Linkerd)
//   is a meshed workload, not infrastructure; Istio has no such override (disabled wins there).
// A pod that opts out of a mesh by itself (sidecar.istio.io/inject: "false" on a Job, say) is not
// skipped: that keeps the mesh proxy away, not telemetry, and its own signals still decide.
import * as keys from './annotations.ts';
import { allContainers, type NamespaceInfo, type Pod } from './pod.ts';

/** Pod label (and value, when only one value counts) → what the pod is. */
const CONTROL_PLANE_LABELS: readonly (readonly [key: string, value: string | undefined, what: string])[] = [
  ['linkerd.io/control-plane-component', undefined, 'Linkerd control plane'],
  ['linkerd.io/extension', undefined, 'Linkerd extension'],
  ['app', 'istiod', 'Istio control plane'],
  ['istio', 'pilot', 'Istio control plane'],
  // istioctl and Istio's Helm charts label what they install (Pilot, IngressGateways, Cni, ...).
  ['operator.istio.io/component', undefined, 'Istio installation component'],
  ['app', 'ztunnel', 'Istio ambient node proxy'],
  ['k8s-app', 'istio-cni-node', 'Istio CNI node agent'],
];

// cert-manager's own images: install method and release name vary, the image names do not.
const CERT_MANAGER_IMAGES = /(?:^|\/)cert-manager-(?:controller|cainjector|webhook|startupapicheck|acmesolver)(?:[:@]|$)/;

const OPT_IN = `${keys.INJECT}: "true"`;
// On Linkerd's own namespace, next to linkerd.io/inject: disabled.
const LINKERD_CONTROL_PLANE_NS = 'linkerd.io/is-control-plane';

/** Why the pod itself is part of a mesh control plane or cert-manager, or undefined. */
export function controlPlanePod(pod: Pod, labels: Readonly<Record<string, string>>): string | undefined {
  for (const [key, value, what] of CONTROL_PLANE_LABELS) {
    const v = labels[key];
    if (v !== undefined && (value === undefined || v === value)) {
      return `${what} (label ${key}: ${v}): not injected unless the pod itself has ${OPT_IN}`;
    }
  }
  const cm = allContainers(pod).find((c) => typeof c.image === 'string' && CERT_MANAGER_IMAGES.test(c.image));
  if (cm !== undefined) return `cert-manager (container "${cm.name}" runs ${String(cm.image)}): not injected unless the pod itself has ${OPT_IN}`;
  return undefined;
}

/** Why the namespace keeps itself (and this pod) out of a mesh as a whole, or undefined. */
export function meshDisabledNamespace(ns: NamespaceInfo, podAnnotations: Readonly<Record<string, string>>): string | undefined {
  if (!ns.known) return undefined;
  const tail = `a namespace kept out of the mesh (a control plane or infrastructure) is not injected unless the pod or the namespace has ${OPT_IN}`;
  if (ns.labels[LINKERD_CONTROL_PLANE_NS] === 'true') return `namespace ${ns.name} has ${LINKERD_CONTROL_PLANE_NS}: "true": ${tail}`;
  const linkerd = ns.annotations[keys.LINKERD_INJECT] ?? ns.labels[keys.LINKERD_INJECT];
  const podLinkerd = podAnnotations[keys.LINKERD_INJECT];
  if (linkerd === 'disabled' && podLinkerd !== 'enabled' && podLinkerd !== 'ingress') return `namespace ${ns.name} has ${keys.LINKERD_INJECT}: disabled: ${tail}`;
  if (ns.labels[keys.ISTIO_NAMESPACE_INJECTION] === 'disabled') return `namespace ${ns.name} has ${keys.ISTIO_NAMESPACE_INJECTION}=disabled: ${tail}`;
  return undefined;
}
