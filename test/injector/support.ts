// Shared test helpers for the injector: a decoded test config and the Pod checks every
// injected result must pass (Kubernetes schema plus the rules the schema cannot express).
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Pod as PodModel } from 'kubernetes-models/v1';
import { mergeConfig } from '../../sidecar/config/load.ts';
import { decodeInjectorConfig, type InjectorConfig } from '../../injector/config.ts';
import { AdmissionHandler, type AdmissionDeps } from '../../injector/admission.ts';
import { createLogger } from '../../injector/logger.ts';
import { InjectorMetrics } from '../../injector/metrics.ts';
import { chooseMode } from '../../injector/mode.ts';
import type { Container, NamespaceInfo, Pod } from '../../injector/pod.ts';

export const BASE_CONFIG = {
  sidecar: {
    image: 'ghcr.io/example/tracebridge:0.1.0',
    native: true,
    config_map: 'tracebridge-sidecar',
    exporter: { traces_endpoint: 'https://xray.us-east-1.amazonaws.com/v1/traces', region: 'us-east-1' },
  },
};

export function testConfig(overrides: Record<string, unknown> = {}): InjectorConfig {
  return decodeInjectorConfig(mergeConfig(BASE_CONFIG, overrides), { requireTls: false });
}

// IANA_SVC_NAME as Kubernetes validates port names.
const PORT_NAME = /^(?=.*[a-z])(?!.*--)[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$/;

/** Schema-validates a pod and checks the invariants an API server would reject or a kubelet trip on. */
export function assertValidPod(pod: Pod): void {
  // The generated model checks types and required fields against the Kubernetes OpenAPI schema.
  new PodModel(pod as ConstructorParameters<typeof PodModel>[0]).validate();
  const containers: Container[] = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
  const names = containers.map((c) => c.name);
  assert.equal(new Set(names).size, names.length, `container names unique: ${names.join(',')}`);
  const portNames: string[] = [];
  const portKeys: string[] = [];
  for (const c of containers) {
    for (const p of c.ports ?? []) {
      if (p.name !== undefined) {
        assert.match(p.name, PORT_NAME, `port name ${p.name}`);
        portNames.push(p.name);
      }
      portKeys.push(`${p.containerPort}/${p.protocol ?? 'TCP'}`);
    }
    const envNames = (c.env ?? []).map((e) => e.name);
    assert.equal(new Set(envNames).size, envNames.length, `env names unique in ${c.name}`);
  }
  assert.equal(new Set(portNames).size, portNames.length, `port names unique in the pod: ${portNames.join(',')}`);
  assert.equal(new Set(portKeys).size, portKeys.length, `ports unique in the pod: ${portKeys.join(',')}`);
  const volumes = (pod.spec?.volumes ?? []).map((v) => v.name);
  assert.equal(new Set(volumes).size, volumes.length, 'volume names unique');
  for (const c of containers) {
    for (const m of (c.volumeMounts as { name: string }[] | undefined) ?? []) assert.ok(volumes.includes(m.name), `mount ${m.name} has a volume`);
  }
}

/** The Pod Security "restricted" profile, for the container the injector adds. */
export function assertRestricted(c: Container): void {
  const sc = c.securityContext as Record<string, unknown>;
  assert.equal(sc.runAsNonRoot, true);
  assert.ok(typeof sc.runAsUser === 'number' && sc.runAsUser > 0);
  assert.equal(sc.allowPrivilegeEscalation, false);
  assert.equal(sc.readOnlyRootFilesystem, true);
  assert.deepEqual(sc.capabilities, { drop: ['ALL'] });
  assert.deepEqual(sc.seccompProfile, { type: 'RuntimeDefault' });
}

export function memoryLog(): { lines: () => Record<string, unknown>[]; stream: Writable } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

export function review(object: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: '705ab4f5-6393-11e8-b7cc-42010a800002',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      namespace: 'shop',
      operation: 'CREATE',
      userInfo: { username: 'system:serviceaccount:kube-system:replicaset-controller' },
      object,
      dryRun: false,
      options: { apiVersion: 'meta.k8s.io/v1', kind: 'CreateOptions' },
      ...extra,
    },
  };
}


/**
 * The webhook's admission handler over the test config, logging into memory; namespaces are known
 * with no labels (or `nsInfo` for every name), native sidecars, unless `overrides` say otherwise.
 */
export function admissionHandler(overrides: Partial<AdmissionDeps> = {}, nsInfo?: NamespaceInfo) {
  const log = memoryLog();
  const metrics = new InjectorMetrics();
  const h = new AdmissionHandler({
    config: testConfig(),
    version: '0.1.0',
    logger: createLogger('info', log.stream),
    metrics,
    namespace: (name) => Promise.resolve(nsInfo ?? { known: true, name, labels: {}, annotations: {} }),
    mode: () => Promise.resolve(chooseMode('true', { unknown: '' })),
    ...overrides,
  });
  return { h, log, metrics };
}
