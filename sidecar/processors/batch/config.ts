// Config of the `batch` processor (the collector's batchprocessor fields and defaults).
import { duration, int, object, withDefault } from '../../config/schema.ts';

export const batchProcessorConfig = object(
  {
    /** Spans that trigger a send regardless of the timeout. */
    send_batch_size: withDefault(int({ min: 1 }), 8192),
    /** Upper bound of a sent batch in spans; 0 = no bound. Larger batches split at resource/scope/span boundaries. */
    send_batch_max_size: withDefault(int({ min: 0 }), 0),
    /**
     * tracebridge-only: upper bound of a sent batch in encoded bytes; 0 = no bound. Exporters cap
     * their requests again by their own limits, so this is for memory, not for backends.
     */
    send_batch_max_bytes: withDefault(int({ min: 0 }), 0),
    /** Time after the first span of a batch before it is sent anyway. */
    timeout: withDefault(duration({ min: 1, max: 60_000 }), 200),
  },
  {
    check(cfg, path, errors) {
      if (cfg.send_batch_max_size !== 0 && cfg.send_batch_max_size < cfg.send_batch_size) {
        errors.add(`${path}.send_batch_max_size`, 'must be 0 or >= send_batch_size');
      }
    },
  },
);

export type BatchProcessorConfig = typeof batchProcessorConfig.defaultValue;
