// Config of the `tracecontext` processor.
import { duration, object, oneOf, string, withDefault } from '../../config/schema.ts';
import { DEFAULT_REWRITE_WINDOW_SECONDS, rewriteWindowError } from '../../tracecontext/index.ts';

export const tracecontextConfig = object(
  {
    /**
     * keep: IDs pass unchanged (X-Ray's OTLP endpoint and most backends need nothing else).
     * rewrite: IDs legacy X-Ray ingestion would reject get the deterministic rewrite (opt-in,
     * for a pipeline that feeds only a legacy X-Ray path). drop: such spans are dropped.
     */
    on_invalid: withDefault(oneOf(['keep', 'rewrite', 'drop']), 'keep'),
    /** Bucket width of the rewrite; a trace splits with probability ≈ its duration / window. */
    rewrite_window: withDefault(duration(), DEFAULT_REWRITE_WINDOW_SECONDS * 1000),
    /** Span attribute that keeps the original trace ID (hex); empty to not record it. */
    original_id_attribute: withDefault(string(), 'tracebridge.original_trace_id'),
  },
  {
    check(cfg, path, errors) {
      const seconds = cfg.rewrite_window / 1000;
      const why = rewriteWindowError(seconds);
      if (why !== undefined) errors.add(`${path}.rewrite_window`, why);
    },
  },
);

export type TracecontextConfig = typeof tracecontextConfig.defaultValue;
