// Run-to-completion pods (Jobs, CronJobs, bare Pods with restartPolicy Never or OnFailure) get
// the sidecar only as a native sidecar: a classic one never exits, so the Job would never complete.
import assert from 'node:assert/strict';
import type { AdmissionHandler } from '../../injector/admission.ts';
import { decide, decisionPolicy, modeAllows } from '../../injector/decision.ts';
import { chooseMode, offlineModeChoice, parseKubeVersionText, type ModeChoice } from '../../injector/mode.ts';
import type { Pod } from '../../injector/pod.ts';
import { ns } from './fixtures/pods.ts';
import { admissionHandler, review, testConfig } from './support.ts';

const otel = [{ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: 'http://otel-gateway.observability:4318' }];

// A Job's pod as the Job controller creates it (the template plus the controller's labels).
const jobPod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    generateName: 'db-migrate-',
    namespace: 'shop',
    labels: { 'batch.kubernetes.io/controller-uid': '0d4c8f5e-2f1b-4a3c-9d5e-7f6a8b9c0d1e', 'batch.kubernetes.io/job-name': 'db-migrate', 'job-name': 'db-migrate' },
    ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'db-migrate', uid: '0d4c8f5e-2f1b-4a3c-9d5e-7f6a8b9c0d1e', controller: true, blockOwnerDeletion: true }],
  },
  spec: { restartPolicy: 'Never', containers: [{ name: 'migrate', image: 'registry.example.com/shop/migrate:12', args: ['up'], env: otel }] },
};
// A CronJob's template: retried in place on failure.
const cronPod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { labels: { app: 'nightly-report' } },
  spec: { restartPolicy: 'OnFailure', containers: [{ name: 'report', image: 'registry.example.com/finance/report:3', env: otel }] },
};
// kubectl run --restart=Never: a bare Pod that runs once.
const barePod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'load-test', namespace: 'perf', labels: { run: 'load-test' } },
  spec: { restartPolicy: 'Never', containers: [{ name: 'k6', image: 'grafana/k6:1.3.0', args: ['run', '/scripts/checkout.js'], env: otel }] },
};
// A Deployment's pod: restartPolicy Always (the API server's default when absent).
const servicePod: Pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'api-0', namespace: 'shop' }, spec: { containers: [{ name: 'api', image: 'registry.example.com/shop/api:7', env: otel }] } };

const classicByVersion = chooseMode('auto', parseKubeVersionText('v1.28.5-eks-5e0fdde')!);
const classicBySetting = chooseMode('false', { unknown: '' });
const classicUnknown = chooseMode('auto', { unknown: 'Kubernetes API unreachable: connect ECONNREFUSED' });
const native = chooseMode('auto', parseKubeVersionText('1.31.2')!);

describe('injector run-to-completion pods', () => {
  for (const [name, pod, restart] of [
    ['Job pod', jobPod, 'Never'],
    ['CronJob template', cronPod, 'OnFailure'],
    ['bare Pod with restartPolicy Never', barePod, 'Never'],
  ] as const) {
    for (const [modeName, mode] of [
      ['sidecar.native: false', classicBySetting],
      ['auto on Kubernetes 1.28', classicByVersion],
      ['auto with the version unknown', classicUnknown],
    ] as const) {
      it(`${name}, classic (${modeName}): not injected, and the reason says why`, () => {
        const refused = modeAllows(pod, mode);
        assert.ok(refused !== undefined);
        assert.equal(refused.inject, false);
        assert.equal(refused.reason, 'run-to-completion-classic');
        assert.match(refused.message, new RegExp(`restartPolicy: ${restart}: a classic sidecar would keep the Job from completing`));
        assert.ok(refused.message.includes(mode.reason), refused.message);
      });
    }
    it(`${name}, native: allowed`, () => {
      assert.equal(modeAllows(pod, native), undefined);
      assert.equal(decide(pod, ns('shop'), decisionPolicy(testConfig())).inject, true);
    });
  }

  it('a pod that keeps running (restartPolicy Always or unset) is allowed in classic mode', () => {
    assert.equal(modeAllows(servicePod, classicBySetting), undefined);
    assert.equal(modeAllows({ ...servicePod, spec: { ...servicePod.spec, restartPolicy: 'Always' } }, classicBySetting), undefined);
  });

  it('offline without --kube-version assumes a supported Kubernetes (native) and says so', () => {
    const m: ModeChoice = offlineModeChoice('auto', undefined);
    assert.equal(m.mode, 'native');
    assert.match(m.reason, /offline, no --kube-version: assuming Kubernetes >= 1\.29 \(native sidecars\)/);
    assert.equal(offlineModeChoice('auto', parseKubeVersionText('1.28')).mode, 'classic');
    assert.equal(offlineModeChoice('false', undefined).mode, 'classic');
    assert.equal(offlineModeChoice('true', parseKubeVersionText('1.27')).mode, 'native');
  });
});

describe('injector admission: run-to-completion pods in classic mode', () => {
  const handler = (mode: ModeChoice) => admissionHandler({ mode: () => Promise.resolve(mode) });
  const send = (h: AdmissionHandler, pod: Pod) =>
    h.review(Buffer.from(JSON.stringify(review(pod)))).then((a) => (a.body as { response: { allowed: boolean; patch?: string } }).response);

  it('answers allowed without a patch, counts and logs the reason', async () => {
    const { h, log, metrics } = handler(classicByVersion);
    const res = await send(h, jobPod);
    assert.equal(res.allowed, true);
    assert.equal(res.patch, undefined);
    assert.equal(metrics.decisions.get({ inject: 'false', reason: 'run-to-completion-classic' }), 1);
    assert.equal(metrics.decisions.get({ inject: 'true', reason: 'auto-otel-env' }), 0);
    const line = log.lines().find((l) => l.msg === 'sidecar not injected')!;
    assert.equal(line.reason, 'run-to-completion-classic');
    assert.match(String(line.detail), /Kubernetes v1\.28\.5-eks-5e0fdde < 1\.29/);
  });

  it('still injects the same Job pod as a native sidecar, and a Deployment pod in classic mode', async () => {
    const { h } = handler(native);
    assert.ok((await send(h, jobPod)).patch !== undefined);
    const { h: classic } = handler(classicByVersion);
    assert.ok((await send(classic, servicePod)).patch !== undefined);
  });
});
