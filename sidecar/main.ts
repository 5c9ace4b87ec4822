#!/usr/bin/env node
// Entry point of `tracebridge-sidecar`; see cli.ts.
import { main } from './cli.ts';

process.exitCode = await main(process.argv.slice(2));
// Timers and sockets are closed by then; exit explicitly so a stray handle cannot hold the pod.
process.exit();
