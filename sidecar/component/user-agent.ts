// Every exporter identifies itself as `tracebridge/<version> (<exporter type>)`. Besides being
// polite, this is how spans that a mesh proxy records for the sidecar's own export calls are
// recognised and dropped (the tracebridge_selffilter processor): the sidecar must not trace itself.
import { VERSION } from '../version.ts';

export const USER_AGENT_PRODUCT = 'tracebridge/';

export function userAgent(exporterType: string): string {
  return `${USER_AGENT_PRODUCT}${VERSION} (${exporterType})`;
}
