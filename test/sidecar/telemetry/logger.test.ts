// The sidecar's logger: pino's line format (log pipelines parse it), level filtering, and a full or
// closed stderr pipe that must never crash or stall the pod.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { Writable, type Readable } from 'node:stream';
import { join } from 'node:path';
// pino is a devDependency for this parity test only: the sidecar's lines must stay byte-for-byte
// what pino 10 wrote with the options telemetry/logger.ts used to pass it.
import { pino } from 'pino';
import { ROOT } from '../../support/process.ts';
import { createLogger, type LevelWithSilent, type Logger } from '../../../sidecar/telemetry/logger.ts';

const ISO_TIME = /"time":"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)"/;

function capture(level: LevelWithSilent = 'info', service?: string): { log: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString());
      cb();
    },
  });
  return { log: createLogger(level, stream, service), lines };
}

/** The line with its time value replaced by T (after checking it is an ISO time). */
function timeless(line: string): string {
  assert.match(line, ISO_TIME);
  return line.replace(ISO_TIME, '"time":"T"');
}

class QuotaError extends Error {
  code = 'QUOTA';
  retryable = true;
}

describe('telemetry logger: the line format', () => {
  it('writes level label, ISO time, service, the call fields and msg, in that order, one JSON object a line', () => {
    const { log, lines } = capture();
    const before = Date.now();
    log.info({ port: 4318, endpoint: '127.0.0.1:4318' }, 'OTLP HTTP receiver listening');
    assert.equal(lines.length, 1);
    assert.ok(lines[0]!.endsWith('}\n'));
    assert.equal(timeless(lines[0]!), '{"level":"info","time":"T","service":"tracebridge-sidecar","port":4318,"endpoint":"127.0.0.1:4318","msg":"OTLP HTTP receiver listening"}\n');
    const time = Date.parse(ISO_TIME.exec(lines[0]!)![1]!);
    assert.ok(time >= before - 1 && time <= Date.now() + 1, 'the time is the time of the call');
  });

  it('labels each level and filters those below the configured one', () => {
    const { log, lines } = capture('debug');
    log.trace('t');
    log.debug('d');
    log.info('i');
    log.warn('w');
    log.error('e');
    log.fatal('f');
    assert.deepEqual(
      lines.map((l) => JSON.parse(l) as { level: string; msg: string }).map((o) => `${o.level}:${o.msg}`),
      ['debug:d', 'info:i', 'warn:w', 'error:e', 'fatal:f'],
    );
    const warn = capture('warn');
    warn.log.info('no');
    warn.log.child({ kind: 'receiver' }).info('no');
    warn.log.warn('yes');
    assert.deepEqual(warn.lines.map((l) => (JSON.parse(l) as { msg: string }).msg), ['yes']);
    const silent = capture('silent');
    silent.log.fatal('no');
    silent.log.error({ err: new Error('no') });
    assert.deepEqual(silent.lines, []);
  });

  it('puts child bindings after service, in the order they were added, before the call fields', () => {
    const { log, lines } = capture('info', 'tracebridge-injector');
    const child = log.child({ kind: 'exporter', name: 'loadbalancing' }).child({ backend: '10.0.0.7:4317' });
    child.warn({ attempt: 2 }, 'backend refused');
    log.info('root unchanged');
    assert.equal(timeless(lines[0]!), '{"level":"warn","time":"T","service":"tracebridge-injector","kind":"exporter","name":"loadbalancing","backend":"10.0.0.7:4317","attempt":2,"msg":"backend refused"}\n');
    assert.equal(timeless(lines[1]!), '{"level":"info","time":"T","service":"tracebridge-injector","msg":"root unchanged"}\n');
  });

  it('a string-only call has no fields; an object-only call has no msg; undefined fields are left out', () => {
    const { log, lines } = capture();
    log.info('just text with "quotes", a \\ and a\nnewline');
    log.info({ spans: 3, skipped: undefined, nested: { a: 1, b: undefined, list: [1, 'two', null] } });
    assert.equal(timeless(lines[0]!), '{"level":"info","time":"T","service":"tracebridge-sidecar","msg":"just text with \\"quotes\\", a \\\\ and a\\nnewline"}\n');
    assert.equal(timeless(lines[1]!), '{"level":"info","time":"T","service":"tracebridge-sidecar","spans":3,"nested":{"a":1,"list":[1,"two",null]}}\n');
  });

  it('serializes err as {type, message, stack, own fields}, also when an Error is the only argument', () => {
    const { log, lines } = capture();
    const err = new QuotaError('quota exceeded');
    log.error({ err }, 'export failed');
    log.error(err);
    log.error(err, 'with my own message');
    const [a, b, c] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const expected = { type: 'QuotaError', message: 'quota exceeded', stack: err.stack, code: 'QUOTA', retryable: true };
    assert.deepEqual(a!.err, expected);
    assert.equal(a!.msg, 'export failed');
    assert.deepEqual(b!.err, expected);
    assert.equal(b!.msg, 'quota exceeded', 'an Error alone: its message is the msg');
    assert.deepEqual(c!.err, expected);
    assert.equal(c!.msg, 'with my own message');
    assert.deepEqual(Object.keys(a!).slice(0, 4), ['level', 'time', 'service', 'err']);
  });

  it('circular structures and BigInts neither throw nor lose the line', () => {
    const { log, lines } = capture();
    const loop: Record<string, unknown> = { name: 'a' };
    loop.self = loop;
    const shared = { x: 1 };
    assert.doesNotThrow(() => log.warn({ loop, pair: [shared, shared], big: 12345678901234567890n }, 'odd fields'));
    assert.doesNotThrow(() => log.info({ big: 1n }));
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.deepEqual(line.loop, { name: 'a', self: '[Circular]' });
    assert.deepEqual(line.pair, [{ x: 1 }, { x: 1 }], 'a value seen twice but not inside itself is not circular');
    assert.equal(line.big, '12345678901234567890');
    assert.equal(line.msg, 'odd fields');
    assert.equal((JSON.parse(lines[1]!) as { big: string }).big, '1');
  });

  it('a field whose getter throws does not throw out of the call', () => {
    const { log, lines } = capture();
    const bad = {
      get boom(): never {
        throw new Error('getter');
      },
    };
    assert.doesNotThrow(() => log.info({ bad }, 'still logged'));
    assert.equal((JSON.parse(lines[0]!) as { msg: string }).msg, 'still logged');
  });

  it('an Error logged alone whose own field getter throws still gives its message as msg', () => {
    const { log, lines } = capture();
    const err = new Error('disk full');
    Object.defineProperty(err, 'detail', {
      enumerable: true,
      get(): never {
        throw new Error('getter');
      },
    });
    assert.doesNotThrow(() => log.error(err));
    assert.equal((JSON.parse(lines[0]!) as { msg?: string }).msg, 'disk full');
  });
});

describe('telemetry logger: the same lines as pino 10 wrote', () => {
  const cause = new Error('connect ECONNREFUSED');
  const withCause = new Error('export failed', { cause });
  const aggregate = new AggregateError([new Error('one'), new TypeError('two')], 'all backends failed');
  const nested = Object.assign(new Error('outer'), { inner: new RangeError('inner'), status: 503 });
  // Made once, outside the calls: both loggers must see the same stack.
  const quota = new QuotaError('quota exceeded');
  const typeErr = new TypeError('bad input');
  const range = new RangeError('out of range');
  const boom = new Error('boom');
  const other = new Error('not serialized');
  const bound = new Error('bound');
  const calls: [string, (l: Logger) => void][] = [
    ['message only', (l) => l.info('starting tracebridge sidecar')],
    ['fields and message', (l) => l.warn({ endpoint: '0.0.0.0:4318', port: 4318, ok: true, ratio: 0.25 }, 'listening')],
    ['fields only', (l) => l.error({ spans: 12, reason: 'queue full' })],
    ['undefined, null, NaN, Infinity, function and symbol fields', (l) => l.info({ a: undefined, b: null, c: Number.NaN, d: Infinity, f: () => 1, s: Symbol('s'), z: 'last' }, 'mixed')],
    ['nested objects, arrays, dates', (l) => l.info({ cfg: { a: [1, { b: 'c' }], when: new Date(0) }, list: ['x', 'y'] }, 'nested')],
    ['escapes and non-ASCII', (l) => l.info({ path: 'C:\\dir\\"f"', ctrl: '\u0001\t', text: 'héllo ✓ 日本' }, 'tab\there "quoted"')],
    ['a long string', (l) => l.info({ s: 'a"b'.repeat(100) }, 'x'.repeat(300))],
    ['err field', (l) => l.error({ err: quota }, 'failed')],
    ['err field without msg takes the error message', (l) => l.error({ err: typeErr })],
    ['Error as the only argument', (l) => l.error(range)],
    ['Error and a message', (l) => l.fatal(boom, 'crashed')],
    ['error with a cause', (l) => l.error({ err: withCause }, 'with cause')],
    ['aggregate error', (l) => l.error({ err: aggregate })],
    ['error with a nested error and own fields', (l) => l.error({ err: nested })],
    ['err that is not an Error', (l) => l.warn({ err: 'socket hang up' }, 'string err')],
    ['an error under another key', (l) => l.warn({ error: other }, 'other key')],
    ['a msg field and a message', (l) => l.info({ msg: 'field' }, 'argument')],
    ['child bindings', (l) => l.child({ kind: 'processor', name: 'batch' }).child({ backend: 'b:1', skip: undefined }).warn({ attempt: 1 }, 'retry')],
    ['child binding err', (l) => l.child({ err: bound }).info('bound err')],
    ['fields and an undefined message', (l) => l.info({ listener: 'x' }, undefined)],
  ];

  function pinoLines(call: (l: Logger) => void): string[] {
    const lines: string[] = [];
    const stream = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    // The options telemetry/logger.ts passed to pino before it was replaced.
    const p = pino({ level: 'trace', base: { service: 'tracebridge-sidecar' }, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, stream);
    call(p as unknown as Logger);
    return lines;
  }

  for (const [name, call] of calls) {
    it(name, () => {
      const { log, lines } = capture('trace');
      call(log);
      assert.deepEqual(lines.map(timeless), pinoLines(call).map(timeless));
    });
  }
});

const writers: LogWriter[] = [];

/** A child that logs to a stderr pipe the test reads only when it chooses to. */
class LogWriter {
  readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private out = '';
  private err = '';
  private waiters: (() => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor() {
    writers.push(this);
    this.child = spawn(process.execPath, [join(ROOT, 'test/sidecar/telemetry/log-writer.ts')], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.on('data', (c: Buffer) => {
      this.out += c.toString();
      this.waiters.forEach((w) => w());
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Sends a command and waits for its answer on stdout. */
  async command(cmd: string, answer: string): Promise<void> {
    this.child.stdin.write(`${cmd}\n`);
    await this.until(() => this.out.includes(answer), `"${answer}" on stdout`);
  }

  /** Starts reading stderr (until now the pipe filled up). */
  readStderr(): void {
    this.child.stderr.on('data', (c: Buffer) => {
      this.err += c.toString();
      this.waiters.forEach((w) => w());
    });
  }

  /** The complete lines read so far, parsed. */
  stderrLines(): Record<string, unknown>[] {
    return this.err
      .slice(0, this.err.lastIndexOf('\n') + 1)
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  async until(cond: () => boolean, what: string, ms = 10_000): Promise<void> {
    if (cond()) return;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; stdout: ${this.out.slice(-500)}; stderr tail: ${this.err.slice(-500)}`)), ms);
      this.waiters.push(() => {
        if (!cond()) return;
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

const LINE_BYTES = 330; // about, with the 200-byte padding field

describe('telemetry logger: writing to a stderr pipe that is full or closed', function () {
  this.timeout(30_000);
  afterEach(() => {
    for (const w of writers.splice(0)) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
  });

  it('a full pipe neither crashes the process nor reorders lines; overflow drops whole lines and reports how many once the pipe drains', async () => {
    const w = new LogWriter();
    // 20 000 lines (~6.6 MB): far more than the pipe and the 1 MiB pending buffer hold.
    await w.command('flood 20000 0', 'logged 20000');
    w.readStderr();
    await w.until(() => w.stderrLines().some((l) => l.dropped !== undefined), 'the dropped-lines report');
    const lines = w.stderrLines();
    const report = lines.find((l) => l.dropped !== undefined)!;
    assert.equal(report.level, 'warn');
    assert.equal(report.service, 'tracebridge-sidecar');
    const seqs = lines.filter((l) => l.seq !== undefined).map((l) => l.seq as number);
    assert.ok(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!), 'lines are in the order they were logged');
    assert.deepEqual(seqs.slice(0, 3), [0, 1, 2], 'the first lines are kept, the overflow is dropped');
    assert.equal(seqs.length + (report.dropped as number), 20_000, 'every line is either written or counted as dropped');
    assert.ok(seqs.length * LINE_BYTES > 1024 * 1024 * 0.9, `about a pipe and 1 MiB of lines were kept (${seqs.length})`);
    assert.equal(lines.indexOf(report), seqs.length, 'the report follows the kept lines');
    // The logger writes normally again after the episode.
    await w.command('flood 3 50000', 'logged 3');
    await w.until(() => w.stderrLines().filter((l) => (l.seq as number) >= 50_000).length === 3, 'the lines after the episode');
    assert.equal(w.stderrLines().filter((l) => l.dropped !== undefined).length, 1, 'one report per episode');
    w.child.stdin.write('exit\n');
    assert.equal(await w.exited, 0);
  });

  it('lines that fit in the pending buffer are all written, in order, once the reader catches up; none dropped', async () => {
    const w = new LogWriter();
    await w.command('flood 2000 0', 'logged 2000'); // ~660 kB: more than the pipe holds, less than pipe + 1 MiB
    w.readStderr();
    await w.until(() => w.stderrLines().length >= 2000, 'all 2000 lines');
    const lines = w.stderrLines();
    assert.deepEqual(
      lines.map((l) => l.seq),
      Array.from({ length: 2000 }, (_, i) => i),
    );
    w.child.stdin.write('exit\n');
    assert.equal(await w.exited, 0);
  });

  it('flush() at exit writes the pending lines once the reader starts reading', async () => {
    const w = new LogWriter();
    await w.command('flood 2000 0', 'logged 2000');
    w.child.stdin.write('exit\n'); // flush() waits (at most about a second) for the pipe to drain
    w.readStderr();
    assert.equal(await w.exited, 0);
    await w.until(() => w.stderrLines().length >= 2000, 'all 2000 lines');
    assert.equal(w.stderrLines().at(-1)!.seq, 1999);
  });

  it('a closed pipe (EPIPE), with lines pending and after, does not crash the process', async () => {
    const w = new LogWriter();
    await w.command('flood 2000 0', 'logged 2000');
    w.child.stderr.destroy();
    await w.command('flood 2000 2000', 'logged 2000\nlogged 2000');
    await w.command('flush', 'flushed');
    w.child.stdin.write('exit\n');
    assert.equal(await w.exited, 0);
  });
});
