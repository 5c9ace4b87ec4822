// Measuring one stage in process, on one core, for the benches that call it directly
// (validate.ts, attributes.ts, filter.ts, sampler.ts). `--quick` on the command line makes rounds
// 0.3 s instead of 1 s.
//
// measureInProcess warms the stage up, then runs three rounds and reports the round with the least
// CPU per span, with that round's rate: CPU time is process.cpuUsage (user + system, GC threads
// included), so a busy neighbour on a shared machine moves it less than wall time. CPU-µs per span
// is also CPU-seconds per million spans.

export const SECONDS = process.argv.includes('--quick') ? 0.3 : 1;

export interface InProcessRate {
  /** Spans per second (wall time) in the reported round. */
  perSec: number;
  /** CPU microseconds per span in the reported round. */
  cpuUsPerSpan: number;
}

export interface MeasureOptions {
  /** Calls of `step` before measuring. */
  warmup: number;
  /** Calls of `step` between clock reads. */
  chunk: number;
  /** Called before each measured round (reset the stage's counters here). */
  beforeRound?: (round: number) => void;
}

/**
 * Measures `step(n)`: the n-th unit of work (callers cycle through their inputs with n), returning
 * how many spans it handled, or a promise of it for a stage that answers asynchronously (awaited,
 * so the next call starts after it finished).
 */
export async function measureInProcess(step: (n: number) => number | Promise<number>, opts: MeasureOptions): Promise<InProcessRate> {
  for (let i = 0; i < opts.warmup; i++) {
    const r = step(i);
    if (typeof r !== 'number') await r;
  }
  let perSec = 0;
  let cpuUsPerSpan = Infinity;
  for (let round = 0; round < 3; round++) {
    opts.beforeRound?.(round);
    let spans = 0;
    let n = 0;
    const cpu0 = process.cpuUsage();
    const start = process.hrtime.bigint();
    const until = start + BigInt(Math.round(SECONDS * 1e9));
    while (process.hrtime.bigint() < until) {
      for (let j = 0; j < opts.chunk; j++) {
        const r = step(n++);
        spans += typeof r === 'number' ? r : await r;
      }
    }
    const wall = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = process.cpuUsage(cpu0);
    const cpuPerSpan = (cpu.user + cpu.system) / spans;
    if (cpuPerSpan < cpuUsPerSpan) {
      cpuUsPerSpan = cpuPerSpan;
      perSec = spans / wall;
    }
  }
  return { perSec, cpuUsPerSpan };
}
