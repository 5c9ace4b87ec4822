// `npx node bench/filter.ts [--quick]`: what the `filter` processor costs per span, in process, on
// one core, with the shipped health-check preset (mesh-configs/examples/filter-healthchecks.yaml,
// 8 conditions over 9 attributes). Spans: bench/shapes.ts "realistic" (~1 KB, 18 attributes,
// 20 per request) and "testbed" (2 int attributes, 100 per request); each also with 1 span in 10
// turned into a kubelet probe (user_agent.original kube-probe/1.30, url.path /healthz), which
// the preset drops, so the request is re-framed.
// Data arrives validated and indexed (TracesData.fromProto, as from a receiver); the next stage
// does nothing. Prints spans/s and CPU-µs per span (the round of three with the least CPU per span,
// bench/in-process.ts) (= CPU-seconds per
// million spans; at 10k spans/s, CPU-ms per second).
import { readFileSync } from 'node:fs';
import type { TracesConsumer } from '../sidecar/component/component.ts';
import { parseConfigText } from '../sidecar/config/load.ts';
import { decodeOrThrow } from '../sidecar/config/schema.ts';
import { encodeTraceRequest, decodeTraceRequest } from '../sidecar/pdata/otlp-schema.ts';
import { TracesData } from '../sidecar/pdata/traces.ts';
import { filterConfig } from '../sidecar/processors/filter/config.ts';
import { FilterProcessor } from '../sidecar/processors/filter/processor.ts';
import { createLogger } from '../sidecar/telemetry/logger.ts';
import { MetricsRegistry } from '../sidecar/telemetry/metrics.ts';
import { measureInProcess } from './in-process.ts';
import { makeShape, type ShapeName } from './shapes.ts';

const preset = parseConfigText(readFileSync(new URL('../mesh-configs/examples/filter-healthchecks.yaml', import.meta.url), 'utf8'), 'preset') as {
  processors: Record<string, unknown>;
};
const presetConfig = decodeOrThrow(filterConfig, preset.processors['filter/healthchecks'], 'processors.filter/healthchecks');

let delivered = 0;
const sink: TracesConsumer = {
  consumeTraces(d) {
    delivered += d.spanCount;
    return Promise.resolve();
  },
};

function processor(cfg: typeof presetConfig): FilterProcessor {
  return new FilterProcessor({ id: 'filter/healthchecks', kind: 'processor', logger: createLogger('silent'), metrics: new MetricsRegistry(), pipeline: 'traces' }, cfg, sink);
}

/** The shape's requests with every 10th span a kubelet probe. */
function withProbes(requests: readonly Buffer[]): Buffer[] {
  return requests.map((b) => {
    const req = decodeTraceRequest(b);
    req.resourceSpans![0]!.scopeSpans![0]!.spans!.forEach((s, i) => {
      if (i % 10 !== 0) return;
      s.name = 'GET /healthz';
      s.attributes = [
        { key: 'user_agent.original', value: { stringValue: 'kube-probe/1.30' } },
        { key: 'url.path', value: { stringValue: '/healthz' } },
        { key: 'http.request.method', value: { stringValue: 'GET' } },
      ];
    });
    return Buffer.from(encodeTraceRequest(req));
  });
}

async function measure(p: FilterProcessor, requests: readonly Buffer[]): Promise<{ rate: number; cpuMicrosPerSpan: number; kept: number }> {
  const data = requests.map((b) => TracesData.fromProto(b));
  let spans = 0;
  const r = await measureInProcess(
    async (n) => {
      const d = data[n % data.length]!;
      await p.consumeTraces(d);
      spans += d.spanCount;
      return d.spanCount;
    },
    {
      warmup: 5_000,
      chunk: 50,
      beforeRound: () => {
        delivered = spans = 0;
      },
    },
  );
  // The share kept in the last round.
  return { rate: r.perSec, cpuMicrosPerSpan: r.cpuUsPerSpan, kept: delivered / spans };
}

const none = processor(decodeOrThrow(filterConfig, {}, 'processors.filter'));
const withPreset = processor(presetConfig);
process.stdout.write(`filter/healthchecks: ${presetConfig.traces.span.length} span conditions; Node ${process.version}\n`);
for (const name of ['realistic', 'testbed'] satisfies ShapeName[]) {
  const shape = makeShape(name);
  const bytesPerSpan = Math.round(shape.requests[0]!.length / shape.spansPerRequest);
  const rows: [string, FilterProcessor, Buffer[]][] = [
    ['no conditions (pass-through)', none, shape.requests],
    ['preset, nothing matches', withPreset, shape.requests],
    ['preset, 1 in 10 spans a probe', withPreset, withProbes(shape.requests)],
  ];
  for (const [what, p, requests] of rows) {
    const r = await measure(p, requests);
    process.stdout.write(
      `${name} (${bytesPerSpan} B/span) ${what}: ${Math.round(r.rate).toLocaleString('en')} spans/s, ${r.cpuMicrosPerSpan.toFixed(3)} CPU-µs/span, ${(r.kept * 100).toFixed(0)}% kept\n`,
    );
  }
}
