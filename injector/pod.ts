// The slice of the Kubernetes Pod shape the injector reads and writes. Objects arrive from
// the API server or a user's manifest, so every field is optional here and readers check
// shapes instead of trusting them; unknown fields are carried through untouched.

export type StringMap = Record<string, string>;

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: unknown;
}

export interface ContainerPort {
  name?: string;
  containerPort: number;
  protocol?: string;
  hostPort?: number;
  [key: string]: unknown;
}

export interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: EnvVar[];
  envFrom?: unknown[];
  ports?: ContainerPort[];
  restartPolicy?: string;
  [key: string]: unknown;
}

export interface Volume {
  name: string;
  [key: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  labels?: StringMap;
  annotations?: StringMap;
  [key: string]: unknown;
}

export interface PodSpec {
  containers?: Container[];
  initContainers?: Container[];
  volumes?: Volume[];
  hostNetwork?: boolean;
  nodeSelector?: StringMap;
  os?: { name?: string };
  affinity?: unknown;
  [key: string]: unknown;
}

export interface Pod {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  spec?: PodSpec;
  [key: string]: unknown;
}

/** Namespace metadata, or why it is not known (API unreachable, offline, not configured). */
export type NamespaceInfo =
  | { known: true; name: string; labels: StringMap; annotations: StringMap }
  | { known: false; name: string; why: string };

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Labels or annotations as a string map, ignoring anything malformed. */
export function stringMap(value: unknown): StringMap {
  if (!isRecord(value)) return {};
  const out: StringMap = {};
  for (const [k, v] of Object.entries(value)) if (typeof v === 'string') out[k] = v;
  return out;
}

function containerList(value: unknown): Container[] {
  if (!Array.isArray(value)) return [];
  return value.filter((c): c is Container => isRecord(c) && typeof c.name === 'string');
}

export function appContainers(pod: Pod): Container[] {
  return containerList(pod.spec?.containers);
}

export function initContainers(pod: Pod): Container[] {
  return containerList(pod.spec?.initContainers);
}

export function allContainers(pod: Pod): Container[] {
  return [...initContainers(pod), ...appContainers(pod)];
}

export function envList(container: Container): EnvVar[] {
  if (!Array.isArray(container.env)) return [];
  return container.env.filter((e): e is EnvVar => isRecord(e) && typeof e.name === 'string');
}

export function portList(container: Container): ContainerPort[] {
  if (!Array.isArray(container.ports)) return [];
  return container.ports.filter((p): p is ContainerPort => isRecord(p) && typeof p.containerPort === 'number');
}

/** `name` for pods, else `generateName*`, else `(unnamed)`: for logs and reasons only. */
export function displayName(meta: ObjectMeta | undefined): string {
  if (typeof meta?.name === 'string' && meta.name !== '') return meta.name;
  if (typeof meta?.generateName === 'string' && meta.generateName !== '') return `${meta.generateName}*`;
  return '(unnamed)';
}
