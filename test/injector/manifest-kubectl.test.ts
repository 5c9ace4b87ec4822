// The YAML 1.1 reading the offline injector relies on, checked against kubectl itself where it is
// installed (`kubectl label --local` decodes a manifest exactly as `kubectl apply` does, through
// sigs.k8s.io/yaml and go-yaml v2, without a cluster), and the read-back check that keeps
// `inject` from printing a manifest that means something else.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sidecarSettings } from '../../injector/config.ts';
import { decisionPolicy } from '../../injector/decision.ts';
import { assertReadsBack, injectManifest } from '../../injector/manifest.ts';
import { meshWiringStep } from '../../injector/mesh-wiring.ts';
import { chooseMode } from '../../injector/mode.ts';
import { INJECTOR_VERSION } from '../../injector/version.ts';
import { documentValue, parseManifest } from '../../injector/yaml-kubectl.ts';
import { testConfig } from './support.ts';

type Obj = Record<string, unknown>;

const SCALARS = `apiVersion: example.com/v1
kind: Probe
metadata: {name: scalars}
values: {a: 0400, b: 0o644, c: 0x1F, d: 0X1F, e: 1_000, f: yes, g: "off", h: 1:30, i: 2024-01-01, j: ~, k: 1e3, l: 08, m: On, n: 0b101, o: +12, p: .5, q: 2024-01-01T10:00:00Z}
`;

const SCALARS_READ = {
  a: 256,
  b: 420,
  c: 31,
  d: 31,
  e: 1000,
  f: true,
  false: 5, // the key `n` is a YAML 1.1 boolean too
  g: 'off',
  h: '1:30',
  i: '2024-01-01',
  j: null,
  k: 1000,
  l: 8,
  m: true,
  o: 12,
  p: 0.5,
  q: '2024-01-01T10:00:00Z',
};

let hasKubectl: boolean | undefined;
function kubectlAvailable(): boolean {
  hasKubectl ??= spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8', timeout: 20_000, env: { ...process.env, KUBECONFIG: '/dev/null' } }).status === 0;
  return hasKubectl;
}

/** The objects kubectl decodes from `text` (List items flattened), as JSON. */
function kubectlRead(text: string): Obj[] {
  // Removing a label that is not there changes nothing; --local never contacts a cluster.
  const r = spawnSync('kubectl', ['label', '--local', '-f', '-', '-o', 'json', 'tracebridge-test-none-'], {
    input: text,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, KUBECONFIG: '/dev/null' },
  });
  assert.equal(r.status, 0, r.stderr);
  const objects = r.stdout
    .trim()
    .split(/\n}\n(?=\{)/)
    .map((part, i, all) => JSON.parse(i < all.length - 1 ? `${part}\n}` : part) as Obj);
  for (const o of objects) {
    // kubectl label adds an empty labels map where there was none.
    const meta = o.metadata as Obj;
    if (meta.labels !== undefined && Object.keys(meta.labels as Obj).length === 0) delete meta.labels;
  }
  return objects;
}

function flatten(values: unknown[]): unknown[] {
  return values.flatMap((v) => (v !== null && typeof v === 'object' && (v as Obj).kind === 'List' ? ((v as Obj).items as unknown[]) : v === null ? [] : [v]));
}

describe('YAML as kubectl reads it', () => {
  it('reads scalars as go-yaml v2 does: octal 0400 and Go prefixes, YAML 1.1 booleans, no base 60, no timestamps', () => {
    const [doc] = parseManifest(SCALARS);
    assert.deepEqual((documentValue(doc!) as Obj).values, SCALARS_READ);
  });

  it('kubectl reads the same scalars the same way', function () {
    if (!kubectlAvailable()) {
      this.test!.title += ' (skipped: no kubectl on this machine)';
      this.skip();
    }
    assert.deepEqual(kubectlRead(SCALARS)[0]!.values, SCALARS_READ);
  });

  it('kubectl lets a merge key win over a key set before it, unlike the YAML spec (why inject refuses such pods)', function () {
    if (!kubectlAvailable()) {
      this.test!.title += ' (skipped: no kubectl on this machine)';
      this.skip();
    }
    const text = 'apiVersion: example.com/v1\nkind: Probe\nmetadata: {name: merge}\nbase: &base {env: merged}\nafter: {env: own, <<: *base}\nbefore: {<<: *base, env: own}\n';
    const read = kubectlRead(text)[0]!;
    assert.deepEqual(read.after, { env: 'merged' });
    assert.deepEqual(read.before, { env: 'own' });
    const spec = documentValue(parseManifest(text)[0]!) as Obj;
    assert.deepEqual(spec.after, { env: 'own' }, 'the YAML spec: the map\'s own key wins');
  });

  it('kubectl reads the printed manifest as the injected objects, as any YAML 1.1 reader does', function () {
    if (!kubectlAvailable()) {
      this.test!.title += ' (skipped: no kubectl on this machine)';
      this.skip();
    }
    const cfg = testConfig();
    const opts = {
      policy: decisionPolicy(cfg),
      settings: sidecarSettings(cfg),
      mode: chooseMode(cfg.sidecar.native, { unknown: 'offline' }),
      version: INJECTOR_VERSION,
      defaultNamespace: 'shop',
      steps: (ns: Parameters<typeof meshWiringStep>[1]) => [meshWiringStep(cfg, ns)],
    };
    for (const name of ['helm-shop.yaml', 'shared-env.yaml']) {
      const input = readFileSync(fileURLToPath(new URL(`./fixtures/manifests/${name}`, import.meta.url)), 'utf8');
      // What the injection makes of each object as kubectl reads the input, computed on JSON
      // (which every reader reads alike), is what kubectl must read in the printed manifest.
      const intended = kubectlRead(input).map((o) => JSON.parse(injectManifest(JSON.stringify(o), opts).output) as Obj);
      const { output } = injectManifest(input, opts);
      assert.deepEqual(kubectlRead(output), intended, name);
      assert.deepEqual(flatten(parseManifest(output).map(documentValue)), intended, `${name}: the injector's own reading`);
    }
  });
});

describe('the read-back check of inject', () => {
  it('refuses a manifest that would read back as something else, naming the document and the place', () => {
    assert.doesNotThrow(() => assertReadsBack('a: 1\n---\nmode: 0400\n', [{ a: 1 }, { mode: 256 }]));
    assert.throws(
      () => assertReadsBack('a: 1\n---\nspec:\n  mode: 400\n', [{ a: 1 }, { spec: { mode: 256 } }], () => 'deployment/web (shop)'),
      /^Error: inject: document 2 \(deployment\/web \(shop\)\) as written would read back differently at \/spec\/mode: 400 instead of 256; nothing printed/,
    );
    assert.throws(() => assertReadsBack('a: 1\n', [{ a: 1 }, { b: 2 }]), /would hold 1 documents instead of 2/);
    assert.throws(() => assertReadsBack('on: "yes"\n', [{ on: 'yes' }]), /at \/on: undefined instead of "yes"/);
  });
});
