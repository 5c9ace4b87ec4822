// The injector's Prometheus metrics, on the sidecar's registry (shared through sidecar/public.ts):
// the same text exposition (0.0.4), label escaping and `_total` counter names.
import { MetricsRegistry } from '../sidecar/public.ts';

export class InjectorMetrics {
  private readonly registry = new MetricsRegistry();
  readonly httpRequests = this.registry.counter('tracebridge_injector_http_requests_total', 'HTTP requests by path and status code.');
  readonly admissionReviews = this.registry.counter('tracebridge_injector_admission_reviews_total', 'AdmissionReview requests answered, by outcome (patched, allowed, malformed, fail_open) and dry_run.');
  readonly decisions = this.registry.counter('tracebridge_injector_decisions_total', 'Injection decisions by inject (true/false) and reason.');
  readonly errors = this.registry.counter('tracebridge_injector_errors_total', 'Errors by kind (internal, malformed, kubernetes_api, tls_reload, body_too_large).');
  readonly failOpen = this.registry.counter('tracebridge_injector_fail_open_total', 'Admission requests answered allowed without a patch because of an internal error.');
  readonly namespaceUnknown = this.registry.counter('tracebridge_injector_namespace_unknown_total', 'Decisions made on the pod alone because namespace metadata was unavailable.');
  readonly kubeRequests = this.registry.counter('tracebridge_injector_kubernetes_requests_total', 'Kubernetes API requests by operation and result.');
  readonly tlsReloads = this.registry.counter('tracebridge_injector_tls_reloads_total', 'TLS key pair reloads by result (ok, error).');
  readonly certNotAfter = this.registry.gauge('tracebridge_injector_tls_certificate_not_after_seconds', 'Expiry of the serving certificate (Unix seconds).');
  readonly meshWiring = this.registry.counter('tracebridge_injector_mesh_wiring_total', 'Mesh wiring outcomes by mesh and result (applied, partial, skipped_late, disabled).');
  readonly webhookOrderProblems = this.registry.gauge('tracebridge_injector_webhook_order_problems', 'Webhook configurations found at start-up that run before this injector but must run after it (-1: not checked).');
  readonly configMapValidations = this.registry.counter(
    'tracebridge_injector_configmap_validations_total',
    'Sidecar ConfigMap reviews (POST /validate-configmap) by outcome (valid, warned, denied, skipped, malformed, fail_open).',
  );

  render(): string {
    return this.registry.render();
  }
}
