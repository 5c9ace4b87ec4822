// Offline injection (`tracebridge-injector inject`), like `istioctl kube-inject`: the same
// decision and mutation as the webhook, applied to Pods and to the pod templates of
// workloads in a multi-document YAML manifest. Objects that are not workloads, and workloads
// not injected, are printed as they came (comments kept).
import { Document, parseAllDocuments } from 'yaml';
import { decide, describeDecision, type DecisionPolicy } from './decision.ts';
import type { SidecarSettings } from './config.ts';
import type { ModeChoice } from './mode.ts';
import { describeBridge } from './header-bridge.ts';
import { meshEntries } from './mesh-wiring.ts';
import { injectSidecar, type PodStep } from './mutation.ts';
import { isRecord, stringMap, type NamespaceInfo, type Pod } from './pod.ts';

export interface ManifestOptions {
  policy: DecisionPolicy;
  settings: SidecarSettings;
  mode: ModeChoice;
  version: string;
  /** Namespace of objects that name none (kubectl's current namespace). */
  defaultNamespace: string;
  steps?(ns: NamespaceInfo): readonly PodStep[];
}

export interface ManifestResult {
  output: string;
  /** One line per workload or Pod: what was decided and why. */
  reports: string[];
}

type Obj = Record<string, unknown>;

/** Where the pod template sits in each workload kind. */
const TEMPLATE_PATH: Record<string, { parent: readonly string[]; key: string }> = {
  Deployment: { parent: ['spec'], key: 'template' },
  StatefulSet: { parent: ['spec'], key: 'template' },
  DaemonSet: { parent: ['spec'], key: 'template' },
  ReplicaSet: { parent: ['spec'], key: 'template' },
  ReplicationController: { parent: ['spec'], key: 'template' },
  Job: { parent: ['spec'], key: 'template' },
  CronJob: { parent: ['spec', 'jobTemplate', 'spec'], key: 'template' },
  PodTemplate: { parent: [], key: 'template' },
};

export function injectManifest(text: string, opts: ManifestOptions): ManifestResult {
  const docs = parseAllDocuments(text, { uniqueKeys: true });
  if (!Array.isArray(docs)) return { output: '', reports: [] };
  const errors = docs.flatMap((d, i) => d.errors.map((e) => `document ${i + 1}: ${e.message.split('\n')[0]}`));
  if (errors.length > 0) throw new Error(`cannot parse the manifest:\n  ${errors.join('\n  ')}`);

  const values = docs.map((d) => d.toJS({ maxAliasCount: 100 }) as unknown);
  const namespaces = new Map<string, Obj>();
  for (const v of values) collectNamespaces(v, namespaces);

  const reports: string[] = [];
  const parts: string[] = [];
  docs.forEach((doc, i) => {
    const value = values[i];
    if (value === null || value === undefined) return;
    const changed = processObject(value, namespaces, opts, reports);
    // lineWidth 0: the status annotation is JSON and reads better unfolded (and a second run
    // over this output then prints it byte for byte).
    const out = changed ? new Document(value).toString({ lineWidth: 0 }) : doc.toString({ directives: false, lineWidth: 0 });
    parts.push(out.endsWith('\n') ? out : `${out}\n`);
  });
  return { output: parts.join('---\n'), reports };
}

function collectNamespaces(v: unknown, into: Map<string, Obj>): void {
  if (!isRecord(v)) return;
  if (v.kind === 'List' && Array.isArray(v.items)) v.items.forEach((item) => collectNamespaces(item, into));
  if (v.kind === 'Namespace' && isRecord(v.metadata) && typeof v.metadata.name === 'string') into.set(v.metadata.name, v.metadata);
}

function namespaceInfo(name: string, namespaces: Map<string, Obj>): NamespaceInfo {
  const meta = namespaces.get(name);
  if (meta === undefined) return { known: false, name, why: `offline: namespace ${name} is not in the manifest` };
  return { known: true, name, labels: stringMap(meta.labels), annotations: stringMap(meta.annotations) };
}

/** Injects into `obj` in place; true when it changed. */
function processObject(obj: unknown, namespaces: Map<string, Obj>, opts: ManifestOptions, reports: string[]): boolean {
  if (!isRecord(obj) || typeof obj.kind !== 'string') return false;
  if (obj.kind === 'List' && Array.isArray(obj.items)) {
    let changed = false;
    for (const item of obj.items) changed = processObject(item, namespaces, opts, reports) || changed;
    return changed;
  }
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const nsName = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : opts.defaultNamespace;
  const label = `${obj.kind.toLowerCase()}/${typeof meta.name === 'string' ? meta.name : typeof meta.generateName === 'string' ? `${meta.generateName}*` : '(unnamed)'} (${nsName})`;

  let holder: Obj | undefined;
  let pod: Pod;
  if (obj.kind === 'Pod') {
    pod = obj;
  } else {
    const path = TEMPLATE_PATH[obj.kind];
    if (path === undefined) return false;
    holder = descend(obj, path.parent);
    const template = holder?.[path.key];
    if (holder === undefined || !isRecord(template)) {
      reports.push(`${label}: unchanged (no pod template)`);
      return false;
    }
    // A template carries no kind and often no name: the decision sees it as the Pod it will become.
    pod = { apiVersion: 'v1', kind: 'Pod', metadata: isRecord(template.metadata) ? template.metadata : {}, spec: template.spec as Pod['spec'] };
  }

  const ns = namespaceInfo(nsName, namespaces);
  const decision = decide(pod, ns, opts.policy);
  if (!decision.inject) {
    reports.push(`${label}: unchanged (${describeDecision(decision)})`);
    return false;
  }
  const { pod: injected, status } = injectSidecar(pod, { settings: opts.settings, mode: opts.mode, decision, version: opts.version }, opts.steps?.(ns) ?? []);
  const mesh = meshEntries(status).map(([name, e]) => `; ${name} wiring ${e.result}: ${e.detail}`);
  const bridge = status.headerBridge !== undefined ? `; ${describeBridge(status.headerBridge)}` : '';
  reports.push(`${label}: injected (${describeDecision(decision)}); ${opts.mode.mode} sidecar (${opts.mode.reason})${mesh.join('')}${bridge}`);
  if (holder === undefined) {
    for (const key of Object.keys(obj)) delete obj[key];
    Object.assign(obj, injected);
  } else {
    const template = holder[TEMPLATE_PATH[obj.kind]!.key] as Obj;
    template.metadata = injected.metadata;
    template.spec = injected.spec;
  }
  return true;
}

function descend(obj: Obj, path: readonly string[]): Obj | undefined {
  let cur: unknown = obj;
  for (const key of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[key];
  }
  return isRecord(cur) ? cur : undefined;
}
