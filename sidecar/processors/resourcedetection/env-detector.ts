// The `env` detector: resource attributes from OTEL_RESOURCE_ATTRIBUTES (`key=value,...`, values
// percent-encoded, OpenTelemetry SDK specification) and OTEL_SERVICE_NAME, which wins for
// service.name. A malformed OTEL_RESOURCE_ATTRIBUTES is discarded whole, as the spec asks.
export type Env = Readonly<Record<string, string | undefined>>;

export interface Detected {
  attributes: Map<string, string>;
  /** Why (part of) the environment was ignored. */
  problem?: string;
}

export function detectEnv(env: Env): Detected {
  const attributes = new Map<string, string>();
  let problem: string | undefined;
  const raw = env.OTEL_RESOURCE_ATTRIBUTES?.trim();
  if (raw) {
    const parsed = new Map<string, string>();
    for (const pair of raw.split(',')) {
      if (pair.trim() === '') continue;
      const eq = pair.indexOf('=');
      const key = eq > 0 ? pair.slice(0, eq).trim() : '';
      if (key === '') {
        problem = `OTEL_RESOURCE_ATTRIBUTES: "${pair.trim()}" is not key=value; the variable is ignored`;
        break;
      }
      try {
        parsed.set(decodeURIComponent(key), decodeURIComponent(pair.slice(eq + 1).trim()));
      } catch {
        problem = `OTEL_RESOURCE_ATTRIBUTES: bad percent-encoding in "${key}"; the variable is ignored`;
        break;
      }
    }
    if (problem === undefined) for (const [k, v] of parsed) attributes.set(k, v);
  }
  const serviceName = env.OTEL_SERVICE_NAME?.trim();
  if (serviceName) attributes.set('service.name', serviceName);
  return { attributes, problem };
}
