// The load balancer's own metrics, under the collector's loadbalancingexporter names (Prometheus
// form: counters end in _total), labelled with the exporter ID so two load balancers can coexist.
// Resolvers (static, dns, k8s) count their resolutions through resolutionCounter.
import type { BoundCounter, MetricsRegistry } from '../../telemetry/metrics.ts';

/** Counts one resolver's resolutions, successful or not. */
export interface ResolutionCounter {
  success: BoundCounter;
  failure: BoundCounter;
}

export function resolutionCounter(metrics: MetricsRegistry, exporter: string, resolver: 'static' | 'dns' | 'k8s'): ResolutionCounter {
  const c = metrics.counter('otelcol_loadbalancer_num_resolutions_total', 'Number of times the resolver has resolved the backends (success="false": failed, the last list is kept).');
  return { success: c.bind({ exporter, resolver, success: 'true' }), failure: c.bind({ exporter, resolver, success: 'false' }) };
}

export interface BackendObs {
  /** Sends to `endpoint` that succeeded or failed (each attempt of each part). */
  outcome(endpoint: string, success: boolean): void;
  /** Spans sent to a backend other than the one that first failed them (a retry after the ring changed). */
  rerouted: BoundCounter;
}

export function backendObs(metrics: MetricsRegistry, exporter: string, numBackends: () => number, resolver: string): BackendObs {
  metrics.gauge('otelcol_loadbalancer_num_backends', 'Current number of backends in use.').collect({ exporter, resolver }, numBackends);
  const outcome = metrics.counter('otelcol_loadbalancer_backend_outcome_total', 'Number of send attempts per backend, by outcome.');
  return {
    outcome: (endpoint, success) => outcome.add(1, { exporter, endpoint, success: success ? 'true' : 'false' }),
    rerouted: metrics
      .counter('tracebridge_loadbalancer_rerouted_spans_total', 'Spans retried on a different backend than the one that failed them, after the backends changed.')
      .bind({ exporter }),
  };
}
