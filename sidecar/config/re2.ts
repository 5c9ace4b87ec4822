// Regular expressions written for the collector (Go's RE2 syntax) compiled to JavaScript RegExps
// that match the same strings, or refused with a clear reason. Users copy `pattern:` and
// `match_type: regexp` values from collector configs, so a pattern must not silently mean
// something else here.
//
// Translated: `(?P<name>...)` named groups; flags `(?i)`, `(?s)`, `(?m)` at the start of the
// pattern and in `(?flags:...)` groups; `.` (Go: any character but \n; JS also stops at \r,
// U+2028, U+2029), `\s` (Go: [\t\n\f\r ]; JS: every Unicode space), `^`/`$` in multi-line mode
// (Go: only \n ends a line), `\A`, `\z`, `\Q...\E`, `\pL`, `\p{Greek}`, `\x{...}`, `\a`, octal
// escapes, escaped punctuation, and `{` / `}` that are not a repetition (literal in Go, errors in
// JS's Unicode mode). Refused, because RE2 or JS cannot express them the same way: lookaround and
// backreferences (not RE2), `(?U)`, flags in the middle of a pattern, POSIX classes `[[:alpha:]]`,
// `\C`, repetition counts over 1000 (RE2's limit). Matching is an unanchored search in both, as
// Go's MatchString and FindStringSubmatch.
//
// Unlike RE2, JS regexps backtrack: a pattern with nested quantifiers such as `(a+)+$` can take
// exponential time on a hostile value. Prefer patterns anchored and without nested repetition.

export interface CompiledRe2 {
  regex: RegExp;
  /** Capture group names in order (undefined for an unnamed group): group i is match[i + 1]. */
  groups: (string | undefined)[];
}

export type Re2Result = { ok: true; value: CompiledRe2 } | { ok: false; error: string };

// Characters JS (Unicode mode) lets you escape outside a class.
const JS_SYNTAX = new Set('^$\\.*+?()[]{}|/'.split(''));
const GO_PUNCT = /[!-/:-@[-`{-~]/;
const S_CLASS = '\\t\\n\\f\\r ';
// RE2's rule for group names. The JS pattern gets plain groups (JS names may not start with a
// digit); callers read captures by position, named in `groups`.
const GROUP_NAME = /^[A-Za-z0-9_]+$/;

interface Flags {
  i: boolean;
  m: boolean;
  s: boolean;
}

class Refused extends Error {}

function hex(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}

/** Escapes one literal code point for a JS Unicode-mode pattern (inside or outside a class). */
function literal(ch: string, inClass: boolean): string {
  if (JS_SYNTAX.has(ch) || (inClass && ch === '-')) return `\\${ch}`;
  return ch;
}

export function compileRe2(pattern: string): Re2Result {
  try {
    const t = new Translator(pattern);
    const source = t.run();
    const regex = new RegExp(source, t.jsFlags);
    return { ok: true, value: { regex, groups: t.groups } };
  } catch (err) {
    const msg = err instanceof Refused ? err.message : `not a valid regular expression (${(err as Error).message})`;
    return { ok: false, error: msg };
  }
}

class Translator {
  private readonly p: string;
  private pos = 0;
  private out = '';
  private readonly flagStack: Flags[] = [];
  private flags: Flags = { i: false, m: false, s: false };
  jsFlags = 'u';
  readonly groups: (string | undefined)[] = [];

  constructor(pattern: string) {
    this.p = pattern;
  }

  run(): string {
    // Leading flags apply to the whole pattern.
    const lead = /^\(\?([imsU]+)\)/.exec(this.p);
    if (lead !== null) {
      this.applyFlags(lead[1]!, true);
      this.pos = lead[0].length;
    }
    while (this.pos < this.p.length) this.atom();
    if (this.flagStack.length > 0) throw new Refused('missing closing )');
    return this.out;
  }

  private applyFlags(spec: string, top: boolean): string {
    let on = true;
    let jsMod = '';
    let jsOff = '';
    for (const c of spec) {
      if (c === '-') {
        on = false;
        continue;
      }
      if (c === 'U') throw new Refused('the (?U) flag (ungreedy by default) has no JavaScript equivalent; write lazy quantifiers (*?, +?) instead');
      if (c !== 'i' && c !== 'm' && c !== 's') throw new Refused(`unknown flag ${c} in (?${spec})`);
      this.flags[c] = on;
      if (c === 'i') {
        if (top) this.jsFlags += 'i';
        else if (on) jsMod += 'i';
        else jsOff += 'i';
      }
    }
    return jsMod + (jsOff === '' ? '' : `-${jsOff}`);
  }

  private peek(n = 0): string {
    return this.p[this.pos + n] ?? '';
  }

  private atom(): void {
    const c = this.p[this.pos]!;
    switch (c) {
      case '\\':
        this.escape(false);
        return;
      case '[':
        this.klass();
        return;
      case '(':
        this.open();
        return;
      case ')':
        if (this.flagStack.length === 0) throw new Refused('unexpected )');
        this.flags = this.flagStack.pop()!;
        this.out += ')';
        this.pos++;
        return;
      case '.':
        this.out += this.flags.s ? '[^]' : '[^\\n]';
        this.pos++;
        return;
      case '^':
        this.out += this.flags.m ? '(?<![^\\n])' : '^';
        this.pos++;
        return;
      case '$':
        this.out += this.flags.m ? '(?![^\\n])' : '$';
        this.pos++;
        return;
      case '{': {
        const rep = /^\{(\d+)(,(\d*))?\}/.exec(this.p.slice(this.pos));
        if (rep === null) {
          // Not a repetition: a literal brace in Go.
          this.out += '\\{';
          this.pos++;
          return;
        }
        if (Number(rep[1]) > 1000 || (rep[3] !== undefined && rep[3] !== '' && Number(rep[3]) > 1000)) throw new Refused(`repetition count over 1000 in ${rep[0]} (RE2's limit)`);
        this.out += rep[0];
        this.pos += rep[0].length;
        return;
      }
      case '}':
        this.out += '\\}';
        this.pos++;
        return;
      default: {
        const cp = this.p.codePointAt(this.pos)!;
        const ch = String.fromCodePoint(cp);
        this.out += '*+?|'.includes(ch) ? ch : literal(ch, false);
        this.pos += ch.length;
      }
    }
  }

  private open(): void {
    const rest = this.p.slice(this.pos);
    this.flagStack.push({ ...this.flags });
    if (rest.startsWith('(?=') || rest.startsWith('(?!') || rest.startsWith('(?<=') || rest.startsWith('(?<!')) {
      throw new Refused('lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not RE2 syntax');
    }
    const named = /^\(\?P?<([^>]*)>/.exec(rest);
    if (named !== null) {
      const name = named[1]!;
      if (!GROUP_NAME.test(name)) throw new Refused(`group name "${name}" must be letters, digits and _ (RE2's rule)`);
      if (this.groups.includes(name)) throw new Refused(`duplicate group name "${name}"`);
      this.groups.push(name);
      this.out += '(';
      this.pos += named[0].length;
      return;
    }
    if (rest.startsWith('(?:')) {
      this.out += '(?:';
      this.pos += 3;
      return;
    }
    const flagged = /^\(\?([-imsU]*)(:|\))/.exec(rest);
    if (flagged !== null) {
      if (flagged[2] === ')') throw new Refused(`flags (?${flagged[1]}) are supported only at the start of the pattern; use (?${flagged[1]}:...) for a part of it`);
      const mod = this.applyFlags(flagged[1]!, false);
      this.out += mod === '' ? '(?:' : `(?${mod}:`;
      this.pos += flagged[0].length;
      return;
    }
    if (rest.startsWith('(?')) throw new Refused(`unsupported group syntax ${rest.slice(0, 4)}`);
    this.groups.push(undefined);
    this.out += '(';
    this.pos++;
  }

  /** Translates the escape at pos (a backslash) and appends it; inside a class, returns class items. */
  private escape(inClass: boolean): void {
    const c = this.peek(1);
    if (c === '') throw new Refused('trailing backslash');
    this.pos += 2;
    switch (c) {
      case 'd':
      case 'D':
      case 'w':
      case 'W':
        this.out += `\\${c}`;
        return;
      case 'b':
      case 'B':
        if (inClass) throw new Refused(`\\${c} is not allowed in a character class`);
        this.out += `\\${c}`;
        return;
      case 's':
        this.out += inClass ? S_CLASS : `[${S_CLASS}]`;
        return;
      case 'S':
        if (inClass) throw new Refused('\\S inside a character class has no JavaScript equivalent; use [^\\t\\n\\f\\r ] or list the characters');
        this.out += `[^${S_CLASS}]`;
        return;
      case 'A':
        if (inClass) throw new Refused('\\A is not allowed in a character class');
        this.out += '(?<![^])';
        return;
      case 'z':
        if (inClass) throw new Refused('\\z is not allowed in a character class');
        this.out += '(?![^])';
        return;
      case 'a':
        this.out += '\\x07';
        return;
      case 'f':
      case 't':
      case 'n':
      case 'r':
      case 'v':
        this.out += `\\${c}`;
        return;
      case 'x': {
        const braced = /^\{([0-9A-Fa-f]{1,6})\}/.exec(this.p.slice(this.pos));
        if (braced !== null) {
          this.out += hex(parseInt(braced[1]!, 16));
          this.pos += braced[0].length;
          return;
        }
        const two = /^[0-9A-Fa-f]{2}/.exec(this.p.slice(this.pos));
        if (two === null) throw new Refused('\\x needs two hex digits or \\x{...}');
        this.out += hex(parseInt(two[0], 16));
        this.pos += 2;
        return;
      }
      case 'p':
      case 'P': {
        let name: string;
        if (this.peek() === '{') {
          const end = this.p.indexOf('}', this.pos);
          if (end === -1) throw new Refused(`unclosed \\${c}{`);
          name = this.p.slice(this.pos + 1, end);
          this.pos = end + 1;
        } else {
          name = this.peek();
          this.pos++;
        }
        let negate = c === 'P';
        if (name.startsWith('^')) {
          negate = !negate;
          name = name.slice(1);
        }
        // One- and two-letter names are general categories; longer ones are scripts in RE2.
        const js = /^[A-Z][a-z&]?$/.test(name) ? name : `Script=${name}`;
        this.out += `\\${negate ? 'P' : 'p'}{${js}}`;
        return;
      }
      case 'Q': {
        const end = this.p.indexOf('\\E', this.pos);
        const text = end === -1 ? this.p.slice(this.pos) : this.p.slice(this.pos, end);
        for (const ch of text) this.out += literal(ch, inClass);
        this.pos = end === -1 ? this.p.length : end + 2;
        return;
      }
      case 'C':
        throw new Refused('\\C (any byte) has no JavaScript equivalent');
      default:
        break;
    }
    if (c >= '0' && c <= '7') {
      const oct = /^[0-7]{1,3}/.exec(this.p.slice(this.pos - 1))![0];
      if (oct.length === 1 && c !== '0') throw new Refused(`backreference \\${c} is not RE2 syntax`);
      this.out += hex(parseInt(oct, 8));
      this.pos += oct.length - 1;
      return;
    }
    if (c === '8' || c === '9') throw new Refused(`backreference \\${c} is not RE2 syntax`);
    if (GO_PUNCT.test(c)) {
      this.out += JS_SYNTAX.has(c) || (inClass && c === '-') ? `\\${c}` : hex(c.codePointAt(0)!);
      return;
    }
    throw new Refused(`invalid escape \\${c}`);
  }

  private klass(): void {
    this.pos++;
    this.out += '[';
    if (this.peek() === '^') {
      this.out += '^';
      this.pos++;
    }
    let first = true;
    for (;;) {
      if (this.pos >= this.p.length) throw new Refused('missing closing ]');
      const c = this.peek();
      if (c === ']' && !first) break;
      first = false;
      if (c === '[' && this.peek(1) === ':') throw new Refused('POSIX classes such as [[:alpha:]] have no JavaScript equivalent; write the range (e.g. [A-Za-z])');
      if (c === '\\') {
        this.escape(true);
        continue;
      }
      if (c === '-') {
        this.out += '-';
        this.pos++;
        continue;
      }
      const cp = this.p.codePointAt(this.pos)!;
      const ch = String.fromCodePoint(cp);
      this.out += ch === '[' || ch === ']' ? `\\${ch}` : literal(ch, false);
      this.pos += ch.length;
    }
    this.pos++;
    this.out += ']';
  }
}
