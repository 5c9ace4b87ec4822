// Every YAML file in mesh-configs/ parses, and every Kubernetes object in it passes its kind's
// schema (kubernetes-models; @kubernetes-models/istio and /cert-manager for those CRDs).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import {
  KUSTOMIZATION,
  SCHEMAS,
  at,
  filesUnder,
  isKubeObject,
  isObj,
  kubeObjects,
  parseYamlFile,
  yamlFiles,
  MESH_CONFIGS,
} from './support.ts';

// YAML that is not a Kubernetes object, by what it is (a new kind of file must be added here).
const HELM_VALUES = new Set(['mesh-configs/linkerd/control-plane-values.yaml']);
const isSidecarConfig = (v: unknown) => isObj(v) && isObj(v.service) && isObj(v.service.pipelines) && isObj(v.receivers);

const CLUSTER_SCOPED = new Set(['Namespace', 'ClusterRole', 'ClusterRoleBinding', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration']);

describe('mesh-configs: every YAML file', () => {
  const files = yamlFiles();

  it('finds the files the operator applies (kubernetes, istio, linkerd, xray, examples)', () => {
    for (const dir of ['kubernetes', 'istio', 'linkerd', 'xray', 'examples']) {
      assert.ok(
        files.some((f) => f.startsWith(`mesh-configs/${dir}/`)),
        `no YAML under mesh-configs/${dir}`,
      );
    }
  });

  for (const file of files) {
    it(`${file} parses (every document) and each document is a known kind of file`, () => {
      const docs = parseYamlFile(file);
      assert.ok(docs.length > 0, 'no documents');
      for (const d of docs) {
        const known = isKubeObject(d.value) || isSidecarConfig(d.value) || HELM_VALUES.has(file) || (isObj(d.value) && d.value.kind === 'Kustomization');
        assert.ok(known, `document ${d.index + 1}: neither a Kubernetes object, a sidecar config nor known Helm values`);
      }
    });
  }

  it('rejects a syntax error with the file named (the parse check can fail)', () => {
    assert.throws(() => parseYamlFile('test/mesh-configs/testdata/broken.yaml'), /broken\.yaml document 2/);
  });
});

describe('mesh-configs: every Kubernetes object passes its schema', () => {
  const objects = kubeObjects();

  it('ships the objects the deployment needs', () => {
    const kinds = new Set(objects.map((o) => o.value.kind));
    for (const k of ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Deployment', 'PodDisruptionBudget', 'Service', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration', 'Issuer', 'Certificate', 'ConfigMap', 'Telemetry', 'IstioOperator']) {
      assert.ok(kinds.has(k), `no ${k} in mesh-configs`);
    }
  });

  for (const { file, value } of objects) {
    const key = `${value.apiVersion}/${value.kind}`;
    if (key === KUSTOMIZATION) continue;
    it(`${file}: ${value.kind} ${String(value.metadata.name)}`, () => {
      const validate = SCHEMAS[key];
      assert.ok(validate !== undefined, `no schema for ${key}: add its model to test/mesh-configs/support.ts`);
      validate(value);
    });
  }

  it('a schema violation is reported (the schema check can fail)', () => {
    const dep = objects.find((o) => o.value.kind === 'Deployment')!.value;
    const broken = structuredClone(dep);
    (broken.spec as Record<string, unknown>).replicas = 'two';
    assert.throws(() => SCHEMAS['apps/v1/Deployment']!(broken), /replicas must be integer/);
  });
});

describe('mesh-configs/kubernetes: kustomization and namespaces', () => {
  const dir = join(MESH_CONFIGS, 'kubernetes');
  const kustomization = parseYamlFile('mesh-configs/kubernetes/kustomization.yaml')[0]!.value;
  const resources = at(kustomization, 'resources') as string[];

  it('lists every manifest of the directory except the per-application-namespace sidecar ConfigMap', () => {
    for (const r of resources) assert.ok(existsSync(join(dir, r)), `kustomization resource ${r} does not exist`);
    const manifests = filesUnder(dir, ['.yaml'])
      .map((f) => basename(f))
      .filter((f) => f !== 'kustomization.yaml' && f !== 'sidecar-configmap.yaml');
    assert.deepEqual([...resources].sort(), manifests.sort());
    assert.ok(!resources.includes('sidecar-configmap.yaml'), 'the sidecar ConfigMap belongs to each app namespace');
  });

  it('puts every namespaced object in the tracebridge namespace, by name (no namespace transformer)', () => {
    assert.equal(at(kustomization, 'kind'), 'Kustomization');
    assert.ok(!isObj(kustomization) || kustomization.namespace === undefined);
    for (const { file, value } of kubeObjects().filter((o) => dirname(o.file) === 'mesh-configs/kubernetes')) {
      const ns = value.metadata.namespace;
      if (CLUSTER_SCOPED.has(value.kind)) assert.equal(ns, undefined, `${file}: ${value.kind} is cluster-scoped`);
      else if (file.endsWith('sidecar-configmap.yaml')) assert.equal(ns, undefined, 'applied with -n <app-namespace>');
      else assert.equal(ns, 'tracebridge', `${file}: ${value.kind} ${String(value.metadata.name)}`);
    }
  });

  it('enforces the Pod Security "restricted" profile on its namespace', () => {
    const ns = kubeObjects().find((o) => o.value.kind === 'Namespace' && o.file.startsWith('mesh-configs/kubernetes/'))!.value;
    const labels = at(ns, 'metadata.labels') as Record<string, string>;
    assert.equal(labels['pod-security.kubernetes.io/enforce'], 'restricted');
  });
});
