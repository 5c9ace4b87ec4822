// Loads what mesh-configs/ ships: every YAML document, each Kubernetes object with the schema
// that validates it, and the configs embedded in ConfigMaps, so the tests read the files exactly
// as kubectl, Helm and the binaries would.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { Deployment } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { MutatingWebhookConfiguration, ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { Certificate, Issuer } from '@kubernetes-models/cert-manager/cert-manager.io/v1';
import { Telemetry } from '@kubernetes-models/istio/telemetry.istio.io/v1';
import { IstioOperator } from '@kubernetes-models/istio/install.istio.io/v1alpha1';
import { ROOT } from '../support/process.ts';

export { ROOT };
export const MESH_CONFIGS = join(ROOT, 'mesh-configs');

export type Obj = Record<string, unknown>;

export interface YamlDoc {
  /** Path relative to the repository root. */
  file: string;
  index: number;
  value: unknown;
}

/** Every file under `dir` whose name ends with one of `exts`, sorted, relative to ROOT. */
export function filesUnder(dir: string, exts: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (exts.some((e) => entry.name.endsWith(e))) out.push(relative(ROOT, p));
    }
  };
  walk(dir);
  return out.sort();
}

export function yamlFiles(): string[] {
  return filesUnder(MESH_CONFIGS, ['.yaml', '.yml']);
}

/** Parses a multi-document YAML file; throws with the file name on the first syntax error. */
export function parseYamlFile(file: string): YamlDoc[] {
  const docs = parseAllDocuments(readFileSync(join(ROOT, file), 'utf8'), { uniqueKeys: true });
  if (!Array.isArray(docs)) return [];
  const out: YamlDoc[] = [];
  docs.forEach((d, index) => {
    if (d.errors.length > 0) throw new Error(`${file} document ${index + 1}: ${d.errors[0]!.message}`);
    const value: unknown = d.toJS();
    if (value !== null && value !== undefined) out.push({ file, index, value });
  });
  return out;
}

export function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A Kubernetes object: has apiVersion and kind (Helm values and sidecar configs do not). */
export function isKubeObject(v: unknown): v is Obj & { apiVersion: string; kind: string; metadata: Obj } {
  return isObj(v) && typeof v.apiVersion === 'string' && typeof v.kind === 'string' && isObj(v.metadata);
}

export function kubeObjects(): (YamlDoc & { value: Obj & { apiVersion: string; kind: string; metadata: Obj } })[] {
  return yamlFiles()
    .flatMap(parseYamlFile)
    .filter((d): d is YamlDoc & { value: Obj & { apiVersion: string; kind: string; metadata: Obj } } => isKubeObject(d.value));
}

type Validator = (obj: Obj) => void;
const v =
  <T>(Model: new (data: T) => { validate(): void }): Validator =>
  (obj) =>
    new Model(obj as T).validate();

/** The schema of every kind shipped. A kind missing here fails the schema test: add its model. */
export const SCHEMAS: Readonly<Record<string, Validator>> = {
  'v1/Namespace': v(Namespace),
  'v1/ServiceAccount': v(ServiceAccount),
  'v1/ConfigMap': v(ConfigMap),
  'v1/Service': v(Service),
  'apps/v1/Deployment': v(Deployment),
  'policy/v1/PodDisruptionBudget': v(PodDisruptionBudget),
  'rbac.authorization.k8s.io/v1/ClusterRole': v(ClusterRole),
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': v(ClusterRoleBinding),
  'rbac.authorization.k8s.io/v1/Role': v(Role),
  'rbac.authorization.k8s.io/v1/RoleBinding': v(RoleBinding),
  'admissionregistration.k8s.io/v1/MutatingWebhookConfiguration': v(MutatingWebhookConfiguration),
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': v(ValidatingWebhookConfiguration),
  'cert-manager.io/v1/Issuer': v(Issuer),
  'cert-manager.io/v1/Certificate': v(Certificate),
  'telemetry.istio.io/v1/Telemetry': v(Telemetry),
  'install.istio.io/v1alpha1/IstioOperator': v(IstioOperator),
};

/** kustomize's own file: not sent to the API server, so no Kubernetes schema applies. */
export const KUSTOMIZATION = 'kustomize.config.k8s.io/v1beta1/Kustomization';

export function findObject(file: string, kind: string, name?: string): Obj & { metadata: Obj } {
  const hit = parseYamlFile(file)
    .map((d) => d.value)
    .find((o) => isKubeObject(o) && o.kind === kind && (name === undefined || o.metadata.name === name));
  if (hit === undefined) throw new Error(`${file}: no ${kind}${name === undefined ? '' : ` ${name}`}`);
  return hit as Obj & { metadata: Obj };
}

/** Walks a dotted path (array indexes as numbers); throws naming the path when it is absent. */
export function at(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const key of path.split('.')) {
    if (Array.isArray(cur) && /^\d+$/.test(key)) cur = cur[Number(key)];
    else if (isObj(cur)) cur = cur[key];
    else throw new Error(`no ${path} (stopped at ${key})`);
    if (cur === undefined) throw new Error(`no ${path} (missing ${key})`);
  }
  return cur;
}

export const INJECTOR_CONFIG_FILE = 'mesh-configs/kubernetes/injector-config.yaml';
export const SIDECAR_CONFIGMAP_FILE = 'mesh-configs/kubernetes/sidecar-configmap.yaml';

/** The text of `data[key]` of the ConfigMap in `file`. */
export function configMapData(file: string, key = 'config.yaml'): string {
  const cm = findObject(file, 'ConfigMap');
  const text = isObj(cm.data) ? cm.data[key] : undefined;
  if (typeof text !== 'string') throw new Error(`${file}: data.${key} is not a string`);
  return text;
}

/** Host and port of a `host:port` endpoint. */
export function hostPort(endpoint: unknown): { host: string; port: number } {
  const m = typeof endpoint === 'string' ? /^(.*):(\d+)$/.exec(endpoint) : null;
  if (m === null) throw new Error(`not host:port: ${String(endpoint)}`);
  return { host: m[1]!, port: Number(m[2]) };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}
