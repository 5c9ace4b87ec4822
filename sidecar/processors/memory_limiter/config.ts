// Config of the `memory_limiter` processor, with the collector's memorylimiterprocessor fields.
// The hard limit is limit_mib, or limit_percentage of the memory available to the container
// (cgroup memory.max, else the machine's total) less the file-backed pages the measure reserves
// (memory.ts). Above the soft limit (hard minus spike) new data is refused with a retryable error.
import { duration, int, object, withDefault } from '../../config/schema.ts';

export const memoryLimiterConfig = object(
  {
    /** How often memory is measured. Required, as in the collector (1s is the usual value). */
    check_interval: withDefault(duration({ min: 0, max: 60_000 }), 0),
    /** Hard limit in MiB; wins over limit_percentage. */
    limit_mib: withDefault(int({ min: 0 }), 0),
    /** Expected growth between checks, MiB; soft limit = limit - spike. Default 20% of the limit. */
    spike_limit_mib: withDefault(int({ min: 0 }), 0),
    /** Hard limit as a percentage of the container's memory limit (cgroup) or total memory. */
    limit_percentage: withDefault(int({ min: 0, max: 100 }), 0),
    spike_limit_percentage: withDefault(int({ min: 0, max: 100 }), 0),
    /** Least time between forced garbage collections while above the soft limit (the collector's default). */
    min_gc_interval_when_soft_limited: withDefault(duration({ min: 0 }), 10_000),
    /** Least time between forced garbage collections while above the hard limit; 0: at every check. */
    min_gc_interval_when_hard_limited: withDefault(duration({ min: 0 }), 0),
  },
  {
    check(cfg, path, errors) {
      if (cfg.check_interval <= 0) errors.add(`${path}.check_interval`, 'required: a duration > 0, e.g. 1s');
      if (cfg.limit_mib === 0 && cfg.limit_percentage === 0) {
        errors.add(path, 'set limit_mib or limit_percentage');
      }
      if (cfg.limit_mib > 0 && cfg.spike_limit_mib >= cfg.limit_mib) errors.add(`${path}.spike_limit_mib`, 'must be less than limit_mib');
      if (cfg.limit_mib === 0 && cfg.limit_percentage > 0 && cfg.spike_limit_percentage >= cfg.limit_percentage) {
        errors.add(`${path}.spike_limit_percentage`, 'must be less than limit_percentage');
      }
    },
  },
);

export type MemoryLimiterConfig = typeof memoryLimiterConfig.defaultValue;
