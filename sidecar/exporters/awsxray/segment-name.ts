// Segment `name` and `namespace`, in the collector's priority order (segment.go MakeSegment):
//  1. SERVER: `aws.local.service`; INTERNAL with `aws.span.kind: LOCAL_ROOT`: `aws.local.service`;
//     CLIENT / PRODUCER / CONSUMER: `aws.remote.service` (AWS SDK spans lose an `AWS.SDK.` or
//     `AWS::` prefix);
//  2. `peer.service`;
//  3. `aws.service` (namespace `aws`);
//  4. `db.name`, plus `@<host>` from `db.connection_string` (a `jdbc:` prefix is ignored);
//  5. SERVER only: the resource's `service.name`;
//  6. `rpc.service`; 7. `http.host`; 8. `net.peer.name`;
//  9. the span name.
// Namespace: `aws` for AWS SDK spans (rpc.system aws-api) and names from `aws.service`; else
// `remote` for CLIENT spans, and for PRODUCER/CONSUMER subsegments with `aws.remote.service`.
// The result is cleaned and cut by fixSegmentName (names.ts).
import type { AnyValue } from '../../pdata/otlp-schema.ts';
import { SpanKind } from '../../pdata/otlp-schema.ts';
import { asText, type SpanAttributes } from './attributes.ts';
import { fixSegmentName } from './names.ts';

export function isAwsSdkSpan(attrs: SpanAttributes): boolean {
  return attrs.text('rpc.system') === 'aws-api';
}

function trimAwsSdkPrefix(name: string, awsSdk: boolean): string {
  if (!awsSdk) return name;
  if (name.startsWith('AWS.SDK.')) return name.slice('AWS.SDK.'.length);
  if (name.startsWith('AWS::')) return name.slice('AWS::'.length);
  return name;
}

function dbHost(connection: string): string | undefined {
  const text = connection.startsWith('jdbc:') ? connection.slice(5) : connection;
  try {
    const host = new URL(text).hostname;
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}

export function segmentNameAndNamespace(
  kind: number,
  spanName: string,
  attrs: SpanAttributes,
  resource: ReadonlyMap<string, AnyValue>,
  isSubsegment: boolean,
): { name: string; namespace: 'aws' | 'remote' | undefined } {
  const awsSdk = isAwsSdkSpan(attrs);
  const t = (k: string) => {
    const v = attrs.text(k);
    return v === '' ? undefined : v;
  };
  const outgoing = kind === SpanKind.CLIENT || kind === SpanKind.PRODUCER || kind === SpanKind.CONSUMER;
  let namespace: 'aws' | 'remote' | undefined = awsSdk ? 'aws' : undefined;
  let name: string | undefined;

  if (kind === SpanKind.SERVER || (kind === SpanKind.INTERNAL && t('aws.span.kind') === 'LOCAL_ROOT')) name = t('aws.local.service');
  if (outgoing) {
    const remote = t('aws.remote.service');
    if (remote !== undefined) name = trimAwsSdkPrefix(remote, awsSdk);
  }
  name ??= t('peer.service');
  if (name === undefined) {
    name = t('aws.service');
    if (name !== undefined) namespace ??= 'aws';
  }
  if (name === undefined) {
    const db = t('db.name');
    if (db !== undefined) {
      const conn = t('db.connection_string');
      const host = conn === undefined ? undefined : dbHost(conn);
      name = host === undefined ? db : `${db}@${host}`;
    }
  }
  if (name === undefined && kind === SpanKind.SERVER) {
    const svc = resource.get('service.name');
    const s = svc === undefined ? undefined : asText(svc);
    if (s !== undefined && s !== '') name = s;
  }
  name ??= t('rpc.service') ?? t('http.host') ?? t('net.peer.name') ?? spanName;

  if (namespace === undefined && kind === SpanKind.CLIENT) namespace = 'remote';
  if (namespace === undefined && isSubsegment && outgoing && attrs.has('aws.remote.service')) namespace = 'remote';
  return { name: fixSegmentName(name), namespace };
}
