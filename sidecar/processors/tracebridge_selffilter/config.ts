// Config of the `tracebridge_selffilter` processor (tracebridge-only). The service puts one with
// these defaults at the head of every traces pipeline that does not list one, so the sidecar never
// traces itself; list it explicitly to move it, change it, or turn it off (`enabled: false`).
import { bool, list, object, string, withDefault } from '../../config/schema.ts';
import { USER_AGENT_PRODUCT } from '../../component/user-agent.ts';

export const SELF_FILTER_TYPE = 'tracebridge_selffilter';

export const selfFilterConfig = object({
  enabled: withDefault(bool(), true),
  /**
   * Span attributes holding the client's User-Agent: Envoy writes `user_agent` (Zipkin tags and its
   * OpenTelemetry tracer) or `user_agent.original` (with semantic conventions on); older OTel HTTP
   * instrumentations write `http.user_agent`.
   */
  attributes: withDefault(list(string({ nonEmpty: true })), ['user_agent', 'user_agent.original', 'http.user_agent']),
  /** User-Agent prefix of the sidecar's own exporters. */
  user_agent_prefix: withDefault(string({ nonEmpty: true }), USER_AGENT_PRODUCT),
});

export type SelfFilterConfig = typeof selfFilterConfig.defaultValue;
