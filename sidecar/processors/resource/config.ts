// Config of the `resource` processor (the collector-contrib resourceprocessor's fields):
// `attributes`, actions applied in order to the attributes of each resource.
import { object } from '../../config/schema.ts';
import { actionsSchema } from '../internal/attraction/actions.ts';

export const resourceConfig = object(
  {
    /** The actions, in order (insert, update, upsert, delete, hash, extract, convert). */
    attributes: actionsSchema,
  }
);

export type ResourceConfig = typeof resourceConfig.defaultValue;
