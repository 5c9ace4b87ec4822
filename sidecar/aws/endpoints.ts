// AWS endpoint facts shared by the sigv4auth extension, the embedded default config and the
// otlphttp exporter: what a host name says about its service and region, and the quotas of
// X-Ray's OTLP endpoint (https://xray.<region>.amazonaws.com/v1/traces).

/** `<service>.<region>.amazonaws.com` (and .com.cn) hosts name their signing service and region. */
const AWS_HOST = /^([a-z0-9-]+)\.([a-z]{2}(?:-[a-z]+)+-\d+)\.amazonaws\.com(?:\.cn)?$/;

export function inferFromHost(host: string): { service: string; region: string } | undefined {
  const m = AWS_HOST.exec(host.toLowerCase());
  return m === null ? undefined : { service: m[1]!, region: m[2]! };
}

/** The region of an X-Ray OTLP endpoint URL, or undefined when the URL is not one. */
export function xrayOtlpRegion(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  const host = inferFromHost(parsed.hostname);
  return parsed.protocol === 'https:' && host?.service === 'xray' ? host.region : undefined;
}

/**
 * X-Ray's OTLP endpoint quotas (AWS documentation, "Transaction Search" OTLP limits): a request
 * holds at most 10,000 spans and 5 MB of uncompressed payload; a span is at most 200 KB. Requests
 * over them are refused (413) whole. Decimal units, as AWS writes them, so the caps hold whichever
 * unit the service counts in.
 */
export const XRAY_OTLP_QUOTAS = { maxSpans: 10_000, maxBytes: 5_000_000, maxSpanBytes: 200_000 } as const;
