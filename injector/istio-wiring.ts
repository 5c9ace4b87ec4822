// Istio wiring: Envoy's Zipkin tracer pointed at the sidecar through
// `proxy.istio.io/config`, and the sidecar's externally reached ports kept out of Envoy.
//
// Istio copies the annotation into the proxy's bootstrap at injection, and the annotation's
// `tracing` replaces the mesh-wide `defaultConfig.tracing` as a whole, so the block written here
// is complete (tracer, sampling, path tag length, custom tags). It is merged into an existing
// value (JSON stays JSON, YAML stays YAML) without losing other keys. A `tracing` block that
// already names a tracer is the operator's choice and is kept; a malformed value is left
// untouched. Envoy uses this tracer only while no Telemetry resource configures tracing for the
// workload and `meshConfig.enableTracing` is true.
import { parseDocument, stringify } from 'yaml';
import * as keys from './annotations.ts';
import type { InjectorConfig } from './config.ts';
import { applyMerges, type AnnotationMerge, type WiringResult } from './annotation-merge.ts';
import { portListAnnotation } from './port-list.ts';
import { isRecord, type StringMap } from './pod.ts';

export type IstioSettings = InjectorConfig['mesh']['istio'];

const TRACERS = ['zipkin', 'lightstep', 'datadog', 'stackdriver', 'openCensusAgent', 'open_census_agent'];

export function tracingBlock(settings: IstioSettings, zipkinPort: number): Record<string, unknown> {
  const block: Record<string, unknown> = {
    zipkin: { address: `127.0.0.1:${zipkinPort}` },
    sampling: settings.sampling,
    max_path_tag_length: settings.max_path_tag_length,
  };
  const tags = Object.entries(settings.custom_tags);
  if (tags.length > 0) block.custom_tags = Object.fromEntries(tags.map(([k, v]) => [k, { literal: { value: v } }]));
  return block;
}

/** Merges the tracing block into an existing `proxy.istio.io/config` value. */
export function mergeProxyConfig(existing: string | undefined, tracing: Record<string, unknown>): AnnotationMerge {
  if (existing === undefined || existing.trim() === '') {
    return { value: stringify({ tracing }, { lineWidth: 0 }), note: 'proxy.istio.io/config tracing set' };
  }
  const doc = parseDocument(existing, { uniqueKeys: true });
  if (doc.errors.length > 0) return { malformed: `proxy.istio.io/config does not parse (${doc.errors[0]!.message.split('\n')[0]})` };
  const config: unknown = doc.toJS();
  if (!isRecord(config)) return { malformed: 'proxy.istio.io/config is not a map' };
  const theirs = config.tracing;
  if (theirs !== undefined && theirs !== null && !isRecord(theirs)) return { malformed: 'proxy.istio.io/config tracing is not a map' };
  if (isRecord(theirs) && TRACERS.some((t) => theirs[t] !== undefined)) {
    return { kept: 'proxy.istio.io/config already configures a tracer: kept as is' };
  }
  // A tracing block without a tracer (say, only sampling) is completed: the operator's fields
  // win, ours fill the rest. Custom tag spellings (custom_tags / customTags) are one field.
  const merged: Record<string, unknown> = { ...tracing };
  for (const [k, v] of Object.entries(isRecord(theirs) ? theirs : {})) {
    const key = k === 'customTags' ? 'custom_tags' : k === 'maxPathTagLength' ? 'max_path_tag_length' : k;
    merged[key] = key === 'custom_tags' && isRecord(v) && isRecord(merged.custom_tags) ? { ...merged.custom_tags, ...v } : v;
  }
  const out = { ...config, tracing: merged };
  const json = existing.trimStart().startsWith('{');
  return {
    value: json ? JSON.stringify(out) : stringify(out, { lineWidth: 0 }),
    note: isRecord(theirs) ? 'proxy.istio.io/config tracing completed (existing fields kept)' : 'proxy.istio.io/config tracing added (other keys kept)',
  };
}

/** Writes the Istio annotations into `annotations` (a copy owned by the caller). */
export function wireIstio(annotations: StringMap, settings: IstioSettings, ports: { zipkin: number; excluded: number[] }): WiringResult {
  const proxy = mergeProxyConfig(annotations[keys.ISTIO_PROXY_CONFIG], tracingBlock(settings, ports.zipkin));
  return applyMerges(annotations, [
    [keys.ISTIO_PROXY_CONFIG, 'value' in proxy ? { ...proxy, note: `${proxy.note}: zipkin 127.0.0.1:${ports.zipkin}, sampling ${settings.sampling}%` } : proxy],
    [keys.ISTIO_EXCLUDE_INBOUND_PORTS, portListAnnotation(keys.ISTIO_EXCLUDE_INBOUND_PORTS, 'excludeInboundPorts', annotations[keys.ISTIO_EXCLUDE_INBOUND_PORTS], ports.excluded, false)],
  ]);
}
