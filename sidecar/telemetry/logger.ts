// JSON lines on stderr (stdout belongs to the debug exporter's span lines), in the format pino 10
// wrote, which log pipelines parse:
//
//   {"level":"warn","time":"<ISO 8601>","service":"tracebridge-sidecar",<child bindings, oldest
//    first>,<the call's fields>,"msg":"..."}
//
// - Fields whose value is undefined (or a function or symbol) are left out; non-finite numbers
//   are null; `err` is serialized as {type, message, stack, ...its own enumerable fields} (causes
//   appended to message and stack), also when an Error is the first argument, whose message is
//   then the msg unless one is given. No msg key when the call has none.
// - A value JSON.stringify refuses (a circular structure, a BigInt) is written anyway: circular
//   references as "[Circular]", BigInts as strings. A log call never throws.
// - A disabled level is a no-op function: filtering costs nothing per call.
//
// Why not pino: it cost every pod +2.9 MiB of private memory and ~50 ms of start-up (about 40
// CommonJS files, plus node:assert through sonic-boom and node:worker_threads), for the few
// features used here. test/sidecar/telemetry/logger.test.ts checks the lines against pino's.
import { FdDestination } from './fd-destination.ts';

const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 } as const;
export type Level = keyof typeof LEVELS;
export type LevelWithSilent = Level | 'silent';

export interface LogFn {
  (msg: string): void;
  /** `obj`: the line's fields, or an Error (logged as `err`); `msg` defaults to an error's message. */
  (obj: object | undefined, msg?: string): void;
}

export interface Logger {
  readonly level: LevelWithSilent;
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
  /** A logger whose lines carry `bindings` after those of this one. */
  child(bindings: Record<string, unknown>): Logger;
  /** Writes lines a full stderr pipe still holds back, waiting at most about a second. */
  flush(): void;
}

interface Destination {
  write(line: string): void;
  flush(): void;
}

/** `service`: the `service` field of every line (the injector shares this setup). */
export function createLogger(level: LevelWithSilent = 'info', destination: NodeJS.WritableStream | number = 2, service = 'tracebridge-sidecar'): Logger {
  const bindings = `,"service":${JSON.stringify(service)}`;
  const out: Destination =
    typeof destination === 'number'
      ? new FdDestination(destination, (dropped) => formatLine('warn', bindings, { dropped }, 'log lines dropped: stderr was full (the reader is too slow)'))
      : { write: (line) => void destination.write(line), flush: () => {} };
  return new JsonLogger(level, out, bindings);
}

const noop: LogFn = () => {};

class JsonLogger implements Logger {
  readonly level: LevelWithSilent;
  readonly trace: LogFn;
  readonly debug: LogFn;
  readonly info: LogFn;
  readonly warn: LogFn;
  readonly error: LogFn;
  readonly fatal: LogFn;
  private readonly out: Destination;
  /** `,"service":"…",…`: the bindings, serialized once per logger, not per line. */
  private readonly bindings: string;

  constructor(level: LevelWithSilent, out: Destination, bindings: string) {
    this.level = level;
    this.out = out;
    this.bindings = bindings;
    const min = level === 'silent' ? Infinity : LEVELS[level];
    const fn = (label: Level): LogFn => (LEVELS[label] >= min ? (a?: unknown, b?: string) => out.write(formatCall(label, bindings, a, b)) : noop);
    this.trace = fn('trace');
    this.debug = fn('debug');
    this.info = fn('info');
    this.warn = fn('warn');
    this.error = fn('error');
    this.fatal = fn('fatal');
  }

  child(bindings: Record<string, unknown>): Logger {
    return new JsonLogger(this.level, this.out, this.bindings + fields(bindings));
  }

  flush(): void {
    this.out.flush();
  }
}

/** One line for a call `log[label](a, b)`. */
function formatCall(label: Level, bindings: string, a: unknown, b: string | undefined): string {
  try {
    if (a instanceof Error) return formatLine(label, bindings, { err: a }, b ?? a.message);
    if (typeof a === 'object' && a !== null) {
      const obj = a as Record<string, unknown>;
      const err = obj.err as { message?: unknown } | undefined;
      const msg = b === undefined && obj.msg === undefined && err ? err.message : b;
      return formatLine(label, bindings, obj, msg);
    }
    return formatLine(label, bindings, undefined, a === undefined || a === null ? b : a);
  } catch {
    // A field whose getter throws: the line without its fields rather than an exception, but with
    // its message (an Error logged alone has it in its own message).
    return formatLine(label, bindings, undefined, typeof b === 'string' ? b : typeof a === 'string' ? a : messageOf(a));
  }
}

function messageOf(a: unknown): string | undefined {
  try {
    const m = a instanceof Error ? a.message : undefined;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}

function formatLine(label: Level, bindings: string, obj: Record<string, unknown> | undefined, msg: unknown): string {
  let line = `{"level":"${label}","time":"${new Date().toISOString()}"${bindings}`;
  if (obj !== undefined) line += fields(obj);
  if (msg !== undefined) {
    const value = stringify(msg);
    if (value !== undefined) line += `,"msg":${value}`;
  }
  return `${line}}\n`;
}

/** `,"key":value` for each own enumerable field, in order; `err` through serializeError. */
function fields(obj: Record<string, unknown>): string {
  let s = '';
  for (const key in obj) {
    if (!Object.hasOwn(obj, key)) continue;
    let value = obj[key];
    if (value === undefined) continue;
    if (key === 'err') value = serializeError(value, new Set());
    const json = stringify(value);
    if (json !== undefined) s += `,${JSON.stringify(key)}:${json}`;
  }
  return s;
}

/** JSON text, or undefined for what JSON leaves out (functions, symbols); never throws. */
function stringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    try {
      return safeStringify(value);
    } catch {
      return '"[unserializable]"';
    }
  }
}

/** JSON.stringify that writes circular references as "[Circular]" and BigInts as strings. */
function safeStringify(value: unknown): string | undefined {
  // The objects on the path from the root to the value being written.
  const path: unknown[] = [];
  return JSON.stringify(value, function (this: unknown, _key, v: unknown) {
    if (typeof v === 'bigint') return v.toString();
    if (typeof v !== 'object' || v === null) return v;
    while (path.length > 0 && path[path.length - 1] !== this) path.pop();
    if (path.includes(v)) return '[Circular]';
    path.push(v);
    return v;
  });
}

interface ErrorLike {
  message: string;
  stack?: unknown;
  cause?: unknown;
  errors?: unknown;
  [key: string]: unknown;
}

const isErrorLike = (v: unknown): v is ErrorLike => typeof v === 'object' && v !== null && typeof (v as { message?: unknown }).message === 'string';

/**
 * pino's default `err` serializer: {type, message, stack, aggregateErrors?, ...enumerable fields},
 * with the messages and stacks of `cause` appended; nested errors serialized alike. `active`: the
 * errors being serialized, so that an error inside itself is skipped.
 */
function serializeError(err: unknown, active: Set<unknown>): unknown {
  if (!isErrorLike(err)) return err;
  active.add(err);
  const out = Object.create(null) as Record<string, unknown>;
  out.type = typeof err.constructor === 'function' ? err.constructor.name : err.name;
  out.message = messageWithCauses(err);
  out.stack = stackWithCauses(err);
  if (Array.isArray(err.errors)) out.aggregateErrors = err.errors.map((e: unknown) => (active.has(e) ? '[Circular]' : serializeError(e, active)));
  for (const key in err) {
    if (out[key] !== undefined) continue;
    const value = err[key];
    if (!isErrorLike(value)) out[key] = value;
    else if (key !== 'cause' && !active.has(value)) out[key] = serializeError(value, active);
  }
  active.delete(err);
  return out;
}

/** The error's cause, if error-like (VError's cause is a function returning it). */
function causeOf(err: ErrorLike): ErrorLike | undefined {
  const cause = typeof err.cause === 'function' ? (err.cause as () => unknown)() : err.cause;
  return isErrorLike(cause) ? cause : undefined;
}

function messageWithCauses(err: ErrorLike): string {
  let out = err.message;
  const seen = new Set<ErrorLike>();
  for (let e = err; ; ) {
    if (seen.has(e)) return `${out}: ...`;
    const cause = causeOf(e);
    if (cause === undefined) return out;
    seen.add(e);
    // VError already includes its cause's message in its own.
    out += typeof e.cause === 'function' ? '' : `: ${cause.message}`;
    e = cause;
  }
}

function stackWithCauses(err: ErrorLike): string {
  const stackOf = (e: ErrorLike): string => (typeof e.stack === 'string' ? e.stack : '');
  let out = stackOf(err);
  const seen = new Set<ErrorLike>();
  for (let e = err; ; ) {
    if (seen.has(e)) return `${out}\ncauses have become circular...`;
    const cause = causeOf(e);
    if (cause === undefined) return out;
    seen.add(e);
    out += `\ncaused by: ${stackOf(cause)}`;
    e = cause;
  }
}

/** Logs a warning once per episode; `reset()` when the condition clears so the next episode warns again. */
export class OnceWarning {
  private warned = false;
  private readonly logger: Logger;
  private readonly message: string;

  constructor(logger: Logger, message: string) {
    this.logger = logger;
    this.message = message;
  }

  warn(fields: Record<string, unknown> = {}): void {
    if (this.warned) return;
    this.warned = true;
    this.logger.warn(fields, this.message);
  }

  reset(): void {
    this.warned = false;
  }
}
