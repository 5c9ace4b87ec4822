// Entry of the bridge's worker thread. The proxy lives here, on its own event loop and its own V8
// heap, so a long batch or a major GC on the main thread (span processing) never delays app
// requests, and a proxy bug cannot take the telemetry pipeline down with it.
import { parentPort, workerData } from 'node:worker_threads';
import { CounterCells } from './counters.ts';
import { viaPseudonym } from './headers.ts';
import { cryptoIdSource } from './ids.ts';
import { BridgeProxy, type LogFn } from './proxy.ts';
import { parseHostPort } from '../../config/schema.ts';
import type { FromWorker, ListenerInfo, ToWorker, WorkerData } from './worker-protocol.ts';

const port = parentPort!;
const data = workerData as WorkerData;
const post = (m: FromWorker) => port.postMessage(m);
const log: LogFn = (level, msg, fields = {}) => post({ type: 'log', level, msg, fields });

const ids = cryptoIdSource();
const proxy = new BridgeProxy(data.options, new CounterCells(data.counters), ids, viaPseudonym(ids), log);

async function start(): Promise<void> {
  const listeners: ListenerInfo[] = [];
  // Each listener starts or fails on its own: one port held by someone else must not take the
  // others down (a port that cannot be bound is logged and skipped).
  for (const spec of data.listen) {
    try {
      const target = spec.target === undefined ? undefined : parseHostPort(spec.target)!;
      const addr = await proxy.listen(spec.endpoint, target === undefined ? { mode: 'forward' } : { mode: 'reverse', host: target.host, port: target.port });
      listeners.push({ name: spec.name, endpoint: spec.endpoint, address: addr.address, port: addr.port });
    } catch (err) {
      listeners.push({ name: spec.name, endpoint: spec.endpoint, error: (err as Error).message });
    }
  }
  post({ type: 'listening', listeners });
}

port.on('message', (m: ToWorker) => {
  if (m.type !== 'shutdown') return;
  void proxy.close(m.graceMs).then(() => {
    post({ type: 'closed' });
    port.close();
  });
});

void start();
