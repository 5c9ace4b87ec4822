// A sidecar from which nothing would receive telemetry only costs the pod memory and start-up
// time. After the decision says "inject" on an automatic signal, this checks that something in
// the pod will send to the sidecar: a mesh proxy the injector wires (Istio's Envoy, Linkerd's
// proxy), or an app container whose telemetry reaches it after the takeover (app-env.ts). An
// explicit `tracebridge.io/inject: "true"` (pod or namespace) is the operator's call: injected
// whatever, and the status says which containers do not reach the sidecar.
import { describeWiring, takeOverTelemetry } from './app-env.ts';
import type { SidecarSettings } from './config.ts';
import { istioMeshed, linkerdMeshed, type Decision } from './decision.ts';
import { stringMap, type NamespaceInfo, type Pod } from './pod.ts';

export interface MeshWiringEnabled {
  istio: boolean;
  linkerd: boolean;
}

/** A "do not inject" decision when nothing in the pod would send to the sidecar, else undefined. */
export function telemetryAllows(pod: Pod, ns: NamespaceInfo, decision: Decision, settings: SidecarSettings, meshes: MeshWiringEnabled): Decision | undefined {
  if (!decision.inject || decision.reason === 'opt-in-pod' || decision.reason === 'opt-in-namespace') return undefined;
  const labels = stringMap(pod.metadata?.labels);
  const annotations = stringMap(pod.metadata?.annotations);
  if (meshes.istio && istioMeshed(pod, labels, annotations, ns) !== undefined) return undefined;
  if (meshes.linkerd && linkerdMeshed(pod, annotations, ns) !== undefined) return undefined;
  const takeover = takeOverTelemetry(structuredClone(pod), settings);
  // Only containers known to send elsewhere count against it (`unknown`: envFrom may point them here).
  if (Object.values(takeover.containers).some((w) => w.reaches !== false)) return undefined;
  return {
    inject: false,
    reason: 'nothing-reaches',
    message: `${decision.message}, but no app container's telemetry would reach the sidecar and no mesh proxy sends to it (${describeWiring(takeover.containers)}); tracebridge.io/inject: "true" injects it anyway`,
    ...(decision.namespaceUnknown !== undefined ? { namespaceUnknown: decision.namespaceUnknown } : {}),
  };
}
