// Config of the `health_check` extension (the collector's healthcheckextension fields).
import { endpoint, object, string, withDefault } from '../../config/schema.ts';

export const healthCheckConfig = object({
  /** 0.0.0.0 by default: kubelet probes come from outside the pod's loopback. */
  endpoint: withDefault(endpoint(), '0.0.0.0:13133'),
  path: withDefault(string({ pattern: /^\//, patternHint: 'a path starting with /' }), '/'),
});

export type HealthCheckConfig = typeof healthCheckConfig.defaultValue;
