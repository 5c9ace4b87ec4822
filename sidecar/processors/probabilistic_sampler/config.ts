// Config of the `probabilistic_sampler` processor: the OpenTelemetry Collector's fields, defaults
// and bounds for traces.
import { bool, int, number, object, oneOf, withDefault } from '../../config/schema.ts';
import { MIN_PROBABILITY } from './sampling.ts';

export const SAMPLER_MODES = ['hash_seed', 'proportional', 'equalizing'] as const;
export type SamplerMode = (typeof SAMPLER_MODES)[number];

export const probabilisticSamplerConfig = object(
  {
    /**
     * Percentage of traces kept; read as a 32-bit float as the collector does. >= 100 keeps all,
     * 0 drops all. Between 0 and 2^-56 (as a ratio) is refused: no threshold expresses it.
     */
    sampling_percentage: withDefault(number({ min: 0 }), 0),
    /** hash_seed mode: the FNV seed. Every sidecar and collector of one tier needs the same. */
    hash_seed: withDefault(int({ min: 0, max: 0xffff_ffff }), 0),
    /** hash_seed (the collector's default), proportional or equalizing (OTEP 235). */
    mode: withDefault(oneOf(SAMPLER_MODES), 'hash_seed'),
    /** Drop spans whose sampling information is missing or broken (true), or keep them (false). */
    fail_closed: withDefault(bool(), true),
    /** Hex digits of the `th` threshold written to tracestate, 1..14. */
    sampling_precision: withDefault(int({ min: 1, max: 14 }), 4),
  },
  {
    check(cfg, path, errors) {
      const ratio = Math.fround(cfg.sampling_percentage) / 100;
      if (ratio > 0 && ratio < MIN_PROBABILITY) {
        errors.add(`${path}.sampling_percentage`, `${cfg.sampling_percentage}% is below the smallest expressible sampling probability 2^-56 (use 0 to drop everything)`);
      }
    },
  },
);

export type ProbabilisticSamplerConfig = typeof probabilisticSamplerConfig.defaultValue;
