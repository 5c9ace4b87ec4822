// Zipkin's proto3 encoding (`Content-Type: application/x-protobuf`), written here from
// openzipkin/zipkin-api zipkin.proto (package zipkin.proto3). Envoy sends it with
// `collector_endpoint_version: HTTP_PROTO`.
//
// Field numbers and wire types (LEN = length-delimited, I64 = fixed64, VARINT):
//   ListOfSpans  1 spans           LEN repeated Span
//   Span         1 trace_id LEN (8 or 16 bytes)   2 parent_id LEN (8)   3 id LEN (8)
//                4 kind VARINT enum (0 unspecified, 1 CLIENT, 2 SERVER, 3 PRODUCER, 4 CONSUMER)
//                5 name LEN   6 timestamp I64 fixed64 (epoch µs)   7 duration VARINT uint64 (µs)
//                8 local_endpoint LEN Endpoint   9 remote_endpoint LEN Endpoint
//                10 annotations LEN repeated Annotation   11 tags LEN map<string,string>
//                12 debug VARINT bool   13 shared VARINT bool
//   Endpoint     1 service_name LEN   2 ipv4 LEN (4 bytes)   3 ipv6 LEN (16 bytes)   4 port VARINT int32
//   Annotation   1 timestamp I64 fixed64 (epoch µs)   2 value LEN
// protobufjs is loaded on the first protobuf request, not at import (see pdata/otlp-schema.ts).
import { createRequire } from 'node:module';
import type protobuf from 'protobufjs/light.js';
import { isAllZero } from '../../tracecontext/hex.ts';
import {
  formatIPv4,
  formatIPv6,
  padTraceId,
  ZipkinFormatError,
  type ZipkinAnnotation,
  type ZipkinEndpoint,
  type ZipkinSpan,
} from './model.ts';

const descriptor = {
  nested: {
    zipkin: {
      nested: {
        Endpoint: {
          fields: {
            serviceName: { type: 'string', id: 1 },
            ipv4: { type: 'bytes', id: 2 },
            ipv6: { type: 'bytes', id: 3 },
            port: { type: 'int32', id: 4 },
          },
        },
        Annotation: { fields: { timestamp: { type: 'fixed64', id: 1 }, value: { type: 'string', id: 2 } } },
        Span: {
          fields: {
            traceId: { type: 'bytes', id: 1 },
            parentId: { type: 'bytes', id: 2 },
            id: { type: 'bytes', id: 3 },
            kind: { type: 'int32', id: 4 },
            name: { type: 'string', id: 5 },
            timestamp: { type: 'fixed64', id: 6 },
            duration: { type: 'uint64', id: 7 },
            localEndpoint: { type: 'Endpoint', id: 8 },
            remoteEndpoint: { type: 'Endpoint', id: 9 },
            annotations: { rule: 'repeated', type: 'Annotation', id: 10 },
            tags: { keyType: 'string', type: 'string', id: 11 },
            debug: { type: 'bool', id: 12 },
            shared: { type: 'bool', id: 13 },
          },
        },
        ListOfSpans: { fields: { spans: { rule: 'repeated', type: 'Span', id: 1 } } },
      },
    },
  },
};

let listOfSpans: protobuf.Type | undefined;

/** The protobufjs type of zipkin.proto3.ListOfSpans (loads protobufjs on first call). */
export function listOfSpansType(): protobuf.Type {
  listOfSpans ??= (createRequire(import.meta.url)('protobufjs/light.js') as typeof protobuf).Root.fromJSON(descriptor).lookupType('zipkin.ListOfSpans');
  return listOfSpans;
}

// protobufjs hands 64-bit fields over as Long (long.js) or, when small, as numbers.
type Int64 = number | { toNumber(): number };
const toNumber = (v: Int64 | null | undefined): number => (v == null ? 0 : typeof v === 'number' ? v : v.toNumber());

interface PbEndpoint {
  serviceName: string;
  ipv4: Uint8Array;
  ipv6: Uint8Array;
  port: number;
}
interface PbSpan {
  traceId: Uint8Array;
  parentId: Uint8Array;
  id: Uint8Array;
  kind: number;
  name: string;
  timestamp: Int64;
  duration: Int64;
  localEndpoint: PbEndpoint | null | undefined;
  remoteEndpoint: PbEndpoint | null | undefined;
  annotations: { timestamp: Int64; value: string }[];
  tags: Record<string, string>;
  debug: boolean;
  shared: boolean;
}

const KINDS = ['', 'CLIENT', 'SERVER', 'PRODUCER', 'CONSUMER'];

function endpoint(e: PbEndpoint | null | undefined, where: string): ZipkinEndpoint | undefined {
  if (e == null) return undefined;
  const { ipv4, ipv6 } = e;
  if (ipv4.length !== 0 && ipv4.length !== 4) throw new ZipkinFormatError(`${where}.ipv4: expected 4 bytes, got ${ipv4.length}`);
  if (ipv6.length !== 0 && ipv6.length !== 16) throw new ZipkinFormatError(`${where}.ipv6: expected 16 bytes, got ${ipv6.length}`);
  if (e.port < 0 || e.port > 65535) throw new ZipkinFormatError(`${where}.port: expected 0..65535, got ${e.port}`);
  return {
    serviceName: e.serviceName,
    ipv4: ipv4.length === 4 ? formatIPv4(ipv4) : '',
    ipv6: ipv6.length === 16 ? formatIPv6(ipv6) : '',
    port: e.port,
  };
}

/** Decodes a proto3 ListOfSpans. Throws ZipkinFormatError (answered 400). */
export function decodeZipkinProto(body: Uint8Array): ZipkinSpan[] {
  let list: { spans: PbSpan[] };
  try {
    list = listOfSpansType().decode(body) as unknown as { spans: PbSpan[] };
  } catch (err) {
    throw new ZipkinFormatError(`malformed Zipkin proto3 ListOfSpans: ${(err as Error).message}`);
  }
  const out: ZipkinSpan[] = new Array<ZipkinSpan>(list.spans.length);
  for (let i = 0; i < list.spans.length; i++) {
    const s = list.spans[i]!;
    const where = `spans[${i}]`;
    if (s.traceId.length !== 8 && s.traceId.length !== 16) {
      throw new ZipkinFormatError(`${where}.trace_id: expected 8 or 16 bytes, got ${s.traceId.length}`);
    }
    if (isAllZero(s.traceId, 0, s.traceId.length)) throw new ZipkinFormatError(`${where}.trace_id: must not be zero`);
    if (s.id.length !== 8) throw new ZipkinFormatError(`${where}.id: expected 8 bytes, got ${s.id.length}`);
    if (isAllZero(s.id, 0, s.id.length)) throw new ZipkinFormatError(`${where}.id: must not be zero`);
    if (s.parentId.length !== 0 && s.parentId.length !== 8) {
      throw new ZipkinFormatError(`${where}.parent_id: expected 8 bytes, got ${s.parentId.length}`);
    }
    const annotations: ZipkinAnnotation[] = new Array<ZipkinAnnotation>(s.annotations.length);
    for (let j = 0; j < s.annotations.length; j++) {
      const a = s.annotations[j]!;
      annotations[j] = { timestampUs: toNumber(a.timestamp), value: a.value };
    }
    out[i] = {
      traceId: padTraceId(s.traceId),
      id: s.id,
      parentId: s.parentId.length === 8 && !isAllZero(s.parentId, 0, 8) ? s.parentId : undefined,
      kind: KINDS[s.kind] ?? '',
      name: s.name,
      timestampUs: toNumber(s.timestamp),
      durationUs: toNumber(s.duration),
      localEndpoint: endpoint(s.localEndpoint, `${where}.local_endpoint`),
      remoteEndpoint: endpoint(s.remoteEndpoint, `${where}.remote_endpoint`),
      annotations,
      tags: s.tags,
      shared: s.shared,
      debug: s.debug,
    };
  }
  return out;
}
