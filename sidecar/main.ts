#!/usr/bin/env node
// Entry point of `tracebridge-sidecar`; see cli.ts.
// First, before the sidecar is loaded: in a container with a memory limit, re-execute with the V8
// heap capped from it (runtime/heap.ts). cli.ts is imported afterwards, dynamically, so a
// re-execution does not load the sidecar twice.
import { capHeapFromContainerLimit } from './runtime/heap.ts';

capHeapFromContainerLimit();
const { main } = await import('./cli.ts');
process.exitCode = await main(process.argv.slice(2));
// Timers and sockets are closed by then; exit explicitly so a stray handle cannot hold the pod.
process.exit();
