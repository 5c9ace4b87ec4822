// Linkerd wiring: linkerd2-proxy exports its spans to the sidecar
// over OTLP on loopback (no identity needed for a loopback collector), through
// `config.linkerd.io/proxy-additional-env`, a JSON list of EnvVar that Linkerd's injector merges
// by name into the proxy's env. LINKERD2_PROXY_TRACE_PROTOCOL is set too: proxies that support
// both protocols have defaulted to OpenCensus, which the sidecar does not receive. The proxy
// emits spans only for requests that arrive with a sampled trace context.
//
// A trace collector the operator already chose is kept: `config.linkerd.io/trace-collector` on
// the pod or its namespace (Linkerd's own annotation, which linkerd-jaeger writes), or
// LINKERD2_PROXY_TRACE_COLLECTOR_SVC_ADDR already in the additional env. Then no proxy env is
// added at all (that collector may speak another protocol) and the status says
// "left: operator set the trace collector".
import * as keys from './annotations.ts';
import { applyMerges, type AnnotationMerge, type WiringResult } from './annotation-merge.ts';
import { portListAnnotation } from './port-list.ts';
import { isRecord, type StringMap } from './pod.ts';

export const LINKERD_COLLECTOR_ENV = 'LINKERD2_PROXY_TRACE_COLLECTOR_SVC_ADDR';
export const LINKERD_PROTOCOL_ENV = 'LINKERD2_PROXY_TRACE_PROTOCOL';
export const LINKERD_TRACE_COLLECTOR = 'config.linkerd.io/trace-collector';

const OPERATOR_SET = 'left: operator set the trace collector';

/**
 * The collector the operator named through config.linkerd.io/trace-collector (the pod's wins over
 * its namespace's, as in Linkerd's injector), as the status should describe it; or undefined.
 */
export function operatorTraceCollector(podAnnotations: StringMap, nsAnnotations: StringMap, nsName: string): string | undefined {
  const own = podAnnotations[LINKERD_TRACE_COLLECTOR];
  if (own !== undefined && own.trim() !== '') return `${LINKERD_TRACE_COLLECTOR}: ${own}`;
  const inherited = nsAnnotations[LINKERD_TRACE_COLLECTOR];
  if (inherited !== undefined && inherited.trim() !== '') return `${LINKERD_TRACE_COLLECTOR}: ${inherited} on namespace ${nsName}`;
  return undefined;
}

/** `operatorCollector`: what operatorTraceCollector found; the additional env is then left alone. */
export function mergeAdditionalEnv(existing: string | undefined, otlpGrpcPort: number, operatorCollector?: string): AnnotationMerge {
  if (operatorCollector !== undefined) return { kept: `${OPERATOR_SET} (${operatorCollector}): ${keys.LINKERD_PROXY_ENV} not changed` };
  let list: unknown[] = [];
  if (existing !== undefined && existing.trim() !== '') {
    let parsed: unknown;
    try {
      parsed = JSON.parse(existing);
    } catch {
      return { malformed: `${keys.LINKERD_PROXY_ENV} is not JSON` };
    }
    if (!Array.isArray(parsed) || !parsed.every((e) => isRecord(e) && typeof e.name === 'string')) {
      return { malformed: `${keys.LINKERD_PROXY_ENV} is not a JSON list of env vars` };
    }
    list = parsed;
  }
  const names = new Set(list.map((e) => (e as { name: string }).name));
  if (names.has(LINKERD_COLLECTOR_ENV)) return { kept: `${OPERATOR_SET} (${keys.LINKERD_PROXY_ENV} already sets ${LINKERD_COLLECTOR_ENV}): kept as is` };
  const added = [{ name: LINKERD_COLLECTOR_ENV, value: `127.0.0.1:${otlpGrpcPort}` }];
  if (!names.has(LINKERD_PROTOCOL_ENV)) added.push({ name: LINKERD_PROTOCOL_ENV, value: 'opentelemetry' });
  return {
    value: JSON.stringify([...list, ...added]),
    note: `${keys.LINKERD_PROXY_ENV} ${added.map((e) => `${e.name}=${e.value}`).join(', ')}${list.length > 0 ? ' (existing entries kept)' : ''}`,
  };
}

/** `operatorCollector`: see operatorTraceCollector. */
export function wireLinkerd(annotations: StringMap, ports: { otlpGrpc: number; skipped: number[] }, operatorCollector?: string): WiringResult {
  return applyMerges(annotations, [
    [keys.LINKERD_PROXY_ENV, mergeAdditionalEnv(annotations[keys.LINKERD_PROXY_ENV], ports.otlpGrpc, operatorCollector)],
    [keys.LINKERD_SKIP_INBOUND_PORTS, portListAnnotation(keys.LINKERD_SKIP_INBOUND_PORTS, 'skip-inbound-ports', annotations[keys.LINKERD_SKIP_INBOUND_PORTS], ports.skipped, true)],
  ]);
}
