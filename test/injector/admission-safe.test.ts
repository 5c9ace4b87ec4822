// The injected container must not make the API server refuse the pod after the webhook patched
// it: a namespace ResourceQuota on limits.cpu needs a CPU limit on every container (optional in
// the injector config), and OpenShift's restricted-v2 SCC refuses a runAsUser outside the
// namespace's assigned range (`run_as_user: auto` leaves it to the platform there).
import assert from 'node:assert/strict';
import { sidecarSettings } from '../../injector/config.ts';
import { decide, decisionPolicy } from '../../injector/decision.ts';
import { chooseMode } from '../../injector/mode.ts';
import { injectSidecar } from '../../injector/mutation.ts';
import type { Container, NamespaceInfo, Pod } from '../../injector/pod.ts';
import { ns } from './fixtures/pods.ts';
import { assertValidPod, testConfig } from './support.ts';

const pod = (): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'api-0', namespace: 'shop', annotations: { 'tracebridge.io/inject': 'true' } },
  spec: { containers: [{ name: 'api', image: 'shop/api:1' }] },
});

function sidecarOf(config: Record<string, unknown>, namespace: NamespaceInfo): Container {
  const cfg = testConfig(config);
  const decision = decide(pod(), namespace, decisionPolicy(cfg));
  const { pod: out } = injectSidecar(pod(), { settings: sidecarSettings(cfg), mode: chooseMode('true', { unknown: '' }), decision, version: 'v', namespace });
  assertValidPod(out);
  return out.spec!.initContainers!.at(-1)!;
}

const sc = (c: Container) => c.securityContext as Record<string, unknown>;

describe('injector: a sidecar the API server admits', () => {
  it('runs as 65532 by default (run_as_user: auto)', () => {
    const c = sidecarOf({}, ns('shop'));
    assert.equal(sc(c).runAsUser, 65532);
    assert.equal(sc(c).runAsGroup, 65532);
    assert.equal(sc(c).runAsNonRoot, true);
  });

  it('leaves the UID to OpenShift in namespaces with openshift.io/sa.scc.uid-range, still non-root', () => {
    const c = sidecarOf({}, ns('shop', {}, { 'openshift.io/sa.scc.uid-range': '1000680000/10000', 'openshift.io/sa.scc.supplemental-groups': '1000680000/10000' }));
    assert.equal(sc(c).runAsUser, undefined);
    assert.equal(sc(c).runAsGroup, undefined);
    assert.equal(sc(c).runAsNonRoot, true, 'the restricted profile still holds');
  });

  it('takes a fixed UID and GID, even there', () => {
    const c = sidecarOf({ sidecar: { run_as_user: 10001, run_as_group: 20002 } }, ns('shop', {}, { 'openshift.io/sa.scc.uid-range': '1000680000/10000' }));
    assert.equal(sc(c).runAsUser, 10001);
    assert.equal(sc(c).runAsGroup, 20002);
  });

  it('refuses a UID that is neither a number nor auto, naming the path', () => {
    assert.throws(() => testConfig({ sidecar: { run_as_user: 'root' } }), /sidecar\.run_as_user: expected a UID from 1 to 2147483647, or auto/);
    assert.throws(() => testConfig({ sidecar: { run_as_user: 0 } }), /sidecar\.run_as_user/);
  });

  it('sets a CPU limit when the config names one (a ResourceQuota on limits.cpu needs it), none otherwise', () => {
    assert.equal((sidecarOf({}, ns('shop')).resources as { limits: Record<string, string> }).limits.cpu, undefined);
    const limited = sidecarOf({ sidecar: { resources: { requests: { cpu: '10m', memory: '96Mi' }, limits: { cpu: '200m', memory: '192Mi' } } } }, ns('shop'));
    assert.deepEqual(limited.resources, { requests: { cpu: '10m', memory: '96Mi' }, limits: { cpu: '200m', memory: '192Mi' } });
  });

  it('tells the sidecar how it stops: classic keeps its receivers open for the app’s final flush, native does not need to', () => {
    const env = (native: boolean) => {
      const cfg = testConfig({ sidecar: { native } });
      const decision = decide(pod(), ns('shop'), decisionPolicy(cfg));
      const { pod: out } = injectSidecar(pod(), { settings: sidecarSettings(cfg), mode: chooseMode(native ? 'true' : 'false', { unknown: '' }), decision, version: 'v' });
      const c = native ? out.spec!.initContainers!.at(-1)! : out.spec!.containers!.at(-1)!;
      return new Map(c.env!.map((e) => [e.name, e.value]));
    };
    assert.equal(env(false).get('TRACEBRIDGE_SIDECAR_MODE'), 'classic');
    assert.equal(env(true).get('TRACEBRIDGE_SIDECAR_MODE'), 'native');
  });
});
