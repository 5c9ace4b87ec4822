// Config of the `debug` exporter (the collector's debugexporter fields).
import { int, object, oneOf, withDefault } from '../../config/schema.ts';

export const debugExporterConfig = object({
  /** basic: one summary line per batch; normal: one line per span; detailed: every field. */
  verbosity: withDefault(oneOf(['basic', 'normal', 'detailed']), 'basic'),
  /** Batches printed in full per second before sampling starts. */
  sampling_initial: withDefault(int({ min: 1 }), 2),
  /** After the initial ones, print one batch in this many each second. */
  sampling_thereafter: withDefault(int({ min: 1 }), 1),
});

export type DebugExporterConfig = typeof debugExporterConfig.defaultValue;
