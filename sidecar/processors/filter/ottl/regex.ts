// OTTL's IsMatch takes a Go regexp (RE2 syntax). JavaScript's RegExp differs in ways that change
// which strings match, so patterns are translated rather than passed through, and what cannot be
// translated exactly is refused at config time with the reason:
//
// - `.` excludes only `\n` in Go; in JS it also excludes `\r`, U+2028 and U+2029. `.` becomes
//   `[^\n]` (or any character under the `s` flag).
// - `^`/`$` under Go's `m` flag break lines at `\n` only; JS's `m` also at `\r`, U+2028, U+2029.
//   They become lookarounds on `\n`. Without `m` both engines anchor at the text's ends.
// - `\s` is ASCII whitespace `[\t\n\f\r ]` in Go (no `\v`); JS's is Unicode whitespace.
// - Go matches code points (the `u` flag here); escapes JS rejects under `u` (`\-`, `\#`, a lone
//   `{`, `]` or `}`, octal) are rewritten; `\Q...\E`, POSIX classes, `\x{...}`, `\pL`,
//   `\p{Greek}` and inline flags `(?i)` (JS only has scoped `(?i:...)`) are translated.
// - Refused: what Go's regexp refuses too (lookaround, backreferences, `\C`, repeats above 1000)
//   and the ungreedy flag `U` (no JS equivalent).
//
// Only whether a pattern matches is used (IsMatch is a boolean), so capture groups are all made
// non-capturing and leftmost-first vs. backtracking order does not matter. One difference stays
// and is documented: JS runs patterns with backtracking, RE2 in linear time, so a pattern with
// nested unbounded repeats (`(a+)+$`) can be slow on adversarial input.

export class RegexTranslationError extends Error {
  readonly offset: number;
  constructor(message: string, offset: number) {
    super(message);
    this.name = 'RegexTranslationError';
    this.offset = offset;
  }
}

const ASCII_SPACE = '\\t\\n\\f\\r ';
const POSIX: Record<string, string> = {
  alnum: '0-9A-Za-z',
  alpha: 'A-Za-z',
  ascii: '\\x00-\\x7F',
  blank: '\\t ',
  cntrl: '\\x00-\\x1F\\x7F',
  digit: '0-9',
  graph: '!-~',
  lower: 'a-z',
  print: ' -~',
  punct: '!-\\/:-@\\[-`{-~',
  space: '\\t\\n\\v\\f\\r ',
  upper: 'A-Z',
  word: '0-9A-Za-z_',
  xdigit: '0-9A-Fa-f',
};
// Characters JS accepts escaped under the `u` flag (SyntaxCharacter, plus `-` in classes, `/`).
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/-');

interface Frame {
  /** Scoped-modifier groups opened by inline flags `(?i)` in this group, closed with it. */
  modifierGroups: string[];
  dotAll: boolean;
  multiLine: boolean;
}

/** A JS RegExp with Go regexp (RE2) semantics for matching, or throws RegexTranslationError. */
export function compileGoRegex(pattern: string): RegExp {
  const source = translateGoRegex(pattern);
  try {
    return new RegExp(source, 'u');
  } catch (err) {
    throw new RegexTranslationError(`not a valid RE2 pattern JavaScript can run the same way (${(err as Error).message})`, 0);
  }
}

export function translateGoRegex(p: string): string {
  let out = '';
  let i = 0;
  const stack: Frame[] = [{ modifierGroups: [], dotAll: false, multiLine: false }];
  const top = () => stack[stack.length - 1]!;
  const fail = (msg: string, at = i): never => {
    throw new RegexTranslationError(msg, at);
  };

  while (i < p.length) {
    const c = p[i]!;
    switch (c) {
      case '\\': {
        const [js, next] = escape(p, i, false, fail);
        out += js;
        i = next;
        break;
      }
      case '.':
        out += top().dotAll ? '[^]' : '[^\\n]';
        i++;
        break;
      case '^':
        out += top().multiLine ? '(?<![^\\n])' : '^';
        i++;
        break;
      case '$':
        out += top().multiLine ? '(?![^\\n])' : '$';
        i++;
        break;
      case '[': {
        const [js, next] = charClass(p, i, fail);
        out += js;
        i = next;
        break;
      }
      case '(': {
        const parent = top();
        if (p[i + 1] !== '?') {
          stack.push({ modifierGroups: [], dotAll: parent.dotAll, multiLine: parent.multiLine });
          out += '(?:';
          i++;
          break;
        }
        const rest = p.slice(i + 2);
        const named = /^P?<([A-Za-z0-9_]+)>/.exec(rest);
        if (named) {
          stack.push({ modifierGroups: [], dotAll: parent.dotAll, multiLine: parent.multiLine });
          out += '(?:';
          i += 2 + named[0].length;
          break;
        }
        if (rest.startsWith('=') || rest.startsWith('!') || rest.startsWith('<=') || rest.startsWith('<!')) {
          fail('lookahead and lookbehind are not RE2 syntax (Go rejects them too)');
        }
        const flags = /^([imsU]*)(?:-([imsU]*))?([:)])/.exec(rest);
        if (!flags || (flags[1] === '' && flags[2] === undefined && flags[3] === ')')) fail(`invalid or unsupported group syntax "(?${rest.slice(0, 3)}"`);
        const on = flags![1]!;
        const off = flags![2] ?? '';
        if (on.includes('U') || off.includes('U')) fail('the ungreedy flag U has no JavaScript equivalent; write lazy repeats (*?, +?) instead');
        const frame = { dotAll: parent.dotAll, multiLine: parent.multiLine };
        if (on.includes('s')) frame.dotAll = true;
        if (off.includes('s')) frame.dotAll = false;
        if (on.includes('m')) frame.multiLine = true;
        if (off.includes('m')) frame.multiLine = false;
        const jsMod = (on.includes('i') ? 'i' : '') + (off.includes('i') ? '-i' : '');
        const open = jsMod === '' ? '(?:' : `(?${jsMod}:`;
        i += 2 + flags![0].length;
        if (flags![3] === ':') {
          stack.push({ modifierGroups: [], ...frame });
          out += open;
        } else {
          // `(?i)`: from here to the end of the enclosing group (each alternative of it).
          parent.dotAll = frame.dotAll;
          parent.multiLine = frame.multiLine;
          parent.modifierGroups.push(open);
          out += open;
        }
        break;
      }
      case ')': {
        if (stack.length === 1) fail('unexpected )');
        const f = stack.pop()!;
        out += ')'.repeat(f.modifierGroups.length) + ')';
        i++;
        break;
      }
      case '|': {
        const f = top();
        out += ')'.repeat(f.modifierGroups.length) + '|' + f.modifierGroups.join('');
        i++;
        break;
      }
      case '{': {
        const rep = /^\{(\d+)(,(\d*))?\}/.exec(p.slice(i));
        if (!rep) {
          out += '\\{';
          i++;
          break;
        }
        const min = Number(rep[1]);
        const max = rep[3] === undefined || rep[3] === '' ? min : Number(rep[3]);
        if (min > 1000 || max > 1000) fail('repeat count above 1000 (RE2 refuses it)');
        if (rep[3] !== undefined && rep[3] !== '' && max < min) fail('invalid repeat count');
        out += rep[0];
        i += rep[0].length;
        break;
      }
      case '}':
      case ']':
        out += '\\' + c;
        i++;
        break;
      default: {
        const cp = p.codePointAt(i)!;
        out += String.fromCodePoint(cp);
        i += cp > 0xffff ? 2 : 1;
      }
    }
  }
  if (stack.length !== 1) fail('missing )', p.length);
  out += ')'.repeat(stack[0]!.modifierGroups.length);
  return out;
}

type Fail = (msg: string, at?: number) => never;

/** A literal code point as JS regex source (escaped when it is syntax). */
function literal(cp: number, inClass: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (JS_SYNTAX.has(ch)) return inClass || ch !== '-' ? '\\' + ch : ch;
  if (cp < 0x20 || cp === 0x7f) return `\\u{${cp.toString(16)}}`;
  return ch;
}

/** Translates the escape at p[i] === '\\'; returns [source, next index]. */
function escape(p: string, i: number, inClass: boolean, fail: Fail): [string, number] {
  const c = p[i + 1];
  if (c === undefined) fail('trailing backslash', i);
  switch (c) {
    case 'd':
    case 'D':
    case 'w':
    case 'W':
      return ['\\' + c, i + 2];
    case 'b':
    case 'B':
      if (inClass) fail(`\\${c} is not valid in a character class`, i);
      return ['\\' + c, i + 2];
    case 's':
      return [inClass ? ASCII_SPACE : `[${ASCII_SPACE}]`, i + 2];
    case 'S':
      if (inClass) fail('\\S inside a character class is not supported here (JavaScript\'s \\S is Unicode-aware, Go\'s is ASCII); use [^\\t\\n\\f\\r ] or list the characters', i);
      return [`[^${ASCII_SPACE}]`, i + 2];
    case 'A':
      if (inClass) fail('\\A is not valid in a character class', i);
      return ['^', i + 2];
    case 'z':
      if (inClass) fail('\\z is not valid in a character class', i);
      return ['$', i + 2];
    case 'a':
      return ['\\x07', i + 2];
    case 'f':
    case 't':
    case 'n':
    case 'r':
    case 'v':
      return ['\\' + c, i + 2];
    case 'C':
      return fail('\\C (any byte) is not supported', i);
    case 'Q': {
      if (inClass) fail('\\Q is not valid in a character class', i);
      const end = p.indexOf('\\E', i + 2);
      const text = end === -1 ? p.slice(i + 2) : p.slice(i + 2, end);
      let s = '';
      for (const ch of text) s += literal(ch.codePointAt(0)!, false);
      return [s === '' ? '(?:)' : `(?:${s})`, end === -1 ? p.length : end + 2];
    }
    case 'x': {
      const braced = /^\{([0-9A-Fa-f]+)\}/.exec(p.slice(i + 2));
      if (braced) {
        const cp = parseInt(braced[1]!, 16);
        if (cp > 0x10ffff) fail('\\x{...} beyond U+10FFFF', i);
        return [literal(cp, inClass), i + 2 + braced[0].length];
      }
      const two = /^[0-9A-Fa-f]{2}/.exec(p.slice(i + 2));
      if (!two) fail('\\x needs two hex digits or {hex}', i);
      return [literal(parseInt(two[0], 16), inClass), i + 4];
    }
    case 'p':
    case 'P': {
      let name: string;
      let next: number;
      if (p[i + 2] === '{') {
        const end = p.indexOf('}', i + 3);
        if (end === -1) fail('missing } in \\p{...}', i);
        name = p.slice(i + 3, end);
        next = end + 1;
      } else {
        if (p[i + 2] === undefined) fail('\\p needs a class name', i);
        name = p[i + 2]!;
        next = i + 3;
      }
      let negated = c === 'P';
      if (name.startsWith('^')) {
        negated = !negated;
        name = name.slice(1);
      }
      if (!/^[A-Za-z_]+$/.test(name)) fail(`invalid Unicode class name "${name}"`, i);
      // Go takes general categories (L, Lu, ...) and scripts (Greek); JS spells scripts Script=.
      const prop = name === 'Any' ? 'Any' : /^[A-Z][a-z]?$/.test(name) ? name : `Script=${name}`;
      const src = `\\${negated ? 'P' : 'p'}{${prop}}`;
      try {
        new RegExp(src, 'u');
      } catch {
        fail(`Unicode class "${name}" is not known to JavaScript`, i);
      }
      return [src, next];
    }
    default: {
      if (c >= '0' && c <= '7') {
        const oct = /^[0-7]{1,3}/.exec(p.slice(i + 1))![0];
        if (c !== '0' && oct.length === 1) fail('backreferences are not RE2 syntax', i);
        return [literal(parseInt(oct, 8), inClass), i + 1 + oct.length];
      }
      if (c === '8' || c === '9') fail('backreferences are not RE2 syntax', i);
      // RE2: a backslash before punctuation is that character.
      const cp = p.codePointAt(i + 1)!;
      if (cp < 0x80 && !/[A-Za-z0-9]/.test(c)) return [literal(cp, inClass), i + 2];
      return fail(`invalid escape \\${c}`, i);
    }
  }
}

/** Translates the class starting at p[i] === '['; returns [source, next index]. */
function charClass(p: string, i: number, fail: Fail): [string, number] {
  const start = i;
  i++;
  let out = '[';
  if (p[i] === '^') {
    out += '^';
    i++;
  }
  let first = true;
  for (;;) {
    if (i >= p.length) fail('missing ]', start);
    const c = p[i]!;
    if (c === ']' && !first) {
      i++;
      break;
    }
    first = false;
    if (c === '[' && p[i + 1] === ':') {
      const m = /^\[:(\^?)([a-z]+):\]/.exec(p.slice(i));
      if (m) {
        const set = POSIX[m[2]!];
        if (set === undefined) fail(`unknown POSIX class [:${m[2]}:]`, i);
        if (m[1] === '^') fail(`negated POSIX class [:^${m[2]}:] is not supported here`, i);
        out += set;
        i += m[0].length;
        continue;
      }
    }
    if (c === '\\') {
      const [js, next] = escape(p, i, true, fail);
      out += js;
      i = next;
      continue;
    }
    if (c === '-') {
      out += '-';
      i++;
      continue;
    }
    const cp = p.codePointAt(i)!;
    out += literal(cp, true);
    i += cp > 0xffff ? 2 : 1;
  }
  return [out + ']', i];
}
