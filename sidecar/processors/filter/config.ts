// Config of the `filter` processor (the collector's filterprocessor, traces only): OTTL conditions
// that drop spans and span events. Every condition is parsed and compiled here, so a condition
// outside the supported subset is a config error naming its YAML path, the column, and what is
// not supported.
import { list, object, oneOf, withDefault, type ConfigErrors, type Schema } from '../../config/schema.ts';
import { compileCondition, type OttlContext } from './ottl/compile.ts';
import { OttlError } from './ottl/parser.ts';
import { newConditionKeys } from './ottl/records.ts';

export const FILTER_TYPE = 'filter';

export const ERROR_MODES = ['ignore', 'propagate', 'silent'] as const;
export type ErrorMode = (typeof ERROR_MODES)[number];

/** One OTTL condition, checked by compiling it (the processor compiles it again at start). */
function condition(ctx: OttlContext): Schema<string> {
  return {
    expected: `an OTTL ${ctx} condition`,
    decode(value: unknown, path: string, errors: ConfigErrors) {
      if (value === undefined || value === null) {
        errors.add(path, 'expected a condition, got nothing');
        return undefined;
      }
      if (typeof value !== 'string') {
        // YAML turns an unquoted `true` into a bool: the collector takes only strings.
        errors.add(path, `expected a condition as a string, got ${JSON.stringify(value)} (quote it)`);
        return undefined;
      }
      try {
        compileCondition(value, ctx, newConditionKeys());
      } catch (err) {
        if (!(err instanceof OttlError)) throw err;
        errors.add(path, `${err.message} (column ${err.column} of ${JSON.stringify(value)})`);
        return undefined;
      }
      return value;
    },
  };
}

export const filterConfig = object({
  /**
   * What a condition that fails while being evaluated (a type error only the data reveals) does:
   * ignore (default, as in the collector since v0.150): log it (rate-limited) and treat the
   * condition as false; silent: the same without logging; propagate: refuse the whole batch.
   */
  error_mode: withDefault(oneOf(ERROR_MODES), 'ignore'),
  traces: object({
    /** A span is dropped when any of these is true. */
    span: withDefault(list(condition('span')), []),
    /** A span event is dropped when any of these is true (checked for spans that are kept). */
    spanevent: withDefault(list(condition('spanevent')), []),
  }),
});

export type FilterConfig = typeof filterConfig.defaultValue;
