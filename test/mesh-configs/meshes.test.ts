// The Istio, Linkerd and X-Ray files: each points the mesh at the sidecar's own ports, carries
// the versions it needs and whether the mesh documents it, and the AWS setup script issues the
// commands AWS documents (run against a stub `aws` that records its arguments).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ROOT, SIDECAR_CONFIGMAP_FILE, at, configMapData, filesUnder, findObject, hostPort, isObj, MESH_CONFIGS, parseYamlFile, tempDir, type Obj } from './support.ts';

const sidecarConfig = parseYaml(configMapData(SIDECAR_CONFIGMAP_FILE)) as Obj;
const port = (path: string) => hostPort(at(sidecarConfig, path)).port;
const header = (file: string) => readFileSync(join(ROOT, file), 'utf8').split('\n').filter((l) => l.startsWith('#')).join('\n');

describe('mesh-configs/istio', () => {
  const perPod = 'mesh-configs/istio/per-pod-zipkin.yaml';
  const telemetry = 'mesh-configs/istio/telemetry-api-alternative.yaml';

  for (const file of filesUnder(join(MESH_CONFIGS, 'istio'), ['.yaml'])) {
    it(`${file} says which Istio versions it needs and whether Istio documents it`, () => {
      assert.match(header(file), /^# Istio versions: .+/m);
      assert.match(header(file), /^# Documented by Istio: (yes|no)\b/m);
    });
  }

  it('per-pod path: tracing enabled mesh-wide, and its conditions stated', () => {
    const iop = findObject(perPod, 'IstioOperator');
    assert.equal(at(iop, 'spec.meshConfig.enableTracing'), true);
    assert.match(header(perPod), /enableTracing: true/);
    assert.match(header(perPod), /No Telemetry resource configures tracing for the workload/);
  });

  it("per-pod path: the annotation points Envoy's Zipkin tracer at the sidecar's loopback Zipkin port", () => {
    const dep = findObject(perPod, 'Deployment');
    const annotations = at(dep, 'spec.template.metadata.annotations') as Record<string, string>;
    const tracing = at(parseYaml(annotations['proxy.istio.io/config']!), 'tracing') as Obj;
    assert.equal(at(tracing, 'zipkin.address'), `127.0.0.1:${port('receivers.zipkin.endpoint')}`);
    assert.equal(typeof tracing.sampling, 'number', 'a complete block: sampling too, or the mesh default is lost');
    assert.deepEqual(annotations['traffic.sidecar.istio.io/excludeInboundPorts']!.split(',').map(Number).sort(), [13133, 8888].sort());
  });

  it('Telemetry API: every provider a Telemetry names is defined, none points at a pod-local address', () => {
    const iop = findObject(telemetry, 'IstioOperator');
    const providers = at(iop, 'spec.meshConfig.extensionProviders') as Obj[];
    const names = providers.map((p) => p.name);
    for (const doc of parseYamlFile(telemetry).filter((d) => isObj(d.value) && d.value.kind === 'Telemetry')) {
      for (const t of at(doc.value, 'spec.tracing') as Obj[]) {
        for (const p of t.providers as Obj[]) assert.ok(names.includes(p.name), `provider ${String(p.name)}`);
      }
    }
    for (const p of providers) {
      const conf = (p.zipkin ?? p.opentelemetry) as Obj;
      assert.doesNotMatch(String(conf.service), /^(127\.|localhost|\[?::1)/, 'a provider service is a registry host, never loopback');
    }
    const zipkin = providers.find((p) => isObj(p.zipkin))!;
    assert.equal(at(zipkin, 'zipkin.traceContextOption'), 'USE_B3_WITH_W3C_PROPAGATION');
    assert.match(header(telemetry), /traceContextOption.*1\.28/s);
    assert.match(header(telemetry), /What it cannot do: point at the pod's own sidecar/);
  });
});

describe('mesh-configs/linkerd', () => {
  const values = parseYamlFile('mesh-configs/linkerd/control-plane-values.yaml')[0]!.value;
  const expected = {
    LINKERD2_PROXY_TRACE_COLLECTOR_SVC_ADDR: `127.0.0.1:${port('receivers.otlp.protocols.grpc.endpoint')}`,
    // Proxies that support both protocols default to OpenCensus; the sidecar receives OTLP.
    LINKERD2_PROXY_TRACE_PROTOCOL: 'opentelemetry',
  };

  it("Helm values: every proxy exports OTLP/gRPC to its pod's sidecar (proxy.additionalEnv)", () => {
    const env = Object.fromEntries((at(values, 'proxy.additionalEnv') as { name: string; value: string }[]).map((e) => [e.name, e.value]));
    assert.deepEqual(env, expected);
  });

  it('Helm values: proxy.tracing is documented with its mandatory meshIdentity, and why it cannot be loopback', () => {
    const text = readFileSync(join(MESH_CONFIGS, 'linkerd/control-plane-values.yaml'), 'utf8');
    for (const needle of ['proxy.tracing', 'meshIdentity', 'serviceAccountName', '2.19']) assert.ok(text.includes(needle), needle);
  });

  it('per-workload annotation: the same variables as a JSON EnvVar list, sidecar ports skipped inbound', () => {
    const dep = findObject('mesh-configs/linkerd/workload-annotation.yaml', 'Deployment');
    const annotations = at(dep, 'spec.template.metadata.annotations') as Record<string, string>;
    const list = JSON.parse(annotations['config.linkerd.io/proxy-additional-env']!) as { name: string; value: string }[];
    assert.deepEqual(Object.fromEntries(list.map((e) => [e.name, e.value])), expected);
    assert.deepEqual(annotations['config.linkerd.io/skip-inbound-ports']!.split(',').map(Number).sort(), [13133, 8888].sort());
  });
});

describe('mesh-configs/xray: IAM', () => {
  const policy = JSON.parse(readFileSync(join(MESH_CONFIGS, 'xray/iam-policy.json'), 'utf8')) as { Version: string; Statement: { Effect: string; Action: string[]; Resource: string }[] };

  it('grants the OTLP endpoint, segment and sampling actions, X-Ray only', () => {
    assert.equal(policy.Version, '2012-10-17');
    const actions = policy.Statement.flatMap((s) => s.Action);
    for (const a of ['xray:PutSpans', 'xray:PutSpansForIndexing', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'xray:GetSamplingRules', 'xray:GetSamplingTargets', 'xray:GetSamplingStatisticSummaries']) {
      assert.ok(actions.includes(a), a);
    }
    for (const s of policy.Statement) assert.equal(s.Effect, 'Allow');
    assert.deepEqual(actions.filter((a) => !a.startsWith('xray:')), []);
  });

  it('the IRSA ServiceAccount carries a role ARN annotation', () => {
    const sa = findObject('mesh-configs/xray/serviceaccount-irsa.yaml', 'ServiceAccount');
    assert.match((sa.metadata.annotations as Record<string, string>)['eks.amazonaws.com/role-arn']!, /^arn:aws:iam::\d{12}:role\/.+$/);
  });
});

describe('mesh-configs/xray/setup.sh', () => {
  const script = join(MESH_CONFIGS, 'xray/setup.sh');
  const stubDir = tempDir('tb-aws-stub-');
  const log = join(stubDir, 'calls');
  // A stand-in for the aws CLI: records each call's arguments (NUL-separated, one call per
  // record) and answers the few queries the script reads.
  writeFileSync(
    join(stubDir, 'aws'),
    `#!/usr/bin/env bash
printf '%s\\0' "$@" >> "${log}"; printf '\\036' >> "${log}"
case "$1 $2" in
  "sts get-caller-identity") echo 111122223333 ;;
  "eks describe-cluster") echo https://oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE0123 ;;
  "eks describe-addon") exit 254 ;;
  "iam create-role") echo arn:aws:iam::111122223333:role/tracebridge-xray ;;
esac
`,
  );
  chmodSync(join(stubDir, 'aws'), 0o755);

  function run(step: string, env: Record<string, string> = {}): { code: number | null; calls: string[][]; stdout: string; stderr: string } {
    writeFileSync(log, '');
    const res = spawnSync('bash', [script, step], {
      env: { PATH: `${stubDir}:${process.env.PATH ?? ''}`, AWS_REGION: 'us-east-1', ...env },
      encoding: 'utf8',
    });
    const calls = readFileSync(log, 'utf8')
      .split('\x1e')
      .filter((c) => c !== '')
      .map((c) => c.split('\0').slice(0, -1));
    return { code: res.status, calls, stdout: res.stdout, stderr: res.stderr };
  }
  const call = (calls: string[][], service: string, op: string) => calls.find((c) => c[0] === service && c[1] === op);
  const arg = (c: string[] | undefined, flag: string) => (c === undefined ? undefined : c[c.indexOf(flag) + 1]);

  it('is valid bash', () => {
    execFileSync('bash', ['-n', script]);
  });

  it('transaction-search: the CloudWatch Logs resource policy for X-Ray, then the CloudWatchLogs destination', () => {
    const r = run('transaction-search');
    assert.equal(r.code, 0, r.stderr);
    const put = call(r.calls, 'logs', 'put-resource-policy');
    const doc = JSON.parse(arg(put, '--policy-document')!) as { Statement: { Principal: { Service: string }; Action: string; Resource: string[]; Condition: Obj }[] };
    const st = doc.Statement[0]!;
    assert.equal(st.Principal.Service, 'xray.amazonaws.com');
    assert.equal(st.Action, 'logs:PutLogEvents');
    assert.deepEqual(st.Resource, [
      'arn:aws:logs:us-east-1:111122223333:log-group:aws/spans:*',
      'arn:aws:logs:us-east-1:111122223333:log-group:/aws/application-signals/data:*',
    ]);
    assert.equal(at(st.Condition, 'StringEquals.aws:SourceAccount'), '111122223333');
    const dest = call(r.calls, 'xray', 'update-trace-segment-destination');
    assert.equal(arg(dest, '--destination'), 'CloudWatchLogs');
    assert.ok(r.calls.indexOf(put!) < r.calls.indexOf(dest!), 'the log policy first');
    assert.deepEqual(JSON.parse(arg(call(r.calls, 'xray', 'update-indexing-rule'), '--rule')!), { Probabilistic: { DesiredSamplingPercentage: 1 } });
  });

  it('iam-policy: creates the policy from iam-policy.json', () => {
    const r = run('iam-policy');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(arg(call(r.calls, 'iam', 'create-policy'), '--policy-document'), `file://${join(MESH_CONFIGS, 'xray')}/iam-policy.json`);
  });

  it("pod-identity: a role trusted by pods.eks.amazonaws.com, the agent add-on, one association for the app's ServiceAccount", () => {
    const r = run('pod-identity', { CLUSTER: 'prod', NAMESPACE: 'shop', SERVICE_ACCOUNT: 'checkout' });
    assert.equal(r.code, 0, r.stderr);
    const trust = JSON.parse(arg(call(r.calls, 'iam', 'create-role'), '--assume-role-policy-document')!) as { Statement: { Principal: { Service: string }; Action: string[] }[] };
    assert.equal(trust.Statement[0]!.Principal.Service, 'pods.eks.amazonaws.com');
    assert.deepEqual(trust.Statement[0]!.Action, ['sts:AssumeRole', 'sts:TagSession']);
    assert.equal(arg(call(r.calls, 'iam', 'attach-role-policy'), '--policy-arn'), 'arn:aws:iam::111122223333:policy/tracebridge-xray');
    assert.equal(arg(call(r.calls, 'eks', 'create-addon'), '--addon-name'), 'eks-pod-identity-agent');
    const assoc = call(r.calls, 'eks', 'create-pod-identity-association');
    assert.equal(arg(assoc, '--namespace'), 'shop');
    assert.equal(arg(assoc, '--service-account'), 'checkout');
    assert.equal(arg(assoc, '--role-arn'), 'arn:aws:iam::111122223333:role/tracebridge-xray');
  });

  it("irsa: a role trusted by the cluster's OIDC provider for exactly that ServiceAccount, and the annotation to apply", () => {
    const r = run('irsa', { CLUSTER: 'prod', NAMESPACE: 'shop', SERVICE_ACCOUNT: 'checkout' });
    assert.equal(r.code, 0, r.stderr);
    const trust = JSON.parse(arg(call(r.calls, 'iam', 'create-role'), '--assume-role-policy-document')!) as { Statement: { Principal: { Federated: string }; Action: string; Condition: { StringEquals: Record<string, string> } }[] };
    const st = trust.Statement[0]!;
    assert.equal(st.Principal.Federated, 'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE0123');
    assert.equal(st.Action, 'sts:AssumeRoleWithWebIdentity');
    assert.equal(st.Condition.StringEquals['oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE0123:sub'], 'system:serviceaccount:shop:checkout');
    assert.equal(st.Condition.StringEquals['oidc.eks.us-east-1.amazonaws.com/id/EXAMPLE0123:aud'], 'sts.amazonaws.com');
    assert.match(r.stdout, /kubectl -n shop annotate serviceaccount checkout eks\.amazonaws\.com\/role-arn=arn:aws:iam::111122223333:role\/tracebridge-xray/);
  });

  it('refuses to run a step without what it needs, before calling AWS', () => {
    const r = run('pod-identity');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /set CLUSTER/);
    assert.deepEqual(r.calls, []);
    const noRegion = spawnSync('bash', [script, 'iam-policy'], { env: { PATH: `${stubDir}:${process.env.PATH ?? ''}` }, encoding: 'utf8' });
    assert.notEqual(noRegion.status, 0);
    assert.match(noRegion.stderr, /AWS_REGION/);
  });
});
