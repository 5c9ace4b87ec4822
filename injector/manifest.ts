// Offline injection (`tracebridge-injector inject`), like `istioctl kube-inject`: the same
// decision and mutation as the webhook, applied to Pods and to the pod templates of
// workloads in a multi-document YAML manifest.
//
// The output goes to kubectl, which reads YAML 1.1 (yaml-kubectl.ts): the manifest is read the
// same way (0400 is 256, `<<` merges apply), so the decision sees the pod kubectl would create.
// The output is the input text with edits: documents that are not injected are copied byte for
// byte (comments, `---` and `...` markers, empty documents, line endings); in an injected one the
// mutation's JSON Patch is applied to the parsed nodes (yaml-edit.ts) and only the new and
// replaced nodes are printed into the text (yaml-splice.ts). Before anything is printed the
// output is read back as kubectl would read it and must equal the objects intended: if it does
// not, inject fails rather than print a manifest that means something else.
import { isDeepStrictEqual } from 'node:util';
import type { Document } from 'yaml';
import { describeWiring } from './app-env.ts';
import { decide, describeDecision, modeAllows, servicePortHints, type DecisionPolicy, type ServicePortHint } from './decision.ts';
import type { SidecarSettings } from './config.ts';
import type { ModeChoice } from './mode.ts';
import { describeBridge } from './header-bridge.ts';
import { diff } from './json-patch.ts';
import { meshEntries } from './mesh-wiring.ts';
import { injectSidecar, type PodStep } from './mutation.ts';
import { isRecord, stringMap, type NamespaceInfo, type Pod } from './pod.ts';
import { telemetryAllows, type MeshWiringEnabled } from './reach.ts';
import { applyPatch, patchProblem } from './yaml-edit.ts';
import { documentValue, parseManifest } from './yaml-kubectl.ts';
import { applyTextEdits, detectStyle, spliceDocument, takeSnapshot, type Snapshot, type Style, type TextEdit } from './yaml-splice.ts';

export interface ManifestOptions {
  policy: DecisionPolicy;
  settings: SidecarSettings;
  mode: ModeChoice;
  version: string;
  /** Namespace of objects that name none (kubectl's current namespace). */
  defaultNamespace: string;
  steps?(ns: NamespaceInfo): readonly PodStep[];
  /** Which mesh wirings the config enables (a wired mesh proxy sends spans to the sidecar); default both. */
  meshes?: MeshWiringEnabled;
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

/** An object of the stream: a document's value, or an item of a `List` (pointer tokens from the document). */
interface Located {
  obj: unknown;
  base: string[];
}

export function injectManifest(text: string, opts: ManifestOptions): ManifestResult {
  const docs = parseManifest(text);
  const values = docs.map(documentValue);
  const namespaces = new Map<string, Obj>();
  for (const v of values) collectNamespaces(v, namespaces);
  // Services of the same manifest: their targetPorts are ports the pods they select bind.
  const services = servicePortHints(values, opts.defaultNamespace);

  const reports: string[] = [];
  const edits: TextEdit[] = [];
  const intended = structuredClone(values);
  const injectedLabels: string[][] = docs.map(() => []);
  const style = styleOf(docs, text);
  docs.forEach((doc, i) => {
    let snapshot: Snapshot | undefined;
    for (const { obj, base } of located(values[i], [])) {
      const outcome = injectObject(obj, namespaces, services, opts);
      if (outcome === undefined) continue;
      if (outcome.injected === undefined) {
        reports.push(outcome.report);
        continue;
      }
      const target = { doc, base, ops: diff(obj, outcome.injected) };
      const problem = patchProblem(target);
      if (problem !== undefined) {
        reports.push(`${outcome.label}: unchanged (yaml: ${problem})`);
        continue;
      }
      snapshot ??= takeSnapshot(doc);
      const notes = applyPatch(target);
      reports.push(notes.length > 0 ? `${outcome.report}; yaml: ${notes.join(', ')}` : outcome.report);
      intended[i] = setAt(intended[i], base, outcome.injected);
      injectedLabels[i]!.push(outcome.label);
    }
    if (snapshot !== undefined) edits.push(...spliceDocument(text, doc, snapshot, style(i)));
  });
  if (edits.length === 0) return { output: text, reports };
  const output = applyTextEdits(text, edits);
  assertReadsBack(output, intended, (i) => injectedLabels[i]?.join(', ') ?? '');
  return { output, reports };
}

/**
 * Reads `output` as kubectl would and checks that it holds exactly `intended`, one value per
 * document; throws naming the document and the first difference otherwise.
 */
export function assertReadsBack(output: string, intended: readonly unknown[], describeDoc: (index: number) => string = () => ''): void {
  let values: unknown[];
  try {
    values = parseManifest(output).map(documentValue);
  } catch (err) {
    throw new Error(`inject: the manifest written would not parse (${(err as Error).message}); nothing printed`, { cause: err });
  }
  if (values.length !== intended.length) {
    throw new Error(`inject: the manifest written would hold ${values.length} documents instead of ${intended.length}; nothing printed`);
  }
  values.forEach((got, i) => {
    const where = firstDifference(intended[i], got, '');
    if (where === undefined) return;
    const objects = describeDoc(i);
    throw new Error(
      `inject: document ${i + 1}${objects === '' ? '' : ` (${objects})`} as written would read back differently at ${where || 'its root'}; ` +
        'nothing printed (this is a bug in tracebridge-injector: please report it with the manifest)',
    );
  });
}

function firstDifference(want: unknown, got: unknown, path: string): string | undefined {
  if (isDeepStrictEqual(want, got)) return undefined;
  if (Array.isArray(want) && Array.isArray(got) && want.length === got.length) {
    for (let i = 0; i < want.length; i++) {
      const d = firstDifference(want[i], got[i], `${path}/${i}`);
      if (d !== undefined) return d;
    }
  } else if (isRecord(want) && isRecord(got)) {
    for (const k of new Set([...Object.keys(want), ...Object.keys(got)])) {
      const d = firstDifference(want[k], got[k], `${path}/${k}`);
      if (d !== undefined) return d;
    }
  }
  return `${path || '/'}: ${JSON.stringify(got)} instead of ${JSON.stringify(want)}`;
}

/** A document's indentation habits; what it does not show is taken from the whole stream. */
function styleOf(docs: readonly Document[], text: string): (index: number) => Style {
  let stream: Style | undefined;
  return (index) => {
    const style = detectStyle(docs[index]!, text);
    if (style.indent !== undefined && style.indentSeq !== undefined && style.flowPadding !== undefined) return style;
    if (stream === undefined) {
      stream = {};
      for (const d of docs) {
        const other = detectStyle(d, text);
        stream.indent ??= other.indent;
        stream.indentSeq ??= other.indentSeq;
        stream.flowPadding ??= other.flowPadding;
      }
    }
    return { indent: style.indent ?? stream.indent, indentSeq: style.indentSeq ?? stream.indentSeq, flowPadding: style.flowPadding ?? stream.flowPadding };
  };
}

function located(v: unknown, base: string[]): Located[] {
  if (isRecord(v) && v.kind === 'List' && Array.isArray(v.items)) return v.items.flatMap((item, k) => located(item, [...base, 'items', String(k)]));
  return [{ obj: v, base }];
}

function setAt(root: unknown, base: readonly string[], value: unknown): unknown {
  if (base.length === 0) return value;
  let cur = root as Record<string, unknown>;
  for (const t of base.slice(0, -1)) cur = cur[t] as Record<string, unknown>;
  cur[base.at(-1)!] = value;
  return root;
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

interface Outcome {
  label: string;
  report: string;
  /** The whole object with the sidecar injected; undefined when it is left as it is. */
  injected?: Obj;
}

/** What the injection does to one object; undefined for objects that hold no pod. */
function injectObject(obj: unknown, namespaces: Map<string, Obj>, services: readonly ServicePortHint[], opts: ManifestOptions): Outcome | undefined {
  if (!isRecord(obj) || typeof obj.kind !== 'string') return undefined;
  const meta = isRecord(obj.metadata) ? obj.metadata : {};
  const nsName = typeof meta.namespace === 'string' && meta.namespace !== '' ? meta.namespace : opts.defaultNamespace;
  const label = `${obj.kind.toLowerCase()}/${typeof meta.name === 'string' ? meta.name : typeof meta.generateName === 'string' ? `${meta.generateName}*` : '(unnamed)'} (${nsName})`;

  let pod: Pod;
  const path = TEMPLATE_PATH[obj.kind];
  if (obj.kind === 'Pod') {
    pod = obj;
  } else {
    if (path === undefined) return undefined;
    const template = descend(obj, path.parent)?.[path.key];
    if (!isRecord(template)) return { label, report: `${label}: unchanged (no pod template)` };
    // A template carries no kind and often no name: the decision sees it as the Pod it will become.
    pod = { apiVersion: 'v1', kind: 'Pod', metadata: isRecord(template.metadata) ? template.metadata : {}, spec: template.spec as Pod['spec'] };
  }

  const ns = namespaceInfo(nsName, namespaces);
  const decided = decide(pod, ns, opts.policy, { services });
  const decision =
    (decided.inject ? (modeAllows(pod, opts.mode) ?? telemetryAllows(pod, ns, decided, opts.settings, opts.meshes ?? { istio: true, linkerd: true })) : undefined) ?? decided;
  if (!decision.inject) return { label, report: `${label}: unchanged (${describeDecision(decision)})` };
  const { pod: injectedPod, status } = injectSidecar(pod, { settings: opts.settings, mode: opts.mode, decision, version: opts.version, namespace: ns }, opts.steps?.(ns) ?? []);
  const mesh = meshEntries(status).map(([name, e]) => `; ${name} wiring ${e.result}: ${e.detail}`);
  const bridge = status.headerBridge !== undefined ? `; ${describeBridge(status.headerBridge)}` : '';
  const apps = Object.keys(status.appEnv).length > 0 ? `; apps: ${describeWiring(status.appEnv)}` : '';
  const report = `${label}: injected (${describeDecision(decision)}); ${opts.mode.mode} sidecar (${opts.mode.reason})${apps}${mesh.join('')}${bridge}`;
  if (path === undefined) return { label, report, injected: injectedPod };
  const injected = structuredClone(obj);
  const template = descend(injected, path.parent)![path.key] as Obj;
  template.metadata = injectedPod.metadata;
  template.spec = injectedPod.spec;
  return { label, report, injected };
}

function descend(obj: Obj, path: readonly string[]): Obj | undefined {
  let cur: unknown = obj;
  for (const key of path) {
    if (!isRecord(cur)) return undefined;
    cur = cur[key];
  }
  return isRecord(cur) ? cur : undefined;
}
