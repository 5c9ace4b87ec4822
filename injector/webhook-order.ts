// Start-up check of the webhook order. The API server calls mutating
// webhook configurations in name order (an implementation detail, not a guarantee): tracebridge
// must come before the mesh injectors, so they read its annotations, and before EKS pod
// identity, so its credentials reach the sidecar too. A pure check over the list the API
// returns; the caller logs each finding as a warning. Reinvocation cannot repair a wrong order:
// a mesh injector that already ran has fixed its proxy's configuration.
import { isRecord } from './pod.ts';

/** Webhooks (by `webhooks[].name`) that must run after tracebridge, and why. */
const MUST_FOLLOW: readonly { pattern: RegExp; what: string }[] = [
  { pattern: /(^|\.)sidecar-injector\.istio\.io$/, what: "Istio's sidecar injector (reads proxy.istio.io/config)" },
  { pattern: /^linkerd-proxy-injector\.linkerd\.io$/, what: "Linkerd's proxy injector (reads config.linkerd.io/*)" },
  { pattern: /^(iam-for-pods|pod-identity-webhook)\.amazonaws\.com$/, what: 'EKS pod identity (adds AWS credentials to every container present)' },
];

export interface OrderFinding {
  configuration: string;
  message: string;
}

export function checkWebhookOrder(list: unknown, ownName: string): OrderFinding[] {
  const items = isRecord(list) && Array.isArray(list.items) ? list.items : [];
  const configs = items.flatMap((item) => {
    if (!isRecord(item) || !isRecord(item.metadata) || typeof item.metadata.name !== 'string') return [];
    const hooks = Array.isArray(item.webhooks) ? item.webhooks.flatMap((w) => (isRecord(w) && typeof w.name === 'string' ? [w.name] : [])) : [];
    return [{ name: item.metadata.name, hooks }];
  });
  const findings: OrderFinding[] = [];
  if (!configs.some((c) => c.name === ownName)) {
    findings.push({ configuration: ownName, message: `MutatingWebhookConfiguration ${ownName} not found (mesh.webhook_configuration): the order cannot be checked` });
    return findings;
  }
  for (const c of configs) {
    if (c.name === ownName) continue;
    const follow = MUST_FOLLOW.find((f) => c.hooks.some((h) => f.pattern.test(h)));
    // Name order as the API server sorts: by byte value.
    if (follow !== undefined && Buffer.compare(Buffer.from(c.name), Buffer.from(ownName)) < 0) {
      findings.push({
        configuration: c.name,
        message: `${c.name} (${follow.what}) sorts before ${ownName} and runs first: rename ${ownName} to sort earlier (e.g. 0-tracebridge-injector)`,
      });
    }
  }
  return findings;
}
