// `npx node bench/sampler.ts [--quick]`: what the probabilistic_sampler processor costs per span
// on this machine, one core, in process (no network): the batch's view already exists (the
// receiver built it while validating), so this is the sampler alone — the span walk for
// tracestate/flags, the decision, and re-framing the kept spans it drops around or rewrites.
// Shapes: bench/shapes.ts "realistic" (~1 KB, 18 attributes, 20 spans per request) and "testbed"
// (2 int attributes, 100 per request); "+ts" variants give every span the tracestate
// `ot=th:8,rojo=00f067aa0ba902b7` (an upstream 50% decision and another vendor's member), with
// trace IDs whose randomness passes it so none is inconsistent (hash_seed mode refuses spans that
// already carry a threshold, so it keeps none of those: the collector's rule, fail_closed).
// Prints, for the round (of three) with the least CPU per span: spans/s and CPU-µs per span
// (user + system), which is also CPU-seconds per million spans; and the share kept.
import { decodeTraceRequest, encodeTraceRequest } from '../sidecar/pdata/otlp-schema.ts';
import { TracesData } from '../sidecar/pdata/traces.ts';
import { probabilisticSamplerConfig, type ProbabilisticSamplerConfig } from '../sidecar/processors/probabilistic_sampler/config.ts';
import { makeSampler } from '../sidecar/processors/probabilistic_sampler/decide.ts';
import { sampleTraces } from '../sidecar/processors/probabilistic_sampler/processor.ts';
import { measureInProcess } from './in-process.ts';
import { makeShape, type ShapeName } from './shapes.ts';

function withTracestate(req: Buffer): Buffer {
  const obj = decodeTraceRequest(req);
  for (const rs of obj.resourceSpans ?? [])
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? []) {
        s.traceState = 'ot=th:8,rojo=00f067aa0ba902b7';
        const id = s.traceId!;
        id[9] = id[9]! | 0x80; // randomness >= 2^55: consistent with th:8
      }
  return Buffer.from(encodeTraceRequest(obj));
}

async function measure(cfg: ProbabilisticSamplerConfig, batches: readonly TracesData[]): Promise<{ rate: number; cpuUsPerSpan: number; kept: number }> {
  const sampler = makeSampler(cfg);
  let kept = 0;
  let seen = 0;
  const count = (_p: string, sampled: boolean) => {
    seen++;
    if (sampled) kept++;
  };
  const r = await measureInProcess(
    (n) => {
      const b = batches[n % batches.length]!;
      sampleTraces(sampler, b, count);
      return b.spanCount;
    },
    {
      warmup: 2000,
      chunk: 50,
      beforeRound: (round) => {
        if (round === 0) kept = seen = 0;
      },
    },
  );
  return { rate: r.perSec, cpuUsPerSpan: r.cpuUsPerSpan, kept: kept / seen };
}

const modes: [string, Partial<ProbabilisticSamplerConfig>][] = [
  ['hash_seed 10%', { sampling_percentage: 10, hash_seed: 22 }],
  ['proportional 10%', { sampling_percentage: 10, mode: 'proportional' }],
  ['proportional 100%', { sampling_percentage: 100, mode: 'proportional' }],
];

for (const name of ['realistic', 'testbed'] satisfies ShapeName[]) {
  const shape = makeShape(name, 64);
  for (const ts of [false, true]) {
    const batches = shape.requests.map((r) => {
      const d = TracesData.fromProto(ts ? withTracestate(r) : r);
      void d.view;
      return d;
    });
    const bytesPerSpan = Math.round(batches[0]!.bytes.length / shape.spansPerRequest);
    for (const [label, over] of modes) {
      const { rate, cpuUsPerSpan, kept } = await measure({ ...probabilisticSamplerConfig.defaultValue, ...over }, batches);
      process.stdout.write(
        `${name}${ts ? '+ts' : ''} (${bytesPerSpan} B/span) ${label}: ${Math.round(rate).toLocaleString('en')} spans/s, ${cpuUsPerSpan.toFixed(3)} CPU-µs/span, kept ${(kept * 100).toFixed(1)}%\n`,
      );
    }
  }
}
