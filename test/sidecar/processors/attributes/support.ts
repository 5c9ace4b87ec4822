// Shared by the attributes and resource processor tests: run a processor on a request, read the
// result back with protobufjs, and the AnyValue shorthand.
import { createHash } from 'node:crypto';
import type { TracesConsumer } from '../../../../sidecar/component/component.ts';
import { ConfigErrors } from '../../../../sidecar/config/schema.ts';
import type { AnyValue, KeyValue } from '../../../../sidecar/pdata/otlp-schema.ts';
import type { TracesData } from '../../../../sidecar/pdata/traces.ts';
import { MetricsRegistry } from '../../../../sidecar/telemetry/metrics.ts';
import { silentLogger } from '../../../support/sink.ts';
import { varint } from '../../pdata/framing.ts';

export class Capture implements TracesConsumer {
  got: TracesData[] = [];
  consumeTraces(d: TracesData): Promise<void> {
    this.got.push(d);
    return Promise.resolve();
  }
}

export const settings = { id: 'attributes/test', kind: 'processor' as const, logger: silentLogger, metrics: new MetricsRegistry() };

export const s = (v: string): AnyValue => ({ stringValue: v });
export const i = (v: bigint | number): AnyValue => ({ intValue: BigInt(v) });
export const d = (v: number): AnyValue => ({ doubleValue: v });
export const b = (v: boolean): AnyValue => ({ boolValue: v });
export const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });

/** Decoded attributes as [key, value] pairs, in wire order. */
export function pairs(list: KeyValue[] | undefined): [string, AnyValue | undefined][] {
  return (list ?? []).map((a) => [a.key ?? '', a.value]);
}

/** Decodes a processor config or throws with its errors. */
export function decodeConfig<T>(schema: { decode(v: unknown, p: string, e: ConfigErrors): T }, raw: unknown, path = 'processors.attributes/x'): T {
  const errors = new ConfigErrors();
  const cfg = schema.decode(raw, path, errors);
  if (errors.any()) throw new Error(errors.list().join('\n'));
  return cfg;
}

export function configErrors(schema: { decode(v: unknown, p: string, e: ConfigErrors): unknown }, raw: unknown, path = 'processors.attributes/x'): readonly string[] {
  const errors = new ConfigErrors();
  schema.decode(raw, path, errors);
  return errors.list();
}

/** SHA-256 hex, the collector's hash action. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** int64 little-endian bytes. */
export function int64le(v: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigInt64LE(v);
  return out;
}

export function float64le(v: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeDoubleLE(v);
  return out;
}


export { varint };

/** Unknown fields (numbers 100 and 101, varint and LEN) as a newer OTLP might carry them. */
export const UNKNOWN = Buffer.concat([varint((100 << 3) | 0), varint(42), varint((101 << 3) | 2), varint(2), Buffer.from('zz')]);
