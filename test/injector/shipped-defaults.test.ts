// The injector's defaults and the shipped manifests agree: `inject` without --config uses the
// values of the shipped ConfigMap, and the namespaces the policy skips are the ones the webhook's
// namespaceSelector keeps away.
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { decodeInjectorConfig, type InjectorConfig } from '../../injector/config.ts';
import { SHIPPED_CONFIG_DEPLOYMENT_SPECIFIC, shippedConfig } from '../../injector/config-source.ts';
import { INJECTOR_CONFIG_FILE, at, configMapData, findObject, type Obj } from '../mesh-configs/support.ts';

const shipped = (): InjectorConfig => decodeInjectorConfig(parseYaml(configMapData(INJECTOR_CONFIG_FILE)), { requireTls: true });
const webhook = () => (at(findObject('mesh-configs/kubernetes/webhook.yaml', 'MutatingWebhookConfiguration'), 'webhooks') as Obj[])[0]!;

/** A decoded config as plain data, without the given dotted paths. */
function without(cfg: InjectorConfig, paths: readonly string[]): unknown {
  const copy = JSON.parse(JSON.stringify(cfg)) as Record<string, Record<string, unknown>>;
  for (const p of paths) {
    const [a, b] = p.split('.') as [string, string];
    delete copy[a]![b];
  }
  return copy;
}

describe('injector defaults and the shipped manifests', () => {
  it('policy.skip_namespaces defaults to the webhook namespaceSelector NotIn list and the shipped ConfigMap list', () => {
    const defaults = decodeInjectorConfig({ sidecar: { image: 'i' } }, { requireTls: false }).policy.skip_namespaces;
    const expr = (at(webhook(), 'namespaceSelector.matchExpressions') as Obj[]).find((e) => e.key === 'kubernetes.io/metadata.name')!;
    assert.equal(expr.operator, 'NotIn');
    assert.deepEqual([...(expr.values as string[])].sort(), [...defaults].sort());
    assert.deepEqual([...shipped().policy.skip_namespaces].sort(), [...defaults].sort());
    for (const ns of ['kube-system', 'istio-system', 'linkerd', 'linkerd-viz', 'cert-manager', 'tracebridge']) assert.ok(defaults.includes(ns), ns);
  });

  it("the webhook's not-windows matchCondition reads both node OS labels", () => {
    const c = (at(webhook(), 'matchConditions') as { name: string; expression: string }[]).find((x) => x.name === 'not-windows')!;
    assert.match(c.expression, /'kubernetes\.io\/os'/);
    assert.match(c.expression, /'beta\.kubernetes\.io\/os'/);
  });

  it('inject without --config uses the shipped ConfigMap, except its deployment-specific TLS paths', () => {
    assert.deepEqual([...SHIPPED_CONFIG_DEPLOYMENT_SPECIFIC], ['tls.cert_file', 'tls.key_file']);
    assert.deepEqual(without(shippedConfig(), SHIPPED_CONFIG_DEPLOYMENT_SPECIFIC), without(shipped(), SHIPPED_CONFIG_DEPLOYMENT_SPECIFIC));
    // What differs is only what the Deployment mounts: the offline command has no key pair.
    assert.equal(shippedConfig().tls.cert_file, undefined);
    assert.equal(shipped().tls.cert_file, '/tls/tls.crt');
  });
});
