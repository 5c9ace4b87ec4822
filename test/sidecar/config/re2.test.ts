// Collector (RE2) patterns compiled to JS regexps that match what Go matches, or refused with a
// reason. The cases are where a naive `new RegExp(pattern)` would differ from Go. One module serves
// the attributes/resource processors' regexps and the filter processor's IsMatch.
import assert from 'node:assert/strict';
import { compileRe2 } from '../../../sidecar/config/re2.ts';

function re(pattern: string): RegExp {
  const c = compileRe2(pattern);
  assert.ok(c.ok, `${pattern}: ${c.ok ? '' : c.error}`);
  return c.value.regex;
}

describe('RE2 patterns in JavaScript', () => {
  // [pattern, input, does Go's MatchString say it matches]
  const cases: [string, string, boolean][] = [
    ['^a.b$', 'a\rb', true], // Go's . stops only at \n
    ['^a.b$', 'a\u2028b', true],
    ['^a.b$', 'a\nb', false],
    ['(?s)^a.b$', 'a\nb', true],
    ['^\\s$', '\u00a0', false], // Go's \s is ASCII
    ['^\\s$', '\t', true],
    ['^[\\s,]+$', ' ,\n', true],
    ['^\\S+$', 'a\u00a0b', true],
    ['(?m)^b', 'a\rb', false], // only \n ends a line in Go
    ['(?m)^b', 'a\nb', true],
    ['(?m)a$', 'a\r\n', false],
    ['(?m)a$', 'a\nb', true],
    ['b$', 'ab\n', false],
    ['\\Aab', 'ab', true],
    ['b\\z', 'ab\n', false],
    ['^\\Qa.b\\E$', 'a.b', true],
    ['^\\Qa.b\\E$', 'axb', false],
    ['^a{,2}$', 'a{,2}', true], // not a repetition in Go: literal
    ['^a{2}$', 'aa', true],
    ['^x}$', 'x}', true],
    ['^\\pL+$', 'héllo', true],
    ['^\\p{Greek}+$', 'αβγ', true],
    ['^\\PL$', '1', true],
    ['(?i)^abc$', 'ABC', true],
    ['^(?i:a)b$', 'Ab', true],
    ['^(?i:a)b$', 'AB', false],
    ['^\\x{41}\\x42\\101$', 'ABA', true],
    ['^\\-\\#\\%$', '-#%', true], // escaped punctuation JS's Unicode mode would refuse
    ['^[]a]+$', ']a]', true],
    ['^[^]a]$', 'b', true],
    ['^[a\\-z]+$', '-az', true],
    ['^\\a$', '\x07', true],
    ['^😀.$', '😀😀', true], // code points, not UTF-16 halves
    ['GET', 'a GET b', true], // unanchored search
    // From the filter processor's IsMatch suite (the two now share this module).
    ['^.$', '😀', true], // `.` is one code point
    ['^\\s$', '\v', false], // Go's \s has no \v
    ['^\\S$', '\u00a0', true],
    ['(?m)^b$', 'a\nb\nc', true],
    ['(?m)^b$', 'a\rb\rc', false],
    ['^b$', 'a\nb', false],
    // Inline flags apply to the rest of the group, each alternative included.
    ['a(?i)b|c', 'C', true],
    ['a(?i)b|c', 'aB', true],
    ['a(?i)b|c', 'AB', false],
    ['a(?i)b', 'aB', true],
    ['(?i:x)y', 'Xy', true],
    ['(?i:x)y', 'XY', false],
    ['(?i)kube-probe', 'KUBE-PROBE/1.30', true],
    ['^\\Qa.b*\\E$', 'a.b*', true],
    ['^\\Qa.b*\\E$', 'axbbb', false],
    ['^\\Qab\\E*$', 'abbb', true], // as in Go, a repeat after \E applies to the last character only
    ['^\\Qab\\E*$', 'abab', false],
    ['^[[:alpha:]]+[[:digit:]]$', 'abc1', true],
    ['^[[:alpha:]]$', '1', false],
    ['^\\x{1F600}$', '😀', true],
    ['^\\101$', 'A', true],
    ['^\\-\\#\\:$', '-#:', true],
    ['^a{2}b{$', 'aab{', true],
    ['^]$', ']', true],
    ['^\\pL+\\p{Greek}$', 'abcλ', true],
    ['\\Aab\\z', 'ab', true],
    ['\\Aab\\z', 'ab\n', false],
    ['(?P<name>x)(?<other>y)', 'xy', true],
    ['^[^\\n]+$', 'abc', true],
    ['^[\\d\\s-]+$', '1 2-3', true],
    ['^/(healthz|readyz|livez|metrics)(/|$)', '/healthz/ready', true],
    ['^/(healthz|readyz|livez|metrics)(/|$)', '/healthz-report', false],
  ];
  for (const [pattern, input, want] of cases) {
    it(`${JSON.stringify(pattern)} on ${JSON.stringify(input)} -> ${want}`, () => {
      assert.equal(re(pattern).test(input), want);
    });
  }

  it('reads named groups, (?P<n>) and (?<n>)', () => {
    const c = compileRe2('^(?P<host>[^:]+):(?<port>\\d+)(?:/(\\w+))?$');
    assert.ok(c.ok);
    assert.deepEqual(c.value.groups, ['host', 'port', undefined]);
    assert.deepEqual([...c.value.regex.exec('a:80/x')!].slice(1), ['a', '80', 'x']);
    // RE2 allows a name starting with a digit, which JS group names do not: captures are positional.
    const digit = compileRe2('^(?P<1st>\\w)');
    assert.ok(digit.ok);
    assert.deepEqual(digit.value.groups, ['1st']);
  });

  const refused: [string, RegExp][] = [
    ['(?<=a)b', /lookahead and lookbehind/],
    ['a(?!b)', /lookahead and lookbehind/],
    ['(a)\\1', /backreference/],
    ['(?U)a+', /\(\?U\)/],
    ['[[:^alpha:]]', /negated POSIX class/],
    ['[[:alfa:]]', /unknown POSIX class \[:alfa:\]/],
    ['(?i-)a', /invalid or unsupported group syntax/], // Go: a - needs a flag after it
    ['[\\Qa\\E]', /\\Q is not valid in a character class/],
    ['\\p{Klingon}', /Unicode class "Klingon" is not known/],
    ['a{2,1}', /invalid repeat count/],
    ['\\C', /any byte/],
    ['a{1001}', /over 1000/],
    ['\\e', /invalid escape/],
    ['(?P<a.b>a)', /must be letters/],
    ['(?P<a>x)(?P<a>y)', /duplicate group name/],
    ['(a', /missing closing \)|not a valid/],
    ['a)', /unexpected \)/],
    ['[a', /missing closing ]/],
    ['a**', /not a valid regular expression/],
    ['[\\S]', /\\S inside a character class/],
  ];
  for (const [pattern, why] of refused) {
    it(`refuses ${JSON.stringify(pattern)}`, () => {
      const c = compileRe2(pattern);
      assert.equal(c.ok, false);
      assert.match(c.ok ? '' : c.error, why);
    });
  }
});
