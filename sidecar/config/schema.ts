// Declarative config decoding: defaults, types and bounds in one place, and every error
// reported with its YAML path (`receivers.otlp.protocols.grpc.endpoint: ...`) so that a user
// fixes every mistake in one round (the collector's confmap/validation.go does the same).
//
// A Schema<T> turns an untrusted YAML value into T. It never throws on bad input: it records
// an error at `path` and returns undefined, and decoding goes on so the caller sees all errors.
//
//   const grpc = object({
//     endpoint: withDefault(endpoint(), '127.0.0.1:4317'),
//     max_recv_msg_size_mib: withDefault(int({ min: 1 }), 4),
//   });
//   const errors = new ConfigErrors();
//   const cfg = grpc.decode(raw, 'receivers.otlp.protocols.grpc', errors);
//   if (errors.any()) ...

export class ConfigErrors {
  private readonly items: string[] = [];

  add(path: string, message: string): void {
    this.items.push(path === '' ? message : `${path}: ${message}`);
  }

  any(): boolean {
    return this.items.length > 0;
  }

  list(): readonly string[] {
    return this.items;
  }
}

export class ConfigError extends Error {
  readonly errors: readonly string[];

  constructor(errors: readonly string[]) {
    super(`invalid configuration:\n  ${errors.join('\n  ')}`);
    this.name = 'ConfigError';
    this.errors = errors;
  }
}

export interface Schema<T> {
  /** Decode `value` found at `path`; undefined means "absent" (and, if errors grew, invalid). */
  decode(value: unknown, path: string, errors: ConfigErrors): T | undefined;
  /** Human description of the expected value, for error messages. */
  readonly expected: string;
}

/** A schema whose absent value is replaced by a default (the default is not validated). */
export interface DefaultedSchema<T> extends Schema<T> {
  readonly defaultValue: T;
}

export function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return `"${value}"`;
  return JSON.stringify(value) ?? typeof value;
}

function isAbsent(value: unknown): boolean {
  return value === undefined || value === null;
}

export function string(opts: { nonEmpty?: boolean; pattern?: RegExp; patternHint?: string } = {}): Schema<string> {
  const expected = opts.patternHint ?? 'a string';
  return {
    expected,
    decode(value, path, errors) {
      if (isAbsent(value)) return undefined;
      // YAML turns `1.0` or `true` into non-strings; a config string field accepts scalars as text.
      const text = typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;
      if (text === undefined) {
        errors.add(path, `expected ${expected}, got ${describe(value)}`);
        return undefined;
      }
      if (opts.nonEmpty === true && text.trim() === '') {
        errors.add(path, 'must not be empty');
        return undefined;
      }
      if (opts.pattern !== undefined && !opts.pattern.test(text)) {
        errors.add(path, `expected ${expected}, got "${text}"`);
        return undefined;
      }
      return text;
    },
  };
}

export function number(opts: { min?: number; max?: number; integer?: boolean } = {}): Schema<number> {
  const kind = opts.integer === true ? 'an integer' : 'a number';
  const range =
    opts.min !== undefined && opts.max !== undefined
      ? ` between ${opts.min} and ${opts.max}`
      : opts.min !== undefined
        ? ` >= ${opts.min}`
        : opts.max !== undefined
          ? ` <= ${opts.max}`
          : '';
  const expected = `${kind}${range}`;
  return {
    expected,
    decode(value, path, errors) {
      if (isAbsent(value)) return undefined;
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      if (!Number.isFinite(n) || (opts.integer === true && !Number.isInteger(n))) {
        errors.add(path, `expected ${expected}, got ${describe(value)}`);
        return undefined;
      }
      if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
        errors.add(path, `expected ${expected}, got ${n}`);
        return undefined;
      }
      return n;
    },
  };
}

export function int(opts: { min?: number; max?: number } = {}): Schema<number> {
  return number({ ...opts, integer: true });
}

export function bool(): Schema<boolean> {
  return {
    expected: 'true or false',
    decode(value, path, errors) {
      if (isAbsent(value)) return undefined;
      if (typeof value === 'boolean') return value;
      if (value === 'true' || value === 'false') return value === 'true';
      errors.add(path, `expected true or false, got ${describe(value)}`);
      return undefined;
    },
  };
}

export function oneOf<const T extends string>(values: readonly T[]): Schema<T> {
  const expected = `one of ${values.join(', ')}`;
  return {
    expected,
    decode(value, path, errors) {
      if (isAbsent(value)) return undefined;
      if (typeof value === 'string' && (values as readonly string[]).includes(value)) return value as T;
      errors.add(path, `expected ${expected}, got ${describe(value)}`);
      return undefined;
    },
  };
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION_PART = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;

/** Parses a Go-style duration (`200ms`, `1m30s`, `0`) into milliseconds, or undefined. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === '0') return 0;
  if (t === '') return undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < t.length) {
    const m = DURATION_PART.exec(t);
    if (m === null) return undefined;
    total += Number(m[1]) * (DURATION_UNITS[m[2]!] ?? NaN);
  }
  return Number.isFinite(total) ? total : undefined;
}

/** A duration (`5s`, `200ms`, `1h`) decoded to milliseconds. Bare numbers are rejected: the unit is ambiguous. */
export function duration(opts: { min?: number; max?: number } = {}): Schema<number> {
  const expected = 'a duration such as 200ms, 5s or 1m30s';
  return {
    expected,
    decode(value, path, errors) {
      if (isAbsent(value)) return undefined;
      const ms = typeof value === 'string' ? parseDuration(value) : value === 0 ? 0 : undefined;
      if (ms === undefined) {
        errors.add(path, `expected ${expected}, got ${describe(value)}`);
        return undefined;
      }
      if ((opts.min !== undefined && ms < opts.min) || (opts.max !== undefined && ms > opts.max)) {
        errors.add(path, `duration ${String(value)} out of range (${opts.min ?? 0}ms..${opts.max ?? 'unbounded'}ms)`);
        return undefined;
      }
      return ms;
    },
  };
}

export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port`, `[v6]:port` or `:port` (all interfaces, as in the collector). */
export function parseHostPort(text: string): HostPort | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(text.trim());
  if (m === null) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? (m[2] === '' ? '0.0.0.0' : m[2]!), port };
}

/** A listen or dial address `host:port`. Port 0 is allowed (ephemeral, used by tests). */
export function endpoint(): Schema<string> {
  const expected = 'host:port, e.g. 127.0.0.1:4317';
  return {
    expected,
    decode(value, path, errors) {
      if (isAbsent(value)) return undefined;
      if (typeof value !== 'string' || parseHostPort(value) === undefined) {
        errors.add(path, `expected ${expected}, got ${describe(value)}`);
        return undefined;
      }
      return value.trim();
    },
  };
}

/** An http(s) URL. */
export function url(): Schema<string> {
  const expected = 'an http:// or https:// URL';
  return {
    expected,
    decode(value, path, errors) {
      if (isAbsent(value)) return undefined;
      if (typeof value === 'string') {
        try {
          const u = new URL(value);
          if (u.protocol === 'http:' || u.protocol === 'https:') return value;
        } catch {
          // reported below
        }
      }
      errors.add(path, `expected ${expected}, got ${describe(value)}`);
      return undefined;
    },
  };
}

export function list<T>(item: Schema<T>): Schema<T[]> {
  return {
    expected: `a list of ${item.expected}`,
    decode(value, path, errors) {
      if (isAbsent(value)) return undefined;
      if (!Array.isArray(value)) {
        errors.add(path, `expected a list, got ${describe(value)}`);
        return undefined;
      }
      const out: T[] = [];
      value.forEach((v, i) => {
        const d = item.decode(v, join(path, i), errors);
        if (d !== undefined) out.push(d);
      });
      return out;
    },
  };
}

/** A map with free-form keys (headers, attributes). */
export function record<T>(item: Schema<T>): Schema<Record<string, T>> {
  return {
    expected: `a map of ${item.expected}`,
    decode(value, path, errors) {
      if (isAbsent(value)) return undefined;
      if (typeof value !== 'object' || Array.isArray(value)) {
        errors.add(path, `expected a map, got ${describe(value)}`);
        return undefined;
      }
      const out: Record<string, T> = {};
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        const d = item.decode(v, join(path, k), errors);
        if (d !== undefined) out[k] = d;
      }
      return out;
    },
  };
}

export function withDefault<T>(schema: Schema<T>, defaultValue: T): DefaultedSchema<T> {
  return {
    expected: schema.expected,
    defaultValue,
    decode(value, path, errors) {
      if (isAbsent(value)) return defaultValue;
      return schema.decode(value, path, errors) ?? defaultValue;
    },
  };
}

type Fields = Record<string, Schema<unknown>>;
type Decoded<F extends Fields> = {
  [K in keyof F as F[K] extends DefaultedSchema<unknown> ? K : never]: F[K] extends Schema<infer T> ? T : never;
} & {
  [K in keyof F as F[K] extends DefaultedSchema<unknown> ? never : K]?: F[K] extends Schema<infer T> ? T : never;
};

export interface ObjectSchema<F extends Fields> extends DefaultedSchema<Decoded<F>> {
  readonly fields: F;
  /** Objects always decode (to their defaults at worst); errors are recorded. */
  decode(value: unknown, path: string, errors: ConfigErrors): Decoded<F>;
}

/**
 * A map with known keys. Unknown keys are errors, listing the known ones: a typo must not
 * silently fall back to a default. An absent or empty (`grpc:`) object decodes to its defaults,
 * as in the collector.
 */
export function object<F extends Fields>(
  fields: F,
  opts: { check?: (value: Decoded<F>, path: string, errors: ConfigErrors) => void } = {},
): ObjectSchema<F> {
  const known = Object.keys(fields);
  const decodeObject = (value: unknown, path: string, errors: ConfigErrors): Decoded<F> => {
    const out: Record<string, unknown> = {};
    let raw: Record<string, unknown> = {};
    if (!isAbsent(value)) {
      if (typeof value !== 'object' || Array.isArray(value)) {
        errors.add(path, `expected a map, got ${describe(value)}`);
      } else {
        raw = value as Record<string, unknown>;
      }
    }
    for (const key of Object.keys(raw)) {
      if (!Object.hasOwn(fields, key)) {
        errors.add(join(path, key), `unknown key (known keys: ${known.join(', ')})`);
      }
    }
    for (const key of known) {
      const d = fields[key]!.decode(raw[key], join(path, key), errors);
      if (d !== undefined) out[key] = d;
    }
    const result = out as Decoded<F>;
    opts.check?.(result, path, errors);
    return result;
  };
  return {
    expected: 'a map',
    fields,
    get defaultValue() {
      return decodeObject(undefined, '', new ConfigErrors());
    },
    decode: decodeObject,
  };
}

/** Decode a whole document or throw a ConfigError listing every problem. */
export function decodeOrThrow<T>(schema: Schema<T>, value: unknown, path = ''): T {
  const errors = new ConfigErrors();
  const out = schema.decode(value, path, errors);
  if (errors.any() || out === undefined) {
    throw new ConfigError(errors.any() ? errors.list() : [`${path || 'configuration'}: missing`]);
  }
  return out;
}

/**
 * A block whose presence turns a feature on, as the collector's `protocols: { grpc: }`:
 * absent → undefined (off); present but empty (`grpc:` is null in YAML) → the defaults.
 */
export function presence<T>(schema: Schema<T>): Schema<T> {
  return {
    expected: schema.expected,
    decode(value, path, errors) {
      if (value === undefined) return undefined;
      return schema.decode(value === null ? {} : value, path, errors);
    },
  };
}
