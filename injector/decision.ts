// Whether a pod gets the sidecar, and why. A pure function of the pod,
// its namespace's metadata (or why that is unknown) and the policy, so every rule is a row in
// a table test. The reason code is low-cardinality (a metric label); the message is for humans.
import * as keys from './annotations.ts';
import type { InjectorConfig } from './config.ts';
import { controlPlanePod, meshDisabledNamespace } from './control-plane.ts';
import { allContainers, appContainers, envList, isRecord, stringMap, type Container, type NamespaceInfo, type Pod } from './pod.ts';
import { headerBridgeRequest } from './header-bridge.ts';
import type { ModeChoice } from './mode.ts';
import { portConflict, type ServicePortHint } from './port-conflict.ts';
import { sidecarPortList } from './sidecar-ports.ts';

export { servicePortHints, type ServicePortHint } from './port-conflict.ts';

export type ReasonCode =
  | 'not-a-pod'
  | 'not-create'
  | 'already-injected'
  | 'opt-out'
  | 'namespace-skipped'
  | 'injector-pod'
  | 'mesh-control-plane'
  | 'host-network'
  | 'windows'
  | 'port-conflict'
  | 'opt-in-pod'
  | 'opt-out-namespace'
  | 'opt-in-namespace'
  | 'auto-disabled'
  | 'auto-otel-env'
  | 'auto-xray-env'
  | 'auto-otel-operator'
  | 'auto-istio'
  | 'auto-linkerd'
  | 'no-span-signal'
  | 'run-to-completion-classic'
  | 'nothing-reaches';

export interface Decision {
  inject: boolean;
  reason: ReasonCode;
  message: string;
  /** Set when namespace metadata was not available and the pod alone decided: why. */
  namespaceUnknown?: string;
}

/** One line for people: the reason, and the namespace caveat when there is one. */
export function describeDecision(d: Decision): string {
  const caveat = d.namespaceUnknown === undefined ? '' : `; namespace metadata unknown (${d.namespaceUnknown}), decided on the pod alone`;
  return `${d.reason}: ${d.message}${caveat}`;
}

export interface DecisionPolicy {
  auto: boolean;
  skipNamespaces: readonly string[];
  injectorLabels: Readonly<Record<string, string>>;
  containerName: string;
  ports: InjectorConfig['sidecar']['ports'];
}

export function decisionPolicy(cfg: InjectorConfig): DecisionPolicy {
  return {
    auto: cfg.policy.auto,
    skipNamespaces: cfg.policy.skip_namespaces,
    injectorLabels: cfg.policy.injector_labels,
    containerName: cfg.sidecar.container_name,
    ports: cfg.sidecar.ports,
  };
}

/** What the caller knows beyond the pod and its namespace. */
export interface DecisionHints {
  /**
   * Ports of Services from the same manifest (offline `inject`: servicePortHints over its
   * objects); those that select the pod count as ports something in it binds. The webhook has none.
   */
  services?: readonly ServicePortHint[];
}

export function decide(pod: unknown, ns: NamespaceInfo, policy: DecisionPolicy, hints: DecisionHints = {}): Decision {
  if (!isPod(pod)) return no('not-a-pod', 'not a Pod');
  const labels = stringMap(pod.metadata?.labels);
  const annotations = stringMap(pod.metadata?.annotations);
  const podOpt = annotations[keys.INJECT] ?? labels[keys.INJECT];

  const sidecar = allContainers(pod).find((c) => c.name === policy.containerName);
  if (sidecar !== undefined || annotations[keys.STATUS] !== undefined) {
    return no('already-injected', `the pod already carries the ${policy.containerName} sidecar`);
  }
  if (podOpt === 'false') return no('opt-out', `${keys.INJECT}: "false" on the pod`);
  if (policy.skipNamespaces.includes(ns.name)) return no('namespace-skipped', `namespace ${ns.name} is in policy.skip_namespaces`);
  const selector = Object.entries(policy.injectorLabels);
  if (selector.length > 0 && selector.every(([k, v]) => labels[k] === v)) {
    return no('injector-pod', "the injector's own pod (policy.injector_labels)");
  }
  const nsOpt = ns.known ? (ns.labels[keys.INJECT] ?? ns.annotations[keys.INJECT]) : undefined;
  if (podOpt !== 'true') {
    const controlPlane = controlPlanePod(pod, labels) ?? (nsOpt === 'true' ? undefined : meshDisabledNamespace(ns, annotations));
    if (controlPlane !== undefined) return no('mesh-control-plane', controlPlane);
  }
  if (pod.spec?.hostNetwork === true) return no('host-network', 'hostNetwork: the sidecar ports would collide on the node');
  if (isWindows(pod)) return no('windows', 'Windows pod: the sidecar image is Linux only');
  const services = (hints.services ?? []).filter((s) => s.namespace === ns.name);
  const conflict = portConflict(pod, sidecarPortList(policy.ports, { headerBridge: headerBridgeRequest(pod).on }), services);
  if (conflict !== undefined) return no('port-conflict', conflict);

  const unknown = ns.known ? undefined : ns.why;
  const decided = (d: Decision): Decision => (unknown === undefined ? d : { ...d, namespaceUnknown: unknown });
  if (podOpt === 'true') return decided(yes('opt-in-pod', `${keys.INJECT}: "true" on the pod`));
  if (ns.known) {
    if (nsOpt === 'false') return no('opt-out-namespace', `${keys.INJECT}: "false" on namespace ${ns.name}`);
    if (nsOpt === 'true') return yes('opt-in-namespace', `${keys.INJECT}: "true" on namespace ${ns.name}`);
  }
  if (!policy.auto) return decided(no('auto-disabled', `no ${keys.INJECT} opt-in and policy.auto is false`));
  const signal = spanSignal(pod, labels, annotations, ns);
  if (signal !== undefined) return decided(yes(signal.reason, signal.message));
  return decided(no('no-span-signal', 'no sign that the pod produces spans'));
}

// restartPolicy of pods that run to completion: Jobs' and CronJobs' pods (the API requires one of
// these there) and bare Pods run once.
const RUN_TO_COMPLETION = ['Never', 'OnFailure'];

/**
 * The sidecar mode's veto, checked once the mode is known (the mode is chosen outside decide()):
 * a run-to-completion pod gets the sidecar only as a native sidecar, which the kubelet stops when
 * the pod's containers have finished. A classic sidecar never exits by itself, so the pod, and
 * the Job, would never complete. Undefined: the mode is fine for this pod.
 */
export function modeAllows(pod: Pod, mode: ModeChoice): Decision | undefined {
  const restart = pod.spec?.restartPolicy;
  if (mode.mode !== 'classic' || typeof restart !== 'string' || !RUN_TO_COMPLETION.includes(restart)) return undefined;
  return no(
    'run-to-completion-classic',
    `restartPolicy: ${restart}: a classic sidecar would keep the Job from completing (it never exits by itself), and the sidecar would be classic here (${mode.reason}); a native sidecar needs Kubernetes >= 1.29`,
  );
}

function yes(reason: ReasonCode, message: string): Decision {
  return { inject: true, reason, message };
}

function no(reason: ReasonCode, message: string): Decision {
  return { inject: false, reason, message };
}

function isPod(value: unknown): value is Pod {
  if (!isRecord(value)) return false;
  if (value.kind !== undefined && value.kind !== 'Pod') return false;
  return isRecord(value.spec) && Array.isArray(value.spec.containers);
}

// Both node labels: kubernetes.io/os, and beta.kubernetes.io/os that older manifests and Helm
// charts still select on (the kubelet sets both).
const OS_LABELS = ['kubernetes.io/os', 'beta.kubernetes.io/os'];

function isWindows(pod: Pod): boolean {
  if (pod.spec?.os?.name === 'windows') return true;
  const selector = stringMap(pod.spec?.nodeSelector);
  if (OS_LABELS.some((k) => selector[k] === 'windows')) return true;
  // Required node affinity that admits only Windows nodes: every term has an expression that does.
  const terms = (pod.spec?.affinity as { nodeAffinity?: { requiredDuringSchedulingIgnoredDuringExecution?: { nodeSelectorTerms?: unknown } } } | undefined)
    ?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!Array.isArray(terms) || terms.length === 0) return false;
  return terms.every((t) => {
    const exprs = isRecord(t) && Array.isArray(t.matchExpressions) ? (t.matchExpressions as unknown[]) : [];
    return exprs.some(
      (e) =>
        isRecord(e) &&
        typeof e.key === 'string' &&
        OS_LABELS.includes(e.key) &&
        e.operator === 'In' &&
        Array.isArray(e.values) &&
        e.values.length > 0 &&
        e.values.every((v) => v === 'windows'),
    );
  });
}

const OTEL_ENDPOINT_VARS = ['OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'];

function spanSignal(
  pod: Pod,
  labels: Record<string, string>,
  annotations: Record<string, string>,
  ns: NamespaceInfo,
): { reason: ReasonCode; message: string } | undefined {
  for (const c of appContainers(pod)) {
    for (const e of envList(c)) {
      if (OTEL_ENDPOINT_VARS.includes(e.name)) return { reason: 'auto-otel-env', message: `container "${c.name}" sets ${e.name}` };
      // A value from a Secret or ConfigMap cannot be read here: its presence is the signal.
      if (e.name === 'OTEL_TRACES_EXPORTER' && (typeof e.value !== 'string' || e.value.trim() !== 'none')) {
        return { reason: 'auto-otel-env', message: `container "${c.name}" sets OTEL_TRACES_EXPORTER` };
      }
      if (e.name === 'AWS_XRAY_DAEMON_ADDRESS') return { reason: 'auto-xray-env', message: `container "${c.name}" sets AWS_XRAY_DAEMON_ADDRESS` };
    }
  }
  const operator = (m: Record<string, string>) =>
    Object.entries(m).find(([k, v]) => k.startsWith(keys.OTEL_OPERATOR_INJECT_PREFIX) && v !== 'false');
  const podOperator = operator(annotations);
  if (podOperator !== undefined) return { reason: 'auto-otel-operator', message: `OpenTelemetry Operator annotation ${podOperator[0]}` };
  if (ns.known) {
    const nsOperator = operator(ns.annotations);
    if (nsOperator !== undefined) {
      return { reason: 'auto-otel-operator', message: `OpenTelemetry Operator annotation ${nsOperator[0]} on namespace ${ns.name}` };
    }
  }
  const istio = istioMeshed(pod, labels, annotations, ns);
  if (istio !== undefined) return { reason: 'auto-istio', message: istio };
  const linkerd = linkerdMeshed(pod, annotations, ns);
  if (linkerd !== undefined) return { reason: 'auto-linkerd', message: linkerd };
  return undefined;
}

// Istio's gateway deployments (the istio/gateway Helm chart, Istio's docs) carry a container named
// istio-proxy with `image: auto`: a placeholder that Istio's injector fills in from the template
// named by this annotation. It is no injected proxy: the mesh has not run yet.
const ISTIO_TEMPLATES = 'inject.istio.io/templates';

/** An istio-proxy container that Istio's injector has yet to fill in (gateway injection template). */
export function isIstioTemplatePlaceholder(c: Container): boolean {
  return c.name === keys.ISTIO_PROXY_CONTAINER && c.image === 'auto';
}

/** Why the pod is (or will be) in an Istio sidecar mesh, or undefined. */
export function istioMeshed(pod: Pod, labels: Record<string, string>, annotations: Record<string, string>, ns: NamespaceInfo): string | undefined {
  const proxy = allContainers(pod).find((c) => c.name === keys.ISTIO_PROXY_CONTAINER);
  const podInject = labels[keys.ISTIO_INJECT] ?? annotations[keys.ISTIO_INJECT];
  if (proxy !== undefined && !isIstioTemplatePlaceholder(proxy)) return 'the pod already holds istio-proxy';
  if (podInject === 'false') return undefined;
  if (proxy !== undefined) {
    const template = annotations[ISTIO_TEMPLATES];
    return `Istio gateway: istio-proxy (image: auto) is filled in by Istio's injector${template !== undefined ? ` from ${ISTIO_TEMPLATES}: ${template}` : ''}`;
  }
  if (podInject === 'true') return `label ${keys.ISTIO_INJECT}: "true"`;
  if (labels[keys.ISTIO_REV] !== undefined) return `label ${keys.ISTIO_REV} on the pod`;
  if (!ns.known) return undefined;
  if (ns.labels[keys.ISTIO_NAMESPACE_INJECTION] === 'enabled') return `namespace ${ns.name} has ${keys.ISTIO_NAMESPACE_INJECTION}=enabled`;
  if (ns.labels[keys.ISTIO_NAMESPACE_INJECTION] === undefined && ns.labels[keys.ISTIO_REV] !== undefined) {
    return `namespace ${ns.name} has ${keys.ISTIO_REV}=${ns.labels[keys.ISTIO_REV]}`;
  }
  return undefined;
}

/** Why the pod is (or will be) in the Linkerd mesh, or undefined. */
export function linkerdMeshed(pod: Pod, annotations: Record<string, string>, ns: NamespaceInfo): string | undefined {
  if (allContainers(pod).some((c) => c.name === keys.LINKERD_PROXY_CONTAINER)) return 'the pod already holds linkerd-proxy';
  const podInject = annotations[keys.LINKERD_INJECT];
  if (podInject === 'disabled') return undefined;
  if (podInject === 'enabled' || podInject === 'ingress') return `annotation ${keys.LINKERD_INJECT}: ${podInject}`;
  if (!ns.known) return undefined;
  const nsInject = ns.annotations[keys.LINKERD_INJECT] ?? ns.labels[keys.LINKERD_INJECT];
  if (nsInject === 'enabled' || nsInject === 'ingress') return `namespace ${ns.name} has ${keys.LINKERD_INJECT}: ${nsInject}`;
  return undefined;
}
