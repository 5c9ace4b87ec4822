// Tokenizer and recursive-descent parser for OTTL conditions (the collector's
// pkg/ottl grammar, boolean expressions only): the subset the filter processor compiles, plus
// enough of the rest to name what is not supported instead of failing with a bare syntax error.
//
//   condition  := or EOF
//   or         := and ('or' and)*
//   and        := boolean ('and' boolean)*
//   boolean    := 'not'? ( '(' or ')' | value (cmpOp value)? )   -- a value alone must be a
//                                                                   bool literal or a call
//   value      := 'nil' | STRING | INT | FLOAT | BYTES | 'true' | 'false' | ENUM | path | call
//   path       := name ('.' name)* key*            key := '[' (STRING | INT) ']'
//   call       := Name '(' (arg (',' arg)*)? ')'   arg := (name '=')? value
//
// Literals follow the OTTL lexer: strings in double quotes with Go escapes, INT `[-+]?\d+`
// (int64), FLOAT `[-+]?\d*\.\d+([eE][-+]?\d+)?`, BYTES `0x<hex>`; ENUM is an all-caps word
// (SPAN_KIND_SERVER). Precedence: not > comparison > and > or. Positions are 1-based columns.

export class OttlError extends Error {
  /** 1-based column in the condition text. */
  readonly column: number;
  constructor(message: string, column: number) {
    super(message);
    this.name = 'OttlError';
    this.column = column;
  }
}

export type CmpOp = '==' | '!=' | '<' | '<=' | '>' | '>=';

export type Literal =
  | { kind: 'nil' }
  | { kind: 'string'; value: string }
  | { kind: 'int'; value: bigint }
  | { kind: 'float'; value: number }
  | { kind: 'bool'; value: boolean }
  | { kind: 'bytes'; value: Uint8Array };

export type ValueNode =
  | { type: 'literal'; lit: Literal; col: number }
  | { type: 'enum'; name: string; col: number }
  | { type: 'path'; fields: string[]; keys: (string | bigint)[]; keysAfter: number; col: number; text: string }
  | { type: 'call'; name: string; args: ArgNode[]; col: number };

export interface ArgNode {
  name: string | undefined;
  value: ValueNode;
  col: number;
}

export type BoolNode =
  | { type: 'or'; items: BoolNode[] }
  | { type: 'and'; items: BoolNode[] }
  | { type: 'not'; item: BoolNode; col: number }
  | { type: 'cmp'; op: CmpOp; left: ValueNode; right: ValueNode; col: number }
  | { type: 'const'; value: ValueNode; col: number };

type TokKind = 'string' | 'int' | 'float' | 'bytes' | 'ident' | 'op' | 'punct' | 'math' | 'eof';
interface Token {
  kind: TokKind;
  text: string;
  col: number;
  /** Decoded value of a string literal. */
  str?: string;
}

const FLOAT = /^[-+]?\d*\.\d+(?:[eE][-+]?\d+)?/;
const INT = /^[-+]?\d+/;
const BYTES = /^0x[a-fA-F0-9]+/;
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*/;
const OPS = ['==', '!=', '>=', '<=', '>', '<'];

function unquote(text: string, col: number): string {
  // Go's strconv.Unquote for a double-quoted string (what the OTTL parser applies).
  let out = '';
  for (let i = 1; i < text.length - 1; i++) {
    const c = text[i]!;
    if (c === '\n') throw new OttlError('newline inside a string', col + i);
    if (c !== '\\') {
      out += c;
      continue;
    }
    const e = text[++i]!;
    const hex = (n: number): string => {
      const h = text.slice(i + 1, i + 1 + n);
      if (!new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(h)) throw new OttlError(`invalid \\${e} escape in string`, col + i - 1);
      const cp = parseInt(h, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) throw new OttlError(`invalid code point in \\${e} escape`, col + i - 1);
      i += n;
      return String.fromCodePoint(cp);
    };
    switch (e) {
      case 'a':
        out += '\x07';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '"':
        out += '"';
        break;
      case 'x':
        out += hex(2);
        break;
      case 'u':
        out += hex(4);
        break;
      case 'U':
        out += hex(8);
        break;
      default:
        if (e >= '0' && e <= '7') {
          const o = text.slice(i, i + 3);
          if (!/^[0-7]{3}$/.test(o)) throw new OttlError('octal escape needs three digits', col + i - 1);
          out += String.fromCharCode(parseInt(o, 8));
          i += 2;
          break;
        }
        throw new OttlError(`invalid escape \\${e} in string (Go string escapes: \\" \\\\ \\n \\t \\r \\xHH \\uHHHH ...)`, col + i - 1);
    }
  }
  return out;
}

export function tokenize(src: string): Token[] {
  const toks: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const col = i + 1;
    const rest = src.slice(i);
    let m: RegExpExecArray | null;
    if ((m = BYTES.exec(rest))) {
      toks.push({ kind: 'bytes', text: m[0], col });
    } else if ((m = FLOAT.exec(rest))) {
      toks.push({ kind: 'float', text: m[0], col });
    } else if ((m = INT.exec(rest))) {
      toks.push({ kind: 'int', text: m[0], col });
    } else if (c === '"') {
      let j = i + 1;
      while (j < src.length && src[j] !== '"') j += src[j] === '\\' ? 2 : 1;
      if (j >= src.length) throw new OttlError('string not closed (missing ")', col);
      const text = src.slice(i, j + 1);
      toks.push({ kind: 'string', text, col, str: unquote(text, col) });
      i = j + 1;
      continue;
    } else if ((m = IDENT.exec(rest))) {
      toks.push({ kind: 'ident', text: m[0], col });
    } else if (OPS.some((op) => rest.startsWith(op))) {
      const op = OPS.find((o) => rest.startsWith(o))!;
      toks.push({ kind: 'op', text: op, col });
      i += op.length;
      continue;
    } else if ('+-*/'.includes(c)) {
      toks.push({ kind: 'math', text: c, col });
    } else if ('()[],.{}:='.includes(c)) {
      toks.push({ kind: 'punct', text: c, col });
    } else {
      throw new OttlError(`unexpected character ${JSON.stringify(c)}`, col);
    }
    i += toks[toks.length - 1]!.text.length;
  }
  toks.push({ kind: 'eof', text: '', col: src.length + 1 });
  return toks;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function describe(t: Token): string {
  if (t.kind === 'eof') return 'the end of the condition';
  return t.kind === 'string' ? t.text : `"${t.text}"`;
}

/** Parses one condition; throws OttlError with the column of the problem. */
export function parseCondition(src: string): BoolNode {
  const toks = tokenize(src);
  let p = 0;
  const peek = (o = 0): Token => toks[Math.min(p + o, toks.length - 1)]!;
  const next = (): Token => toks[p++]!;
  const isWord = (t: Token, w: string) => t.kind === 'ident' && t.text === w;
  const isPunct = (t: Token, s: string) => t.kind === 'punct' && t.text === s;
  const expectPunct = (s: string, what: string): Token => {
    const t = next();
    if (!isPunct(t, s)) throw new OttlError(`expected "${s}" ${what}, got ${describe(t)}`, t.col);
    return t;
  };

  function or(): BoolNode {
    const items = [and()];
    while (isWord(peek(), 'or')) {
      next();
      items.push(and());
    }
    return items.length === 1 ? items[0]! : { type: 'or', items };
  }

  function and(): BoolNode {
    const items = [boolean()];
    while (isWord(peek(), 'and')) {
      next();
      items.push(boolean());
    }
    return items.length === 1 ? items[0]! : { type: 'and', items };
  }

  function boolean(): BoolNode {
    const t = peek();
    if (isWord(t, 'not')) {
      next();
      if (isWord(peek(), 'not')) throw new OttlError('"not not" is not OTTL: one "not" per boolean value', peek().col);
      return { type: 'not', item: booleanInner(), col: t.col };
    }
    return booleanInner();
  }

  function booleanInner(): BoolNode {
    const t = peek();
    if (isPunct(t, '(')) {
      next();
      const inner = or();
      const close = next();
      if (close.kind === 'math' || (close.kind === 'op' && inner.type !== 'cmp')) {
        throw new OttlError('math expressions are not supported in filter conditions here', close.col);
      }
      if (!isPunct(close, ')')) throw new OttlError(`expected ")" to close the "(" at column ${t.col}, got ${describe(close)}`, close.col);
      return inner;
    }
    const left = value();
    const op = peek();
    if (op.kind === 'math') throw new OttlError('math expressions (+ - * /) are not supported in filter conditions here', op.col);
    if (op.kind === 'op') {
      next();
      const right = value();
      const after = peek();
      if (after.kind === 'math') throw new OttlError('math expressions (+ - * /) are not supported in filter conditions here', after.col);
      if (after.kind === 'op') throw new OttlError(`comparisons do not chain: use "and" between "${op.text}" and "${after.text}"`, after.col);
      return { type: 'cmp', op: op.text as CmpOp, left, right, col: op.col };
    }
    if (left.type === 'call' || (left.type === 'literal' && left.lit.kind === 'bool')) return { type: 'const', value: left, col: left.col };
    const what = left.type === 'path' ? `path "${left.text}"` : left.type === 'enum' ? `"${left.name}"` : 'a literal';
    if (op.kind === 'eof' || isWord(op, 'and') || isWord(op, 'or') || isPunct(op, ')')) {
      throw new OttlError(`${what} is not a condition on its own: compare it (==, !=, <, <=, >, >=) or pass it to a function`, left.col);
    }
    throw new OttlError(`expected a comparison operator after ${what}, got ${describe(op)}`, op.col);
  }

  function value(): ValueNode {
    const t = next();
    switch (t.kind) {
      case 'string':
        return { type: 'literal', lit: { kind: 'string', value: t.str! }, col: t.col };
      case 'int': {
        const v = BigInt(t.text);
        if (v < INT64_MIN || v > INT64_MAX) throw new OttlError(`integer ${t.text} does not fit in int64`, t.col);
        return { type: 'literal', lit: { kind: 'int', value: v }, col: t.col };
      }
      case 'float':
        return { type: 'literal', lit: { kind: 'float', value: Number(t.text) }, col: t.col };
      case 'bytes': {
        const hex = t.text.slice(2);
        if (hex.length % 2 !== 0) throw new OttlError(`bytes literal ${t.text} has an odd number of hex digits`, t.col);
        return { type: 'literal', lit: { kind: 'bytes', value: Uint8Array.from(Buffer.from(hex, 'hex')) }, col: t.col };
      }
      case 'ident':
        return identValue(t);
      case 'punct':
        if (t.text === '[') throw new OttlError('list literals are not supported in filter conditions here', t.col);
        if (t.text === '{') throw new OttlError('map literals are not supported in filter conditions here', t.col);
        if (t.text === '(') throw new OttlError('math expressions are not supported in filter conditions here', t.col);
        throw new OttlError(`expected a value, got ${describe(t)}`, t.col);
      case 'math':
        throw new OttlError('math expressions (+ - * /) are not supported in filter conditions here', t.col);
      default:
        throw new OttlError(`expected a value, got ${describe(t)}`, t.col);
    }
  }

  function identValue(t: Token): ValueNode {
    const w = t.text;
    if (w === 'nil') return { type: 'literal', lit: { kind: 'nil' }, col: t.col };
    if (w === 'true' || w === 'false') return { type: 'literal', lit: { kind: 'bool', value: w === 'true' }, col: t.col };
    if (w === 'not' || w === 'and' || w === 'or') throw new OttlError(`expected a value, got "${w}"`, t.col);
    if (isPunct(peek(), '(')) return call(t);
    if (/^[A-Z][A-Z0-9_]*$/.test(w)) return { type: 'enum', name: w, col: t.col };
    if (/^[A-Z]/.test(w)) throw new OttlError(`"${w}" is neither a path (paths are lowercase) nor a function call`, t.col);
    return path(t);
  }

  function path(first: Token): ValueNode {
    const fields = [first.text];
    const keys: (string | bigint)[] = [];
    let keysAfter = -1;
    let text = first.text;
    for (;;) {
      if (isPunct(peek(), '.')) {
        if (keys.length > 0) throw new OttlError('a path cannot continue after an index ([...])', peek().col);
        next();
        const f = next();
        if (f.kind !== 'ident' || !/^[a-z]/.test(f.text)) throw new OttlError(`expected a lowercase path segment after ".", got ${describe(f)}`, f.col);
        fields.push(f.text);
        text += '.' + f.text;
      } else if (isPunct(peek(), '[')) {
        next();
        const k = next();
        if (k.kind === 'string') keys.push(k.str!);
        else if (k.kind === 'int') keys.push(BigInt(k.text));
        else throw new OttlError(`an index must be a string or an integer literal, got ${describe(k)}`, k.col);
        if (keysAfter === -1) keysAfter = fields.length;
        expectPunct(']', 'to close the index');
        text += `[${k.text}]`;
      } else {
        break;
      }
    }
    return { type: 'path', fields, keys, keysAfter, col: first.col, text };
  }

  function call(nameTok: Token): ValueNode {
    next(); // (
    const args: ArgNode[] = [];
    if (!isPunct(peek(), ')')) {
      for (;;) {
        const start = peek();
        let name: string | undefined;
        if (start.kind === 'ident' && isPunct(peek(1), '=')) {
          name = start.text;
          next();
          next();
        }
        args.push({ name, value: value(), col: start.col });
        const sep = peek();
        if (sep.kind === 'op' || sep.kind === 'math') throw new OttlError('function arguments must be single values here (no comparisons or math inside a call)', sep.col);
        if (isPunct(sep, ',')) {
          next();
          continue;
        }
        break;
      }
    }
    expectPunct(')', `to close the call of ${nameTok.text}`);
    if (isPunct(peek(), '[')) throw new OttlError('indexing the result of a function is not supported in filter conditions here', peek().col);
    return { type: 'call', name: nameTok.text, args, col: nameTok.col };
  }

  const root = or();
  const end = peek();
  if (end.kind !== 'eof') {
    if (end.kind === 'ident' && end.text === 'where') throw new OttlError('"where" belongs to statements; a filter condition is only the boolean expression', end.col);
    if (isPunct(end, ')')) throw new OttlError('unmatched ")"', end.col);
    throw new OttlError(`unexpected ${describe(end)} after a complete condition (missing "and"/"or"?)`, end.col);
  }
  return root;
}
