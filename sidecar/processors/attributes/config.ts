// Config of the `attributes` processor (the collector-contrib attributesprocessor's fields, for
// traces): `actions` applied in order to the attributes of each span, optionally only to spans
// that match `include` and do not match `exclude`.
import { object } from '../../config/schema.ts';
import { actionsSchema } from '../internal/attraction/actions.ts';
import { matchRuleSchema } from './match.ts';

export const attributesConfig = object(
  {
    /** The actions, in order (insert, update, upsert, delete, hash, extract, convert). */
    actions: actionsSchema,
    /** Only spans matching this rule are processed. */
    include: matchRuleSchema,
    /** Spans matching this rule are not processed (checked after include). */
    exclude: matchRuleSchema,
  }
);

export type AttributesConfig = typeof attributesConfig.defaultValue;
