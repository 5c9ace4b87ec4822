// `npx node bench/attributes.ts [--quick]`: what the attributes and resource processors cost per
// span, in process, one core, on bench/shapes.ts spans (realistic: ~1 KB, 18 attributes, 20 spans
// per request; testbed: 2 int attributes, 100 per request). Input is validated and indexed once
// beforehand (as the receiver hands it over); each processor's output goes to a no-op consumer.
//   attributes: a typical list: delete 2 keys, insert 1, hash 1 (every span is re-encoded);
//   attributes, no span included: the same list behind an include rule no span matches (the
//     match check alone);
//   attributes, keys absent: delete 2 + hash 1 of keys no span has (every span walked, none edited;
//     searching the batch for the keys first was tried and cost more on the realistic shape);
//   resource: upsert 1 + delete 1 on each ResourceSpans (spans are not read).
// Prints spans/s (wall) and CPU µs per span (process CPU time / spans, so GC threads count), which
// is also CPU seconds per million spans, for the round of three with the least CPU per span
// (bench/in-process.ts).
import type { TracesConsumer } from '../sidecar/component/component.ts';
import { ConfigErrors } from '../sidecar/config/schema.ts';
import { attributesConfig } from '../sidecar/processors/attributes/config.ts';
import { AttributesProcessor } from '../sidecar/processors/attributes/processor.ts';
import { resourceConfig } from '../sidecar/processors/resource/config.ts';
import { ResourceProcessor } from '../sidecar/processors/resource/processor.ts';
import { TracesData } from '../sidecar/pdata/traces.ts';
import { createLogger } from '../sidecar/telemetry/logger.ts';
import { MetricsRegistry } from '../sidecar/telemetry/metrics.ts';
import { measureInProcess } from './in-process.ts';
import { makeShape, type ShapeName } from './shapes.ts';

const settings = { id: 'bench', kind: 'processor' as const, logger: createLogger('silent'), metrics: new MetricsRegistry() };
const noop: TracesConsumer = { consumeTraces: () => Promise.resolve() };

function decode<T>(schema: { decode(v: unknown, p: string, e: ConfigErrors): T }, raw: unknown): T {
  const errors = new ConfigErrors();
  const cfg = schema.decode(raw, 'bench', errors);
  if (errors.any()) throw new Error(errors.list().join('\n'));
  return cfg;
}

const ACTIONS: Record<ShapeName, unknown[]> = {
  realistic: [
    { key: 'user_agent.original', action: 'delete' },
    { key: 'node_id', action: 'delete' },
    { key: 'team', action: 'insert', value: 'payments' },
    { key: 'network.peer.address', action: 'hash' },
  ],
  testbed: [
    { key: 'load_generator.trace_seq_num', action: 'delete' },
    { key: 'absent', action: 'delete' },
    { key: 'team', action: 'insert', value: 'payments' },
    { key: 'load_generator.span_seq_num', action: 'hash' },
  ],
};

for (const name of ['realistic', 'testbed'] satisfies ShapeName[]) {
  const shape = makeShape(name);
  const batches = shape.requests.map((r) => TracesData.fromProto(r));
  const bytesPerSpan = Math.round(shape.requests[0]!.length / shape.spansPerRequest);
  const runs: [string, TracesConsumer][] = [
    ['attributes (delete 2, insert 1, hash 1)', new AttributesProcessor(settings, decode(attributesConfig, { actions: ACTIONS[name] }), noop)],
    [
      'attributes, no span included',
      new AttributesProcessor(settings, decode(attributesConfig, { actions: ACTIONS[name], include: { match_type: 'strict', span_names: ['no-such-span'] } }), noop),
    ],
    [
      'attributes, keys absent from the batch (delete 2, hash 1)',
      new AttributesProcessor(settings, decode(attributesConfig, { actions: [{ key: 'user.password', action: 'delete' }, { key: 'db.statement', action: 'delete' }, { key: 'enduser.id', action: 'hash' }] }), noop),
    ],
    [
      'resource (upsert 1, delete 1)',
      new ResourceProcessor(settings, decode(resourceConfig, { attributes: [{ key: 'k8s.cluster.name', value: 'prod-eu', action: 'upsert' }, { key: 'k8s.pod.name', action: 'delete' }] }), noop),
    ],
  ];
  for (const [what, p] of runs) {
    const r = await measureInProcess(
      (n) => {
        void p.consumeTraces(batches[n % batches.length]!);
        return shape.spansPerRequest;
      },
      { warmup: 2_000, chunk: 20 },
    );
    process.stdout.write(`${name} (${bytesPerSpan} B/span) ${what}: ${Math.round(r.perSec).toLocaleString('en')} spans/s, ${r.cpuUsPerSpan.toFixed(2)} CPU-µs/span\n`);
  }
}
