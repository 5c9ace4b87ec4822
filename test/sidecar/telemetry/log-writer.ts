// A process that logs to fd 2 with the sidecar's logger, driven line by line on stdin by
// logger.test.ts, which holds the other end of its stderr pipe (reads it late, or closes it).
// Answers on stdout (a separate, blocking pipe the test always reads).
//
//   flood <n> <from>  log n info lines with seq = from, from + 1, ...; answers `logged <n>`
//   flush             logger.flush(); answers `flushed`
//   exit              logger.flush(), then exit 0
import { writeSync } from 'node:fs';
import { createLogger } from '../../../sidecar/telemetry/logger.ts';

// Node makes a pipe it opens as process.stderr non-blocking (O_NONBLOCK lives on the pipe, so fd 2
// sees it too), as a container runtime's pipe is: a full pipe then answers writes with EAGAIN
// instead of blocking the process.
void process.stderr;

const logger = createLogger('info', 2);
const padding = 'x'.repeat(200);
const answer = (s: string): void => void writeSync(1, `${s}\n`);

let pending = '';
process.stdin.on('data', (chunk: Buffer) => {
  pending += chunk.toString();
  let nl: number;
  while ((nl = pending.indexOf('\n')) >= 0) {
    const [cmd, ...args] = pending.slice(0, nl).split(' ');
    pending = pending.slice(nl + 1);
    if (cmd === 'flood') {
      const n = Number(args[0]);
      const from = Number(args[1]);
      for (let i = 0; i < n; i++) logger.info({ seq: from + i, padding }, 'flood line');
      answer(`logged ${n}`);
    } else if (cmd === 'flush') {
      logger.flush();
      answer('flushed');
    } else if (cmd === 'exit') {
      logger.flush();
      process.exit(0);
    }
  }
});
