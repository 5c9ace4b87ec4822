// The injector's Prometheus metrics, rendered in the text exposition format (version 0.0.4).
// A handful of counters does not justify prom-client; counters end in `_total` as the
// OpenMetrics-compatible exposition expects.

type Labels = Readonly<Record<string, string>>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function labelText(labels: Labels): string {
  const keys = Object.keys(labels).sort();
  return keys.length === 0 ? '' : `{${keys.map((k) => `${k}="${escapeLabel(labels[k]!)}"`).join(',')}}`;
}

export class Series {
  readonly name: string;
  readonly help: string;
  readonly type: 'counter' | 'gauge';
  private readonly values = new Map<string, number>();

  constructor(name: string, help: string, type: 'counter' | 'gauge') {
    this.name = name;
    this.help = help;
    this.type = type;
  }

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  set(value: number, labels: Labels = {}): void {
    this.values.set(labelText(labels), value);
  }

  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels)) ?? 0;
  }

  render(): string {
    let out = `# HELP ${this.name} ${this.help}\n# TYPE ${this.name} ${this.type}\n`;
    for (const [labels, value] of this.values) out += `${this.name}${labels} ${value}\n`;
    return out;
  }
}

export class InjectorMetrics {
  readonly httpRequests = new Series('tracebridge_injector_http_requests_total', 'HTTP requests by path and status code.', 'counter');
  readonly admissionReviews = new Series('tracebridge_injector_admission_reviews_total', 'AdmissionReview requests answered, by outcome (patched, allowed, malformed, fail_open) and dry_run.', 'counter');
  readonly decisions = new Series('tracebridge_injector_decisions_total', 'Injection decisions by inject (true/false) and reason.', 'counter');
  readonly errors = new Series('tracebridge_injector_errors_total', 'Errors by kind (internal, malformed, kubernetes_api, tls_reload, body_too_large).', 'counter');
  readonly failOpen = new Series('tracebridge_injector_fail_open_total', 'Admission requests answered allowed without a patch because of an internal error.', 'counter');
  readonly namespaceUnknown = new Series('tracebridge_injector_namespace_unknown_total', 'Decisions made on the pod alone because namespace metadata was unavailable.', 'counter');
  readonly kubeRequests = new Series('tracebridge_injector_kubernetes_requests_total', 'Kubernetes API requests by operation and result.', 'counter');
  readonly tlsReloads = new Series('tracebridge_injector_tls_reloads_total', 'TLS key pair reloads by result (ok, error).', 'counter');
  readonly certNotAfter = new Series('tracebridge_injector_tls_certificate_not_after_seconds', 'Expiry of the serving certificate (Unix seconds).', 'gauge');
  readonly meshWiring = new Series('tracebridge_injector_mesh_wiring_total', 'Mesh wiring outcomes by mesh and result (applied, partial, skipped_late, disabled).', 'counter');
  readonly webhookOrderProblems = new Series('tracebridge_injector_webhook_order_problems', 'Webhook configurations found at start-up that run before this injector but must run after it (-1: not checked).', 'gauge');

  render(): string {
    return [
      this.httpRequests,
      this.admissionReviews,
      this.decisions,
      this.errors,
      this.failOpen,
      this.namespaceUnknown,
      this.kubeRequests,
      this.tlsReloads,
      this.certNotAfter,
      this.meshWiring,
      this.webhookOrderProblems,
    ]
      .map((s) => s.render())
      .join('');
  }
}
