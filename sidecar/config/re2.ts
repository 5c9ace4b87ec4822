// Regular expressions written for the collector (Go's RE2 syntax) compiled to JavaScript RegExps
// that match the same strings, or refused with a clear reason. Users copy `pattern:` and
// `match_type: regexp` values (attributes/resource include/exclude and extract) and filter
// IsMatch patterns from collector configs, so a pattern must not silently mean something else
// here. The translation fixes where a plain `new RegExp(pattern)` would differ from Go:
//
// - `.` excludes only `\n` in Go; in JS it also excludes `\r`, U+2028 and U+2029. `.` becomes
//   `[^\n]` (or any character under the `s` flag).
// - `^`/`$` under Go's `m` flag break lines at `\n` only; JS's `m` also at `\r`, U+2028, U+2029.
//   They become lookarounds on `\n`. Without `m` both engines anchor at the text's ends (`\A`,
//   `\z`).
// - `\s` is ASCII whitespace `[\t\n\f\r ]` in Go (no `\v`); JS's is Unicode whitespace.
// - Go matches code points (the `u` flag here); escapes JS refuses under `u` (`\-`, `\#`, a lone
//   `{`, `]` or `}`, octal `\101`, `\a`) are rewritten; `\Q...\E`, POSIX classes `[[:alpha:]]`,
//   `\x{...}`, `\pL`, `\p{Greek}` and `(?P<name>...)` are translated. Inline flags `(?i)`, `(?s)`,
//   `(?m)` (JS only has the scoped `(?i:...)`) apply to the rest of the enclosing group, each
//   alternative included, as in Go.
// - Group names follow RE2's rule (letters, digits, `_`, so `1st` is a name); JS cannot spell all
//   of them, so every group captures by position and `groups` names them.
// - Refused: what Go's regexp refuses too (lookaround, backreferences, `\C`, repeat counts over
//   1000, `\Q` inside a class, duplicate group names) and what JS cannot run the same way: the
//   ungreedy flag `U`, negated POSIX classes `[[:^alpha:]]`, `\S` inside a class.
//
// Matching is an unanchored search in both, as Go's MatchString and FindStringSubmatch. Unlike
// RE2, JS regexps backtrack: a pattern with nested unbounded repeats such as `(a+)+$` can take
// exponential time on a hostile value. Prefer patterns anchored and without nested repetition.

export interface CompiledRe2 {
  regex: RegExp;
  /** Capture group names in order (undefined for an unnamed group): group i is match[i + 1]. */
  groups: (string | undefined)[];
}

export type Re2Result = { ok: true; value: CompiledRe2 } | { ok: false; error: string };

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
// RE2's rule for group names.
const GROUP_NAME = /^[A-Za-z0-9_]+$/;

class Refused extends Error {}

interface Frame {
  /** Scoped-modifier groups opened by inline flags `(?i)` in this group, closed with it. */
  modifierGroups: string[];
  dotAll: boolean;
  multiLine: boolean;
}

export function compileRe2(pattern: string): Re2Result {
  let source: string;
  const groups: (string | undefined)[] = [];
  try {
    source = translate(pattern, groups);
  } catch (err) {
    if (err instanceof Refused) return { ok: false, error: err.message };
    throw err;
  }
  try {
    return { ok: true, value: { regex: new RegExp(source, 'u'), groups } };
  } catch (err) {
    return { ok: false, error: `not a valid regular expression (${(err as Error).message})` };
  }
}

function fail(msg: string): never {
  throw new Refused(msg);
}

/** The JS source for Go pattern `p`; appends each capture group's name (or undefined) to `groups`. */
function translate(p: string, groups: (string | undefined)[]): string {
  let out = '';
  let i = 0;
  const stack: Frame[] = [{ modifierGroups: [], dotAll: false, multiLine: false }];
  const top = () => stack[stack.length - 1]!;

  while (i < p.length) {
    const c = p[i]!;
    switch (c) {
      case '\\': {
        const [js, next] = escape(p, i, false);
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
        const [js, next] = charClass(p, i);
        out += js;
        i = next;
        break;
      }
      case '(': {
        const parent = top();
        const inherit = { dotAll: parent.dotAll, multiLine: parent.multiLine };
        if (p[i + 1] !== '?') {
          stack.push({ modifierGroups: [], ...inherit });
          groups.push(undefined);
          out += '(';
          i++;
          break;
        }
        const rest = p.slice(i + 2);
        if (rest.startsWith('=') || rest.startsWith('!') || rest.startsWith('<=') || rest.startsWith('<!')) {
          fail('lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not RE2 syntax');
        }
        const named = /^P?<([^>]*)>/.exec(rest);
        if (named) {
          const name = named[1]!;
          if (!GROUP_NAME.test(name)) fail(`group name "${name}" must be letters, digits and _ (RE2's rule)`);
          if (groups.includes(name)) fail(`duplicate group name "${name}"`);
          stack.push({ modifierGroups: [], ...inherit });
          groups.push(name);
          out += '(';
          i += 2 + named[0].length;
          break;
        }
        // Go: flags, optionally `-` and at least one flag to clear, then `:` or `)`.
        const flags = /^([imsU]*)(?:-([imsU]+))?([:)])/.exec(rest);
        if (!flags || (flags[1] === '' && flags[2] === undefined && flags[3] === ')')) fail(`invalid or unsupported group syntax "(?${rest.slice(0, 3)}"`);
        const on = flags[1]!;
        const off = flags[2] ?? '';
        if (on.includes('U') || off.includes('U')) {
          fail('the ungreedy flag U has no JavaScript equivalent ((?U) makes repeats lazy by default); write lazy repeats (*?, +?) instead');
        }
        const frame = { ...inherit };
        if (on.includes('s')) frame.dotAll = true;
        if (off.includes('s')) frame.dotAll = false;
        if (on.includes('m')) frame.multiLine = true;
        if (off.includes('m')) frame.multiLine = false;
        const jsMod = (on.includes('i') ? 'i' : '') + (off.includes('i') ? '-i' : '');
        const open = jsMod === '' ? '(?:' : `(?${jsMod}:`;
        i += 2 + flags[0].length;
        if (flags[3] === ':') {
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
          // Not a repetition: a literal brace in Go.
          out += '\\{';
          i++;
          break;
        }
        const min = Number(rep[1]);
        const max = rep[3] === undefined || rep[3] === '' ? min : Number(rep[3]);
        if (min > 1000 || max > 1000) fail(`repeat count above 1000 in ${rep[0]} (RE2 refuses counts over 1000)`);
        if (rep[3] !== undefined && rep[3] !== '' && max < min) fail(`invalid repeat count ${rep[0]}`);
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
  if (stack.length !== 1) fail('missing closing )');
  out += ')'.repeat(stack[0]!.modifierGroups.length);
  return out;
}

/** A literal code point as JS regex source (escaped when it is syntax). */
function literal(cp: number, inClass: boolean): string {
  const ch = String.fromCodePoint(cp);
  if (JS_SYNTAX.has(ch)) return inClass || ch !== '-' ? '\\' + ch : ch;
  if (cp < 0x20 || cp === 0x7f) return `\\u{${cp.toString(16)}}`;
  return ch;
}

/** Translates the escape at p[i] === '\\'; returns [source, next index]. */
function escape(p: string, i: number, inClass: boolean): [string, number] {
  const c = p[i + 1];
  if (c === undefined) fail('trailing backslash');
  switch (c) {
    case 'd':
    case 'D':
    case 'w':
    case 'W':
      return ['\\' + c, i + 2];
    case 'b':
    case 'B':
      if (inClass) fail(`\\${c} is not valid in a character class`);
      return ['\\' + c, i + 2];
    case 's':
      return [inClass ? ASCII_SPACE : `[${ASCII_SPACE}]`, i + 2];
    case 'S':
      if (inClass) fail('\\S inside a character class is not supported here (JavaScript\'s \\S is Unicode-aware, Go\'s is ASCII); use [^\\t\\n\\f\\r ] or list the characters');
      return [`[^${ASCII_SPACE}]`, i + 2];
    case 'A':
      if (inClass) fail('\\A is not valid in a character class');
      return ['^', i + 2];
    case 'z':
      if (inClass) fail('\\z is not valid in a character class');
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
      return fail('\\C (any byte) is not supported: JavaScript matches characters, not bytes');
    case 'Q': {
      if (inClass) fail('\\Q is not valid in a character class');
      // Each character is its own literal, as in Go: `\Qab\E*` repeats only the b.
      const end = p.indexOf('\\E', i + 2);
      const text = end === -1 ? p.slice(i + 2) : p.slice(i + 2, end);
      let s = '';
      for (const ch of text) s += literal(ch.codePointAt(0)!, false);
      return [s, end === -1 ? p.length : end + 2];
    }
    case 'x': {
      const braced = /^\{([0-9A-Fa-f]+)\}/.exec(p.slice(i + 2));
      if (braced) {
        const cp = parseInt(braced[1]!, 16);
        if (cp > 0x10ffff) fail('\\x{...} beyond U+10FFFF');
        return [literal(cp, inClass), i + 2 + braced[0].length];
      }
      const two = /^[0-9A-Fa-f]{2}/.exec(p.slice(i + 2));
      if (!two) fail('\\x needs two hex digits or \\x{...}');
      return [literal(parseInt(two[0], 16), inClass), i + 4];
    }
    case 'p':
    case 'P': {
      let name: string;
      let next: number;
      if (p[i + 2] === '{') {
        const end = p.indexOf('}', i + 3);
        if (end === -1) fail(`missing } in \\${c}{...}`);
        name = p.slice(i + 3, end);
        next = end + 1;
      } else {
        if (p[i + 2] === undefined) fail(`\\${c} needs a class name`);
        name = p[i + 2]!;
        next = i + 3;
      }
      let negated = c === 'P';
      if (name.startsWith('^')) {
        negated = !negated;
        name = name.slice(1);
      }
      if (!/^[A-Za-z_]+$/.test(name)) fail(`invalid Unicode class name "${name}"`);
      // Go takes general categories (L, Lu, ...) and scripts (Greek); JS spells scripts Script=.
      const prop = name === 'Any' ? 'Any' : /^[A-Z][a-z]?$/.test(name) ? name : `Script=${name}`;
      const src = `\\${negated ? 'P' : 'p'}{${prop}}`;
      try {
        new RegExp(src, 'u');
      } catch {
        fail(`Unicode class "${name}" is not known to JavaScript`);
      }
      return [src, next];
    }
    default: {
      if (c >= '0' && c <= '7') {
        const oct = /^[0-7]{1,3}/.exec(p.slice(i + 1))![0];
        if (c !== '0' && oct.length === 1) fail(`backreferences are not RE2 syntax (\\${c})`);
        return [literal(parseInt(oct, 8), inClass), i + 1 + oct.length];
      }
      if (c === '8' || c === '9') fail(`backreferences are not RE2 syntax (\\${c})`);
      // RE2: a backslash before any ASCII character but a letter or digit is that character.
      const cp = p.codePointAt(i + 1)!;
      if (cp < 0x80 && !/[A-Za-z0-9]/.test(c)) return [literal(cp, inClass), i + 2];
      return fail(`invalid escape \\${c}`);
    }
  }
}

/** Translates the class starting at p[i] === '['; returns [source, next index]. */
function charClass(p: string, i: number): [string, number] {
  i++;
  let out = '[';
  if (p[i] === '^') {
    out += '^';
    i++;
  }
  let first = true;
  for (;;) {
    if (i >= p.length) fail('missing closing ]');
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
        if (set === undefined) fail(`unknown POSIX class [:${m[2]}:]`);
        if (m[1] === '^') fail(`negated POSIX class [:^${m[2]}:] is not supported here; write the negated range (e.g. [^A-Za-z])`);
        out += set;
        i += m[0].length;
        continue;
      }
    }
    if (c === '\\') {
      const [js, next] = escape(p, i, true);
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
