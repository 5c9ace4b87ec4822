// Config of the `resource` processor (the collector-contrib resourceprocessor's fields):
// `attributes`, actions applied in order to the attributes of each resource.
import { object, withDefault, type ConfigErrors } from '../../config/schema.ts';
import { actionsSchema, type Action } from '../internal/attraction/actions.ts';

export const resourceConfig = object(
  {
    /** The actions, in order (insert, update, upsert, delete, hash, extract, convert). */
    attributes: withDefault(actionsSchema, [] as Action[]),
  },
  {
    check(cfg, path, errors: ConfigErrors) {
      // As the collector: a resource processor without actions is a mistake.
      if (path !== '' && cfg.attributes.length === 0 && !errors.any()) errors.add(`${path}.attributes`, 'at least one action is required');
    },
  },
);

export type ResourceConfig = typeof resourceConfig.defaultValue;
