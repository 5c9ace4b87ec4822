// `injectManifest` as kubectl reads its output: YAML 1.1 (octal 0400, yes/no/on/off booleans,
// `<<` merge keys), untouched documents byte for byte, injected documents edited in place.
// The output is read back with PyYAML, a YAML 1.1 reader independent of the one the injector
// uses.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sidecarSettings } from '../../injector/config.ts';
import { decide, decisionPolicy } from '../../injector/decision.ts';
import { injectManifest, type ManifestOptions } from '../../injector/manifest.ts';
import { meshWiringStep } from '../../injector/mesh-wiring.ts';
import { chooseMode } from '../../injector/mode.ts';
import { injectSidecar } from '../../injector/mutation.ts';
import type { NamespaceInfo, Pod } from '../../injector/pod.ts';
import { INJECTOR_VERSION } from '../../injector/version.ts';
import { tempDir } from './certs.ts';
import { assertValidPod, testConfig } from './support.ts';

type Obj = Record<string, unknown>;

const FIXTURES = new URL('./fixtures/manifests/', import.meta.url);
const fixture = (name: string) => readFileSync(fileURLToPath(new URL(name, FIXTURES)), 'utf8');

const cfg = testConfig();
const mode = chooseMode(cfg.sidecar.native, { unknown: 'offline: pass --kube-version to choose by version' });

function options(overrides: Partial<ManifestOptions> = {}): ManifestOptions {
  return {
    policy: decisionPolicy(cfg),
    settings: sidecarSettings(cfg),
    mode,
    version: INJECTOR_VERSION,
    defaultNamespace: 'shop',
    steps: (ns) => [meshWiringStep(cfg, ns)],
    ...overrides,
  };
}

// PyYAML's safe loader: YAML 1.1 types and merge keys, as kubectl's go-yaml v2.
const PY_READ = `
import json, sys, yaml
json.dump(list(yaml.safe_load_all(sys.stdin.buffer)), sys.stdout, default=str)
`;

function readYaml11(text: string): unknown[] {
  const r = spawnSync('/usr/bin/python3', ['-c', PY_READ], { input: text, encoding: 'utf8', timeout: 20_000 });
  assert.equal(r.status, 0, `PyYAML (python3-yaml) could not read the text: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown[];
}

/** Splits a stream into documents at `---` lines (each piece keeps its own `---`). */
function pieces(text: string): string[] {
  return text.split(/^(?=---\r?$)/m);
}

const NS_UNKNOWN = (name: string): NamespaceInfo => ({ known: false, name, why: `offline: namespace ${name} is not in the manifest` });

const TEMPLATE_KINDS = new Set(['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet', 'Job']);

/** The object the webhook would produce for each workload (its pod template injected), or the object itself. */
function expectedObject(obj: unknown, opts: ManifestOptions): unknown {
  if (obj === null || typeof obj !== 'object') return obj;
  const o = structuredClone(obj) as Obj & { metadata?: Obj; spec?: Obj & { template?: Obj } };
  if (o.kind === 'List') return { ...o, items: (o.items as unknown[]).map((i) => expectedObject(i, opts)) };
  const nsName = typeof o.metadata?.namespace === 'string' ? o.metadata.namespace : opts.defaultNamespace;
  const inject = (pod: Pod): Pod | undefined => {
    const ns = NS_UNKNOWN(nsName);
    const decision = decide(pod, ns, opts.policy);
    if (!decision.inject) return undefined;
    return injectSidecar(pod, { settings: opts.settings, mode: opts.mode, decision, version: opts.version }, opts.steps?.(ns) ?? []).pod;
  };
  if (o.kind === 'Pod') return inject(o) ?? o;
  if (TEMPLATE_KINDS.has(String(o.kind)) && o.spec?.template !== undefined) {
    const t = o.spec.template as { metadata?: Obj; spec?: Obj };
    const pod = inject({ apiVersion: 'v1', kind: 'Pod', metadata: t.metadata ?? {}, spec: t.spec });
    if (pod !== undefined) o.spec.template = { ...t, metadata: pod.metadata, spec: pod.spec };
  }
  return o;
}

function isSubsequence(sub: readonly string[], of: readonly string[]): boolean {
  let i = 0;
  for (const line of of) if (i < sub.length && line === sub[i]) i++;
  return i === sub.length;
}

function templateOf(o: unknown): Pod {
  const t = (o as { spec: { template: { metadata: Obj; spec: Pod['spec'] } } }).spec.template;
  return { apiVersion: 'v1', kind: 'Pod', metadata: t.metadata, spec: t.spec };
}

const injectedContainer = (pod: Pod) => [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].find((c) => c.name === 'tracebridge');

describe('injectManifest: output as kubectl reads it (YAML 1.1)', () => {
  describe('a Helm-rendered manifest', () => {
    const input = fixture('helm-shop.yaml');
    let result: ReturnType<typeof injectManifest>;
    before(() => {
      result = injectManifest(input, options());
    });

    it('injects the workloads with a span signal and reports every object', () => {
      assert.deepEqual(
        result.reports.map((l) => l.replace(/ \(.*/, '')),
        ['deployment/shop-web', 'deployment/shop-worker', 'pod/shop-debug'],
      );
      assert.match(result.reports[0]!, /^deployment\/shop-web \(shop\): injected \(auto-otel-env/);
      assert.match(result.reports[1]!, /^deployment\/shop-worker \(shop\): unchanged \(no-span-signal/);
      assert.match(result.reports[2]!, /^pod\/shop-debug \(shop\): injected \(opt-in-pod/);
    });

    it('copies every document it does not inject byte for byte: licence header, # Source comments, "...", empty and comment-only documents', () => {
      const before = pieces(input);
      const after = pieces(result.output);
      assert.equal(after.length, before.length, 'same documents, same separators');
      const injected = new Set(['deployment.yaml', 'debug-pod.yaml'].map((f) => before.findIndex((p) => p.includes(`# Source: shop/templates/${f}`))));
      assert.deepEqual([...injected], [5, 9]);
      before.forEach((p, i) => {
        if (!injected.has(i)) assert.equal(after[i], p, `document piece ${i} unchanged`);
      });
      assert.ok(result.output.startsWith('# Copyright 2025 Example Shop Ltd.\n# SPDX-License-Identifier: Apache-2.0\n#\n'));
    });

    it('reads back, as YAML 1.1, exactly as the injected objects: 0400 is still 256, "off" and "yes" still strings', () => {
      const opts = options();
      const expected = readYaml11(input).map((o) => expectedObject(o, opts));
      const actual = readYaml11(result.output);
      assert.deepEqual(actual, expected);
      // The values kubectl reads, spelled out.
      const web = templateOf(actual[4]);
      const volumes = web.spec!.volumes as { name: string; secret?: Obj; configMap?: Obj }[];
      assert.equal(volumes[0]!.secret!.defaultMode, 0o400);
      assert.equal(volumes[1]!.configMap!.defaultMode, 0o644);
      assert.equal(web.metadata!.annotations!['example.com/legacy-routing'], 'off');
      assert.equal(web.metadata!.annotations!['example.com/canary'], 'yes');
      const env = new Map(web.spec!.containers![0]!.env!.map((e) => [e.name, e.value]));
      assert.equal(env.get('FEATURE_X'), 'off');
      assert.equal(env.get('LEGACY_MODE'), 'no');
      assert.equal(env.get('MAX_UPLOAD'), '1e3');
      assert.ok(injectedContainer(web), 'the sidecar is in the template');
      assertValidPod(web);
      const debug = actual[actual.length - 1] as Pod;
      assert.equal(debug.metadata!.annotations!['example.com/ttl'], '0644');
      assert.ok(injectedContainer(debug));
      assertValidPod(debug);
    });

    it('edits the injected document in place: every input line is still there, in order (comments, quoting, 0400)', () => {
      const before = pieces(input);
      const after = pieces(result.output);
      const i = before.findIndex((p) => p.includes('# Source: shop/templates/deployment.yaml'));
      // The one value the takeover changes: the app's own collector becomes the sidecar's upstream.
      const changed = '              value: "http://otel-gateway.observability:4318"';
      const inLines = before[i]!.split('\n').filter((l) => l !== changed);
      const outLines = after[i]!.split('\n');
      assert.ok(isSubsequence(inLines, outLines), `input lines missing from the injected document:\n${after[i]}`);
      assert.match(after[i]!, /^ {12}- name: OTEL_EXPORTER_OTLP_ENDPOINT\n {14}value: http:\/\/127\.0\.0\.1:4318$/m);
      assert.ok(outLines.length > inLines.length + 20, 'the injection added lines');
      assert.match(after[i]!, /^ {12}defaultMode: 0400 {3}# owner read only$/m);
      assert.match(after[i]!, /^ {8}# the storefront itself$/m);
      assert.match(after[i]!, /^ {14}value: "off"$/m);
      // New lines follow the document's own indentation (sequences indented under their key).
      assert.match(after[i]!, /^ {6}initContainers:\n {8}- name: tracebridge$/m);
    });

    it('writes new values so that YAML 1.1 reads them as the same strings ("true", "1" quoted)', () => {
      const i = pieces(input).findIndex((p) => p.includes('# Source: shop/templates/deployment.yaml'));
      const doc = pieces(result.output)[i]!;
      assert.match(doc, /^ {8}tracebridge\.io\/injected: "true"$/m);
    });

    it('turns the flow collections it changes into block style and leaves the others as they were', () => {
      const pod = pieces(result.output).at(-1)!;
      assert.match(pod, /^# Source: shop\/templates\/debug-pod\.yaml$/m);
      assert.match(pod, /^ {2}restartPolicy: Never$/m);
      // The app container keeps its env (the SDK defaults reach the sidecar): its flow list is untouched.
      assert.match(pod, /^ {2}containers: \[\{name: shell, image: "busybox:1\.36", command: \[sleep, "3600"\]\}\]$/m);
      assert.match(pod, /^metadata:\n {2}name: shop-debug\n {2}annotations:\n {4}tracebridge\.io\/inject: "true"\n {4}example\.com\/ttl: "0644"$/m);
    });

    it('prints its own output again byte for byte (already-injected)', () => {
      const second = injectManifest(result.output, options());
      assert.equal(second.output, result.output);
      assert.match(second.reports[0]!, /deployment\/shop-web \(shop\): unchanged \(already-injected/);
      assert.match(second.reports[2]!, /pod\/shop-debug \(shop\): unchanged \(already-injected/);
    });

    it('when nothing is injected the output is the input, byte for byte', () => {
      const off = injectManifest(input.replace('tracebridge.io/inject: "true"', 'tracebridge.io/inject: "false"'), options({ policy: { ...decisionPolicy(cfg), auto: false } }));
      assert.equal(off.output, input.replace('tracebridge.io/inject: "true"', 'tracebridge.io/inject: "false"'));
      assert.ok(off.reports.every((l) => l.includes(': unchanged (')), off.reports.join('\n'));
    });
  });

  describe('line endings', () => {
    const input = fixture('helm-shop.yaml');

    it('CRLF input (with a byte order mark): untouched documents keep CRLF byte for byte, injected lines are CRLF too', () => {
      const crlf = `\uFEFF${input.replace(/\n/g, '\r\n')}`;
      const result = injectManifest(crlf, options());
      assert.match(result.reports[0]!, /injected/);
      const before = pieces(crlf);
      const after = pieces(result.output);
      assert.equal(after.length, before.length);
      for (const i of [0, 1, 2, 3, 4, 6, 7, 8]) assert.equal(after[i], before[i], `document piece ${i} unchanged`);
      assert.doesNotMatch(result.output, /[^\r]\n/, 'no bare LF');
      assert.deepEqual(readYaml11(result.output), readYaml11(injectManifest(input, options()).output));
    });

    it('input without a final newline: the output has none either, whether the last document is injected or not', () => {
      const trimmed = input.trimEnd();
      const injected = injectManifest(trimmed, options());
      assert.ok(!injected.output.endsWith('\n'));
      assert.match(injected.reports[2]!, /pod\/shop-debug \(shop\): injected/);
      assert.deepEqual(readYaml11(injected.output), readYaml11(injectManifest(input, options()).output));
      const untouched = trimmed.replace('tracebridge.io/inject: "true"', 'tracebridge.io/inject: "false"');
      assert.equal(injectManifest(untouched, options()).output.slice(-40), untouched.slice(-40));
    });
  });

  describe('anchors, aliases and merge keys', () => {
    const input = fixture('shared-env.yaml');
    let result: ReturnType<typeof injectManifest>;
    let bundle: { items: unknown[] };
    let payments: unknown;
    before(() => {
      result = injectManifest(input, options());
      [bundle, payments] = readYaml11(result.output) as [{ items: unknown[] }, unknown];
    });

    it('a pod whose only OTEL_EXPORTER_OTLP_ENDPOINT comes through "<<: *otel-env" is injected and that env taken over', () => {
      assert.match(result.reports.find((l) => l.startsWith('deployment/cart'))!, /^deployment\/cart \(shop\): injected \(auto-otel-env: .*OTEL_EXPORTER_OTLP_ENDPOINT/);
      const cart = templateOf(bundle.items[1]);
      const env = cart.spec!.containers![0]!.env!;
      assert.deepEqual(env, [
        { name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://127.0.0.1:4318' },
        { name: 'OTEL_RESOURCE_ATTRIBUTES', value: 'deployment.environment=prod' },
      ]);
      const sidecar = injectedContainer(cart)!;
      assert.ok(sidecar.env!.some((e) => e.name === 'TRACEBRIDGE_UPSTREAM_OTLP_ENDPOINT' && e.value === 'http://otel-gateway.observability:4318'), 'the merged-in destination handed over');
      assertValidPod(cart);
    });

    it('reads back exactly as the injected objects', () => {
      const opts = options();
      assert.deepEqual(readYaml11(result.output), readYaml11(input).map((o) => expectedObject(o, opts)));
    });

    it('objects that alias an anchor the injection changes keep their own value', () => {
      const [original] = readYaml11(input) as [{ items: unknown[] }, unknown];
      assert.match(result.reports.find((l) => l.startsWith('deployment/legacy'))!, /unchanged \(opt-out/);
      assert.deepEqual(bundle.items[2], original.items[2], 'legacy still reads the shared env as it was');
      const [api, events] = templateOf(payments).spec!.containers!;
      for (const c of [api!, events!]) {
        assert.deepEqual(c.env!.filter((e) => e.name === 'OTEL_EXPORTER_OTLP_ENDPOINT'), [{ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://127.0.0.1:4317' }], c.name);
      }
    });

    it('keeps the merge keys and aliases the injection does not need to touch', () => {
      assert.match(result.output, /^ {14}<<: \*otel-env {3}# its only OTEL_EXPORTER_OTLP_ENDPOINT$/m);
      assert.match(result.output, /^ {14}env: \*otel-vars$/m);
      assert.match(result.output, /^ {14}<<: &otel-env$/m);
    });

    it('a second run prints the output byte for byte', () => {
      assert.equal(injectManifest(result.output, options()).output, result.output);
    });

    it('refuses, leaving the document byte for byte, a pod whose merge key follows a key it also sets (kubectl lets the merge win there)', () => {
      const ambiguous = `apiVersion: v1
kind: Pod
metadata: {name: ambiguous}
spec:
  initContainers:
    - name: setup
      image: shop/setup:1
      <<: &otel
        env: [{name: OTEL_EXPORTER_OTLP_ENDPOINT, value: "http://gateway:4318"}]
  containers:
    - name: app
      image: shop/app:1
      env: [{name: OTEL_TRACES_EXPORTER, value: otlp}]
      <<: *otel
`;
      const r = injectManifest(ambiguous, options());
      assert.equal(r.output, ambiguous);
      assert.equal(r.reports.length, 1);
      assert.match(r.reports[0]!, /^pod\/ambiguous \(shop\): unchanged \(yaml: spec\.containers\[0\]: "<<" comes after "env", which it also sets: kubectl takes the later value there/);
    });
  });

  describe('JSON', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace: 'shop' },
      spec: { containers: [{ name: 'a', image: 'a:1', env: [{ name: 'OTEL_TRACES_EXPORTER', value: 'otlp' }] }] },
    };

    it('JSON in, JSON out, in the input\'s layout (one line, or its indent)', () => {
      const expected = expectedObject(pod, options());
      const compact = injectManifest(JSON.stringify(pod), options());
      assert.deepEqual(JSON.parse(compact.output), expected);
      assert.equal(compact.output, JSON.stringify(expected));
      const pretty = injectManifest(`${JSON.stringify(pod, null, 4)}\n`, options());
      assert.equal(pretty.output, `${JSON.stringify(expected, null, 4)}\n`);
      assert.equal(injectManifest(pretty.output, options()).output, pretty.output);
    });
  });

  describe('tracebridge-injector inject --config FILE -f FILE (child process)', () => {
    const MAIN = fileURLToPath(new URL('../../injector/main.ts', import.meta.url));
    const run = (args: string[], input?: string) => spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', input, timeout: 20_000 });
    const manifest = fileURLToPath(new URL('helm-shop.yaml', FIXTURES));
    let config: string;
    before(() => {
      config = join(tempDir('tb-manifest-'), 'injector.yaml');
      writeFileSync(config, 'sidecar:\n  image: ghcr.io/example/tracebridge:0.1.0\n  config_map: tracebridge-sidecar\n');
    });

    it('prints the Helm manifest with untouched documents byte for byte and the injected ones meaning what the injection made', () => {
      const input = readFileSync(manifest, 'utf8');
      const r = run(['inject', '--config', config, '-f', manifest]);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stderr, /^deployment\/shop-web \(default\): injected/m);
      const before = pieces(input);
      const after = pieces(r.stdout);
      assert.equal(after.length, before.length);
      for (const i of [0, 1, 2, 3, 4, 6, 7, 8]) assert.equal(after[i], before[i], `document piece ${i} unchanged`);
      const changed = '              value: "http://otel-gateway.observability:4318"';
      assert.ok(isSubsequence(before[5]!.split('\n').filter((l) => l !== changed), after[5]!.split('\n')), 'the Deployment is edited in place');

      const read = readYaml11(r.stdout);
      const original = readYaml11(input);
      assert.deepEqual(read.slice(0, 4), original.slice(0, 4));
      const web = templateOf(read[4]);
      assert.ok(injectedContainer(web));
      assertValidPod(web);
      const volumes = web.spec!.volumes as { secret?: Obj; configMap?: Obj }[];
      assert.equal(volumes[0]!.secret!.defaultMode, 0o400);
      assert.equal(volumes[1]!.configMap!.defaultMode, 0o644);
      assert.equal(web.metadata!.annotations!['example.com/legacy-routing'], 'off');

      const again = run(['inject', '--config', config, '-f', '-'], r.stdout);
      assert.equal(again.status, 0, again.stderr);
      assert.equal(again.stdout, r.stdout);
      assert.match(again.stderr, /^deployment\/shop-web \(default\): unchanged \(already-injected/m);
    });
  });
});
