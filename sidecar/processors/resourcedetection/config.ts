// Config of the `resourcedetection` processor (the collector-contrib resourcedetectionprocessor's
// fields). Only the `env` detector exists here: in a pod the injector puts the Kubernetes facts
// (k8s.pod.name, k8s.namespace.name, ...) into the sidecar's OTEL_RESOURCE_ATTRIBUTES.
import { bool, duration, list, object, oneOf, withDefault } from '../../config/schema.ts';

export const resourceDetectionConfig = object({
  detectors: withDefault(list(oneOf(['env'])), ['env'] as 'env'[]),
  /** Detected attributes replace a resource's attributes of the same key (collector default true). */
  override: withDefault(bool(), true),
  /** Detection time limit (the env detector is instant; kept for collector compatibility). */
  timeout: withDefault(duration({ min: 1 }), 5_000),
});

export type ResourceDetectionConfig = typeof resourceDetectionConfig.defaultValue;
