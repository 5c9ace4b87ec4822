// `npx node bench/validate.ts [--quick]`: what the OTLP receivers spend per span before answering,
// on this machine, one core. Spans: bench/shapes.ts "realistic" (~1 KB, 18 attributes, 20 spans
// per request) and "testbed" (the collector testbed's span: 2 int attributes, 100 per request).
//   validate: validateTraceRequest, to the leaves (what TracesData.fromProto does per request);
//   index:    indexTraceRequest, framing only (the lazy view of data processors built).
// Prints spans/s and CPU microseconds per span (process.cpuUsage: user + system, so a busy
// neighbour on a shared machine slows the figure less than wall time), for the round of three with
// the least CPU per span (bench/in-process.ts).
import { indexTraceRequest, validateTraceRequest } from '../sidecar/pdata/trace-view.ts';
import { measureInProcess } from './in-process.ts';
import { makeShape, type ShapeName } from './shapes.ts';

for (const name of ['realistic', 'testbed'] satisfies ShapeName[]) {
  const shape = makeShape(name);
  const bytesPerSpan = Math.round(shape.requests[0]!.length / shape.spansPerRequest);
  for (const [what, walk] of [['validate', validateTraceRequest], ['index', indexTraceRequest]] as const) {
    const r = await measureInProcess((n) => walk(shape.requests[n % shape.requests.length]!).spanCount, { warmup: 20_000, chunk: 100 });
    process.stdout.write(`${name} (${bytesPerSpan} B/span) ${what}: ${Math.round(r.perSec).toLocaleString('en')} spans/s, ${r.cpuUsPerSpan.toFixed(3)} CPU-us/span\n`);
  }
}
