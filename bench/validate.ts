// `npx node bench/validate.ts [--quick]`: what the OTLP receivers spend per span before answering,
// on this machine, one core. Spans: bench/shapes.ts "realistic" (~1 KB, 18 attributes, 20 spans
// per request) and "testbed" (the collector testbed's span: 2 int attributes, 100 per request).
//   validate: validateTraceRequest, to the leaves (what TracesData.fromProto does per request);
//   index:    indexTraceRequest, framing only (the lazy view of data processors built).
// Prints spans/s and CPU microseconds per span (process.cpuUsage: user + system, so a busy
// neighbour on a shared machine slows the figure less than wall time), the best of three rounds.
import { indexTraceRequest, validateTraceRequest } from '../sidecar/pdata/trace-view.ts';
import { makeShape, type ShapeName } from './shapes.ts';

const SECONDS = process.argv.includes('--quick') ? 0.3 : 1;

function rate(walk: (b: Uint8Array) => { spanCount: number }, requests: readonly Buffer[]): { perSec: number; cpuUsPerSpan: number } {
  let best = 0;
  let bestCpu = Infinity;
  for (let i = 0; i < 20_000; i++) walk(requests[i % requests.length]!);
  for (let round = 0; round < 3; round++) {
    let spans = 0;
    let n = 0;
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    const until = start + BigInt(Math.round(SECONDS * 1e9));
    while (process.hrtime.bigint() < until) {
      for (let j = 0; j < 100; j++) spans += walk(requests[n++ % requests.length]!).spanCount;
    }
    const cpu = process.cpuUsage(cpu0);
    best = Math.max(best, spans / (Number(process.hrtime.bigint() - start) / 1e9));
    bestCpu = Math.min(bestCpu, (cpu.user + cpu.system) / spans);
  }
  return { perSec: best, cpuUsPerSpan: bestCpu };
}

for (const name of ['realistic', 'testbed'] satisfies ShapeName[]) {
  const shape = makeShape(name);
  const bytesPerSpan = Math.round(shape.requests[0]!.length / shape.spansPerRequest);
  for (const [what, walk] of [['validate', validateTraceRequest], ['index', indexTraceRequest]] as const) {
    const r = rate(walk, shape.requests);
    process.stdout.write(`${name} (${bytesPerSpan} B/span) ${what}: ${Math.round(r.perSec).toLocaleString('en')} spans/s, ${r.cpuUsPerSpan.toFixed(3)} CPU-us/span\n`);
  }
}
