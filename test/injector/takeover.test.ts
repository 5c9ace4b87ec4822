// Transparent takeover: injection never changes where an app's telemetry ends up. Each case is a
// pattern of real manifests: the OpenTelemetry demo's services (gRPC exporters built in code, the
// collector named in OTEL_EXPORTER_OTLP_ENDPOINT), node-local collectors and X-Ray daemons reached
// through $(HOST_IP), vendor headers from Secrets, Java agents configured by system properties.
import assert from 'node:assert/strict';
import { describeWiring } from '../../injector/app-env.ts';
import { sidecarSettings } from '../../injector/config.ts';
import { decide, decisionPolicy } from '../../injector/decision.ts';
import { chooseMode } from '../../injector/mode.ts';
import { injectSidecar } from '../../injector/mutation.ts';
import type { Container, EnvVar, Pod } from '../../injector/pod.ts';
import { ns } from './fixtures/pods.ts';
import { assertValidPod, testConfig } from './support.ts';

const v = (name: string, value: string): EnvVar => ({ name, value });
const secret = (name: string, secretName: string, key: string): EnvVar => ({ name, valueFrom: { secretKeyRef: { name: secretName, key } } });
const field = (name: string, fieldPath: string): EnvVar => ({ name, valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath } } });

function podWith(...containers: Container[]): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'shop' }, spec: { containers } };
}

function inject(pod: Pod, config: Record<string, unknown> = {}) {
  const cfg = testConfig(config);
  const decision = decide(pod, ns('shop'), decisionPolicy(cfg));
  assert.ok(decision.inject, decision.message);
  const out = injectSidecar(pod, { settings: sidecarSettings(cfg), mode: chooseMode('true', { unknown: 'test' }), decision, version: 't' });
  assertValidPod(out.pod);
  const sidecar = out.pod.spec!.initContainers!.at(-1)!;
  const envOf = (c: Container) => new Map((c.env ?? []).map((e) => [e.name, e]));
  return {
    status: out.status,
    app: (i = 0) => envOf(out.pod.spec!.containers![i]!),
    appList: (i = 0) => (out.pod.spec!.containers![i]!.env ?? []).map((e) => e.name),
    sidecar: envOf(sidecar),
    sidecarList: (sidecar.env ?? []).map((e) => e.name),
  };
}

describe('injector transparent takeover of the app destination', () => {
  it('OpenTelemetry demo service (gRPC exporter built in code, collector on 4317): the app keeps gRPC on 127.0.0.1:4317, the collector becomes the upstream', () => {
    const r = inject(podWith({ name: 'checkout', env: [v('OTEL_SERVICE_NAME', 'checkout'), v('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://otel-collector:4317')] }));
    assert.equal(r.app().get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'http://127.0.0.1:4317');
    // What broke such apps before: a per-signal HTTP endpoint and protocol added on top.
    assert.equal(r.app().get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'), undefined);
    assert.equal(r.app().get('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL'), undefined);
    assert.deepEqual(r.appList(), ['OTEL_SERVICE_NAME', 'OTEL_EXPORTER_OTLP_ENDPOINT']);
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT')!.value, 'http://otel-collector:4317');
    assert.deepEqual(r.status.appEnv.checkout, {
      reaches: true,
      detail: "OTLP to the sidecar, which passes it on to the app's own destination",
      set: ['OTEL_EXPORTER_OTLP_ENDPOINT'],
      left: {},
      upstream: ['OTEL_EXPORTER_OTLP_ENDPOINT'],
    });
  });

  it("keeps the app's protocol choice and hands its headers over as Secret references", () => {
    const r = inject(
      podWith({
        name: 'api',
        env: [
          v('OTEL_EXPORTER_OTLP_PROTOCOL', 'grpc'),
          v('OTEL_EXPORTER_OTLP_ENDPOINT', 'https://api.honeycomb.io:443'),
          secret('OTEL_EXPORTER_OTLP_HEADERS', 'honeycomb', 'headers'),
          v('OTEL_EXPORTER_OTLP_COMPRESSION', 'gzip'),
        ],
      }),
    );
    assert.equal(r.app().get('OTEL_EXPORTER_OTLP_PROTOCOL')!.value, 'grpc');
    assert.equal(r.app().get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'http://127.0.0.1:4317');
    assert.deepEqual(r.app().get('OTEL_EXPORTER_OTLP_HEADERS'), secret('OTEL_EXPORTER_OTLP_HEADERS', 'honeycomb', 'headers'), "the app's own headers stay");
    assert.deepEqual(r.sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_HEADERS'), secret('TRACEBRIDGE_UPSTREAM_OTLP_HEADERS', 'honeycomb', 'headers'));
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_PROTOCOL')!.value, 'grpc');
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT')!.value, 'https://api.honeycomb.io:443');
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_COMPRESSION'), undefined, 'compression is the sidecar exporter’s own');
  });

  it('per-signal endpoints (any protocol) become the generic endpoint without a path; each original is handed over', () => {
    const r = inject(
      podWith({
        name: 'api',
        env: [
          v('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'http://tempo.tracing:4318/v1/traces'),
          v('OTEL_EXPORTER_OTLP_METRICS_ENDPOINT', 'http://mimir.metrics:9009/otlp/v1/metrics'),
          v('OTEL_RESOURCE_ATTRIBUTES', 'team=payments'),
        ],
      }),
    );
    assert.deepEqual(r.appList(), ['OTEL_RESOURCE_ATTRIBUTES', 'OTEL_EXPORTER_OTLP_ENDPOINT']);
    assert.equal(r.app().get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'http://127.0.0.1:4318');
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_TRACES_ENDPOINT')!.value, 'http://tempo.tracing:4318/v1/traces');
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_METRICS_ENDPOINT')!.value, 'http://mimir.metrics:9009/otlp/v1/metrics');
    assert.deepEqual(r.status.appEnv.api!.removed, ['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_METRICS_ENDPOINT']);
  });

  it('node-local collector and X-Ray daemon through $(HOST_IP): the definitions go with the upstream, before it', () => {
    const r = inject(
      podWith({
        name: 'orders',
        env: [
          field('HOST_IP', 'status.hostIP'),
          v('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://$(HOST_IP):4317'),
          v('AWS_XRAY_DAEMON_ADDRESS', 'udp:$(HOST_IP):2000 tcp:$(HOST_IP):2000'),
        ],
      }),
    );
    assert.equal(r.app().get('AWS_XRAY_DAEMON_ADDRESS')!.value, '127.0.0.1:2000');
    // Copied under a name of their own, so they can never clash with a variable the sidecar reads.
    const ref = 'TRACEBRIDGE_UPSTREAM_REF_HOST_IP';
    assert.deepEqual(r.sidecar.get(ref), field(ref, 'status.hostIP'));
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT')!.value, `http://$(${ref}):4317`);
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_XRAY_DAEMON_ADDRESS')!.value, `udp:$(${ref}):2000 tcp:$(${ref}):2000`);
    assert.ok(r.sidecarList.indexOf(ref) < r.sidecarList.indexOf('TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT'));
    assert.equal(r.sidecarList.filter((n) => n === ref).length, 1);
    assert.ok(!r.sidecar.has('HOST_IP'));
    assert.deepEqual(r.status.appEnv.orders!.upstream, ['OTEL_EXPORTER_OTLP_ENDPOINT', 'AWS_XRAY_DAEMON_ADDRESS']);
  });

  it('a $(VAR) named like one of the sidecar’s own variables keeps the app’s meaning, and never becomes a sidecar setting', () => {
    // NODE_NAME is the sidecar's downward-API variable; OTEL_EXPORTER_OTLP_ENDPOINT its exporter setting.
    const r = inject(
      podWith({
        name: 'a',
        env: [
          v('NODE_NAME', 'fixed'),
          v('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://$(NODE_NAME).collector:4317'),
          v('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', '$(OTEL_EXPORTER_OTLP_ENDPOINT)'),
        ],
      }),
      { sidecar: { exporter: null } },
    );
    assert.equal(r.app().get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'http://127.0.0.1:4318');
    assert.deepEqual(r.sidecar.get('NODE_NAME')!.valueFrom, { fieldRef: { fieldPath: 'spec.nodeName' } }, "the sidecar's own NODE_NAME");
    assert.equal(r.sidecar.get('OTEL_EXPORTER_OTLP_ENDPOINT'), undefined, 'no exporter setting for the sidecar');
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_REF_NODE_NAME')!.value, 'fixed');
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_REF_OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'http://$(TRACEBRIDGE_UPSTREAM_REF_NODE_NAME).collector:4317');
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_TRACES_ENDPOINT')!.value, '$(TRACEBRIDGE_UPSTREAM_REF_OTEL_EXPORTER_OTLP_ENDPOINT)');
    assert.equal(r.status.appEnv.a!.reaches, true);
  });

  it('containers naming the same destination are all taken over; one naming another is left sending there, and the status says so', () => {
    const collector = [v('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://otel-collector:4317')];
    const r = inject(podWith({ name: 'web', env: collector }, { name: 'worker', env: [...collector] }, { name: 'audit', env: [v('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://audit-collector:4317')] }));
    assert.equal(r.app(0).get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'http://127.0.0.1:4317');
    assert.equal(r.app(1).get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'http://127.0.0.1:4317');
    assert.equal(r.app(2).get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'http://audit-collector:4317');
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT')!.value, 'http://otel-collector:4317');
    assert.equal(r.status.appEnv.audit!.reaches, false);
    assert.match(describeWiring(r.status.appEnv), /web: reaches the sidecar .*; worker: reaches the sidecar .*; audit: does NOT reach the sidecar \(OTLP left going to its own destination \(container "web" names another, and the sidecar has one upstream\)\)/);
  });

  it('TLS files in the app container (OTEL_EXPORTER_OTLP_CERTIFICATE): left alone, the sidecar could not reach that destination', () => {
    const r = inject(podWith({ name: 'a', env: [v('OTEL_EXPORTER_OTLP_ENDPOINT', 'https://collector:4317'), v('OTEL_EXPORTER_OTLP_CERTIFICATE', '/certs/ca.pem')] }));
    assert.equal(r.app().get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'https://collector:4317');
    assert.equal(r.status.appEnv.a!.reaches, false);
    assert.match(r.status.appEnv.a!.left.OTEL_EXPORTER_OTLP_ENDPOINT!, /OTEL_EXPORTER_OTLP_CERTIFICATE names a file in the app's container/);
  });

  it('OTEL_EXPORTER_OTLP_INSECURE=false would make Go and Python ask the sidecar for TLS: set to true, the original handed over', () => {
    const r = inject(podWith({ name: 'a', env: [v('OTEL_EXPORTER_OTLP_ENDPOINT', 'https://collector:4317'), v('OTEL_EXPORTER_OTLP_INSECURE', 'false')] }));
    assert.equal(r.app().get('OTEL_EXPORTER_OTLP_INSECURE')!.value, 'true');
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_INSECURE')!.value, 'false');
  });

  it('a Java agent configured by -Dotel.exporter.otlp.* system properties is left alone (they override the env)', () => {
    const r = inject(
      podWith({ name: 'java', env: [v('JAVA_TOOL_OPTIONS', '-javaagent:/otel/agent.jar -Dotel.exporter.otlp.endpoint=http://collector:4318'), v('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://collector:4318')] }),
    );
    assert.equal(r.app().get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'http://collector:4318');
    assert.equal(r.status.appEnv.java!.reaches, false);
    assert.match(r.status.appEnv.java!.left.JAVA_TOOL_OPTIONS!, /a system property that overrides the env/);
    // Properties that name no destination do not matter: the env is taken over.
    const protocolOnly = inject(podWith({ name: 'java', env: [v('JAVA_TOOL_OPTIONS', '-javaagent:/otel/agent.jar -Dotel.exporter.otlp.protocol=grpc'), v('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://collector:4317')] }));
    assert.equal(protocolOnly.app().get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'http://127.0.0.1:4317');
    assert.equal(protocolOnly.status.appEnv.java!.reaches, true);
  });

  it('an app already sending to 127.0.0.1, or naming nothing, keeps its env; localhost and [::1] are spelled 127.0.0.1', () => {
    const r = inject(
      podWith(
        { name: 'a', env: [v('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://127.0.0.1:4317')] },
        { name: 'b', env: [v('OTEL_TRACES_EXPORTER', 'otlp')] },
        { name: 'c', env: [v('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'http://localhost:4318/v1/traces'), v('AWS_XRAY_DAEMON_ADDRESS', 'localhost:2000')] },
        { name: 'd', env: [v('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://[::1]:4317')] },
      ),
    );
    assert.deepEqual(r.app(0).get('OTEL_EXPORTER_OTLP_ENDPOINT'), v('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://127.0.0.1:4317'));
    assert.deepEqual(r.appList(1), ['OTEL_TRACES_EXPORTER']);
    assert.equal(r.status.appEnv.a!.detail, 'already sends to the sidecar');
    assert.equal(r.status.appEnv.b!.detail, 'keeps its env: the SDK defaults reach the sidecar');
    // The sidecar binds 127.0.0.1 only; localhost may resolve to ::1 first.
    assert.equal(r.app(2).get('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT')!.value, 'http://127.0.0.1:4318/v1/traces');
    assert.equal(r.app(2).get('AWS_XRAY_DAEMON_ADDRESS')!.value, '127.0.0.1:2000');
    assert.equal(r.app(3).get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'http://127.0.0.1:4317');
    assert.ok(![...r.sidecar.keys()].some((k) => k.startsWith('TRACEBRIDGE_UPSTREAM_')), 'nothing to hand over');
  });

  it('values no exporter could use are left as they are, and never handed to the sidecar', () => {
    const r = inject(
      podWith(
        { name: 'a', env: [v('OTEL_EXPORTER_OTLP_ENDPOINT', 'collector')] },
        { name: 'b', env: [v('AWS_XRAY_DAEMON_ADDRESS', 'http://xray-daemon:2000')] },
      ),
    );
    assert.equal(r.app(0).get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'collector');
    assert.match(r.status.appEnv.a!.left.OTEL_EXPORTER_OTLP_ENDPOINT!, /not an http\(s\) URL or host:port/);
    assert.equal(r.app(1).get('AWS_XRAY_DAEMON_ADDRESS')!.value, 'http://xray-daemon:2000');
    assert.match(r.status.appEnv.b!.left.AWS_XRAY_DAEMON_ADDRESS!, /the X-Ray SDKs cannot send there/);
    assert.ok(![...r.sidecar.keys()].some((k) => k.startsWith('TRACEBRIDGE_UPSTREAM_')));
  });

  it('an IPv6 collector without a scheme, and a daemon whose TCP part is elsewhere, are taken over', () => {
    const r = inject(podWith({ name: 'a', env: [v('OTEL_EXPORTER_OTLP_ENDPOINT', '[fd00::1]:4317'), v('AWS_XRAY_DAEMON_ADDRESS', 'udp:127.0.0.1:2000 tcp:xray.obs:2000')] }));
    assert.equal(r.app().get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'http://127.0.0.1:4317');
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT')!.value, '[fd00::1]:4317');
    assert.equal(r.sidecar.get('TRACEBRIDGE_UPSTREAM_XRAY_DAEMON_ADDRESS')!.value, 'udp:127.0.0.1:2000 tcp:xray.obs:2000');
  });

  it('two containers naming one destination with their variables in another order share it', () => {
    const r = inject(
      podWith(
        { name: 'a', env: [v('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://c:4317'), v('OTEL_EXPORTER_OTLP_HEADERS', 'k=v')] },
        { name: 'b', env: [v('OTEL_EXPORTER_OTLP_HEADERS', 'k=v'), v('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://c:4317')] },
      ),
    );
    assert.equal(r.status.appEnv.a!.reaches, true);
    assert.equal(r.status.appEnv.b!.reaches, true);
  });

  it('sidecar ports other than the SDK defaults: apps naming nothing are pointed at them', () => {
    const r = inject(podWith({ name: 'a', env: [v('OTEL_TRACES_EXPORTER', 'otlp')] }), { sidecar: { ports: { otlp_grpc: 14317, otlp_http: 14318, xray: 12000 } } });
    assert.equal(r.app().get('OTEL_EXPORTER_OTLP_ENDPOINT')!.value, 'http://127.0.0.1:14318');
    assert.equal(r.app().get('AWS_XRAY_DAEMON_ADDRESS')!.value, '127.0.0.1:12000');
  });

  it('envFrom: left alone; not reaching the sidecar when its env names another destination, unknown otherwise', () => {
    const r = inject(podWith({ name: 'a', envFrom: [{ configMapRef: { name: 'otel' } }], env: [v('OTEL_EXPORTER_OTLP_ENDPOINT', 'http://collector:4318')] }));
    assert.equal(r.status.appEnv.a!.reaches, false);
    assert.match(r.status.appEnv.a!.detail, /envFrom may already set/);
    // envFrom for unrelated settings (a database Secret) is common: the SDK defaults may well reach the sidecar.
    const unrelated = inject(podWith({ name: 'a', envFrom: [{ secretRef: { name: 'db' } }], env: [v('OTEL_TRACES_EXPORTER', 'otlp')] }));
    assert.equal(unrelated.status.appEnv.a!.reaches, 'unknown');
    assert.match(describeWiring(unrelated.status.appEnv), /^a: may reach the sidecar/);
  });
});
