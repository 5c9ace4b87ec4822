// A separate process sending what an X-Ray SDK streams for one long segment: the segment, then
// `count` independent subsegments, one datagram each. `paced`: each send completes before the next
// (the SDKs' behaviour); `flood`: all sends issued at once. Prints the trace ID, then exits.
// Usage: node burst-sender.ts <port> <count> paced|flood [padBytes]
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';

const [portArg, countArg, mode = 'paced', padArg = '0'] = process.argv.slice(2);
const port = Number(portArg);
const count = Number(countArg);
const pad = 'x'.repeat(Number(padArg));
const HEADER = '{"format":"json","version":1}\n';
const traceId = `1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
const segId = randomBytes(8).toString('hex');
const t = Date.now() / 1000;

function doc(i: number): Buffer {
  if (i === 0) return Buffer.from(HEADER + JSON.stringify({ name: 'burst-svc', id: segId, trace_id: traceId, start_time: t, end_time: t + 1 }));
  const sub = { type: 'subsegment', name: `sub-${i}`, id: randomBytes(8).toString('hex'), trace_id: traceId, parent_id: segId, start_time: t, end_time: t + 0.5, metadata: { default: { pad } } };
  return Buffer.from(HEADER + JSON.stringify(sub));
}

const socket = createSocket('udp4');
const total = count + 1;
if (mode === 'flood') {
  let done = 0;
  for (let i = 0; i < total; i++) {
    socket.send(doc(i), port, '127.0.0.1', () => {
      if (++done === total) socket.close(() => process.stdout.write(`${traceId}\n`));
    });
  }
} else {
  let i = 0;
  const next = (): void => {
    if (i === total) {
      socket.close(() => process.stdout.write(`${traceId}\n`));
      return;
    }
    socket.send(doc(i++), port, '127.0.0.1', (err) => {
      if (err) throw err;
      next();
    });
  };
  next();
}
