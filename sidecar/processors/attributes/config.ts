// Config of the `attributes` processor (the collector-contrib attributesprocessor's fields, for
// traces): `actions` applied in order to the attributes of each span, optionally only to spans
// that match `include` and do not match `exclude`.
import { object, withDefault, type ConfigErrors } from '../../config/schema.ts';
import { actionsSchema, type Action } from '../internal/attraction/actions.ts';
import { matchRuleSchema } from './match.ts';

export const attributesConfig = object(
  {
    /** The actions, in order (insert, update, upsert, delete, hash, extract, convert). */
    actions: withDefault(actionsSchema, [] as Action[]),
    /** Only spans matching this rule are processed. */
    include: matchRuleSchema,
    /** Spans matching this rule are not processed (checked after include). */
    exclude: matchRuleSchema,
  },
  {
    check(cfg, path, errors: ConfigErrors) {
      // The collector refuses an attributes processor without actions: it would do nothing.
      if (path !== '' && cfg.actions.length === 0 && !errors.any()) errors.add(`${path}.actions`, 'at least one action is required');
    },
  },
);

export type AttributesConfig = typeof attributesConfig.defaultValue;
