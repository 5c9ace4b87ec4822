// Mesh wiring as a pod step of the injection (runs on the copy, before the status is written):
// decides per mesh whether to wire, wires through istio-wiring.ts / linkerd-wiring.ts, and
// records in the status what was applied, what was not and why, plus what the container order
// means for shutdown.
//
// Late injection: the mesh injectors read these annotations when they inject. A pod that already
// holds the mesh proxy when tracebridge sees it was injected by the mesh first (webhook order):
// its proxy configuration is fixed, so nothing is wired and the status says so.
import * as keys from './annotations.ts';
import type { InjectorConfig } from './config.ts';
import { isIstioTemplatePlaceholder, istioMeshed, linkerdMeshed } from './decision.ts';
import type { WiringResult } from './annotation-merge.ts';
import { wireIstio } from './istio-wiring.ts';
import { operatorTraceCollector, wireLinkerd } from './linkerd-wiring.ts';
import type { InjectionStatus, PodStep } from './mutation.ts';
import { initContainers, appContainers, isRecord, stringMap, type Container, type NamespaceInfo, type Pod } from './pod.ts';

export type MeshName = 'istio' | 'linkerd';
export type MeshResult = 'applied' | 'partial' | 'skipped_late' | 'disabled';

export interface MeshEntry {
  result: MeshResult;
  detail: string;
}

export interface MeshStatus {
  istio?: MeshEntry;
  linkerd?: MeshEntry;
  /** What the container order means for the sidecar's last export. */
  shutdown: string;
}

const PROXY: Record<MeshName, string> = { istio: keys.ISTIO_PROXY_CONTAINER, linkerd: keys.LINKERD_PROXY_CONTAINER };

interface ProxyPlace {
  mesh: MeshName;
  name: string;
  native: boolean;
  index: number;
}

/**
 * Mesh proxies already injected. An istio-proxy with `image: auto` is an Istio gateway's template
 * placeholder that Istio's injector has yet to fill in: not a late injection.
 */
function proxiesIn(pod: Pod): ProxyPlace[] {
  const out: ProxyPlace[] = [];
  initContainers(pod).forEach((c, index) => {
    for (const mesh of ['istio', 'linkerd'] as const) {
      if (c.name === PROXY[mesh] && c.restartPolicy === 'Always') out.push({ mesh, name: c.name, native: true, index });
    }
  });
  for (const c of appContainers(pod)) {
    if (isIstioTemplatePlaceholder(c)) continue;
    for (const mesh of ['istio', 'linkerd'] as const) if (c.name === PROXY[mesh]) out.push({ mesh, name: c.name, native: false, index: -1 });
  }
  return out;
}

export function meshWiringStep(cfg: InjectorConfig, ns: NamespaceInfo): PodStep {
  return (pod: Pod, status: InjectionStatus) => {
    const meta = (pod.metadata ??= {});
    const labels = stringMap(meta.labels);
    const annotations = { ...stringMap(meta.annotations) };
    const present = proxiesIn(pod);
    const mesh: Omit<MeshStatus, 'shutdown'> = {};
    const ports = cfg.sidecar.ports;
    const external = [ports.health, ports.metrics];

    const decideMesh = (name: MeshName, enabled: boolean, why: string | undefined, podOptOut: boolean, wire: () => WiringResult) => {
      const proxy = present.find((p) => p.mesh === name);
      if (proxy !== undefined) {
        mesh[name] = {
          result: 'skipped_late',
          detail: `${proxy.name} was already in the pod: the mesh injector ran before tracebridge, so its proxy configuration is fixed and the wiring was not applied (name the webhook configuration to sort before the mesh's)`,
        };
        return;
      }
      // Annotations are inert in a pod the mesh does not inject, so when the namespace cannot be
      // read they are written anyway: the namespace may enable the mesh.
      const reason = why ?? (!ns.known && !podOptOut ? `namespace metadata unknown (${ns.why}): wired in case the namespace enables it` : undefined);
      if (reason === undefined) return;
      if (!enabled) {
        mesh[name] = { result: 'disabled', detail: `${reason}; mesh.${name}.enabled is false` };
        return;
      }
      const r = wire();
      mesh[name] = { result: r.result, detail: `${reason}: ${r.detail.join('; ')}` };
    };

    decideMesh('istio', cfg.mesh.istio.enabled, istioMeshed(pod, labels, annotations, ns), (labels[keys.ISTIO_INJECT] ?? annotations[keys.ISTIO_INJECT]) === 'false', () =>
      wireIstio(annotations, cfg.mesh.istio, { zipkin: ports.zipkin, excluded: external }),
    );
    decideMesh('linkerd', cfg.mesh.linkerd.enabled, linkerdMeshed(pod, annotations, ns), annotations[keys.LINKERD_INJECT] === 'disabled', () =>
      wireLinkerd(annotations, { otlpGrpc: ports.otlp_grpc, skipped: external }, operatorTraceCollector(annotations, ns.known ? ns.annotations : {}, ns.name)),
    );
    if (mesh.istio !== undefined || mesh.linkerd !== undefined) meta.annotations = annotations;
    const full: MeshStatus = { ...mesh, shutdown: shutdownNote(pod, cfg.sidecar.container_name, present, mesh) };
    status.mesh = full;
  };
}

/**
 * What the order of containers means for the sidecar's final flush. Native sidecars start in
 * initContainers order, after the init containers before them, and stop in reverse order once
 * every regular container has exited; regular containers all stop together.
 */
export function shutdownNote(pod: Pod, sidecarName: string, present: readonly ProxyPlace[], mesh: Omit<MeshStatus, 'shutdown'>): string {
  const own = initContainers(pod).findIndex((c: Container) => c.name === sidecarName && c.restartPolicy === 'Always');
  const native = own >= 0;
  // Istio's gateway template captures no traffic: the gateway's Envoy is the workload itself.
  if (appContainers(pod).some(isIstioTemplatePlaceholder)) {
    return `Istio gateway: istio-proxy is the workload itself and no traffic is redirected in a gateway pod, so tracebridge exports directly; tracebridge stops ${native ? 'after the gateway' : 'with the gateway'}`;
  }
  const proxy = present[0];
  if (proxy !== undefined) {
    if (native && proxy.native) {
      return proxy.index < own
        ? `${proxy.name} (native) starts before tracebridge and stops after it: the final flush is routed`
        : `${proxy.name} (native) stops before tracebridge: the final flush may fail`;
    }
    if (native) {
      return `${proxy.name} is a classic container: it stops with the app, before tracebridge, so exports after that point fail; use the mesh's native sidecar mode (Istio sidecar.istio.io/nativeSidecar or ENABLE_NATIVE_SIDECARS, Linkerd config.alpha.linkerd.io/proxy-enable-native-sidecar)`;
    }
    return `tracebridge and ${proxy.name} stop together: the final flush must finish within the proxy's drain (Istio terminationDrainDuration, default 5s)`;
  }
  const expected = mesh.istio !== undefined || mesh.linkerd !== undefined;
  if (native) {
    return expected
      ? 'tracebridge stops after the app; a native mesh proxy is injected before it (stops after it, flush routed), a classic one stops with the app, before tracebridge (see injector/README.md "Shutdown order")'
      : 'tracebridge stops after the app';
  }
  return expected
    ? "tracebridge stops with the app and the mesh proxy: the final flush must finish within the proxy's drain (see injector/README.md \"Shutdown order\")"
    : 'tracebridge stops with the app';
}

/** Mesh entries of a status, for metrics and logs. */
export function meshEntries(status: { mesh?: unknown }): [MeshName, MeshEntry][] {
  if (!isRecord(status.mesh)) return [];
  const m = status.mesh as Partial<MeshStatus>;
  return (['istio', 'linkerd'] as const).flatMap((name) => (m[name] !== undefined ? [[name, m[name]] as [MeshName, MeshEntry]] : []));
}
