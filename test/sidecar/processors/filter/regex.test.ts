// IsMatch patterns are Go (RE2) regexps: the translation to JavaScript keeps Go's matches where
// the two engines differ. Expected results are Go's regexp.MatchString.
import assert from 'node:assert/strict';
import { compileGoRegex } from '../../../../sidecar/processors/filter/ottl/regex.ts';

const cases: [pattern: string, input: string, goMatches: boolean][] = [
  // `.` excludes only \n in Go (JavaScript's also excludes \r, U+2028, U+2029).
  ['^a.b$', 'a\rb', true],
  ['^a.b$', 'a\u2028b', true],
  ['^a.b$', 'a\nb', false],
  ['(?s)^a.b$', 'a\nb', true],
  // `.` is one code point.
  ['^.$', '😀', true],
  // \s is ASCII whitespace without \v; JavaScript's is Unicode and has \v.
  ['^\\s$', '\u00a0', false],
  ['^\\s$', '\v', false],
  ['^\\s$', '\t', true],
  ['^\\S$', '\u00a0', true],
  // (?m): lines end at \n only.
  ['(?m)^b$', 'a\nb\nc', true],
  ['(?m)^b$', 'a\rb\rc', false],
  ['^b$', 'a\nb', false],
  // Inline flags apply to the rest of the group, each alternative included.
  ['a(?i)b|c', 'C', true],
  ['a(?i)b|c', 'aB', true],
  ['a(?i)b|c', 'AB', false],
  ['(?i:x)y', 'Xy', true],
  ['(?i:x)y', 'XY', false],
  ['(?i)kube-probe', 'KUBE-PROBE/1.30', true],
  // Escapes and classes JavaScript spells differently or refuses under the u flag.
  ['^\\Qa.b*\\E$', 'a.b*', true],
  ['^\\Qa.b*\\E$', 'axbbb', false],
  ['^[[:alpha:]]+[[:digit:]]$', 'abc1', true],
  ['^\\x{1F600}$', '😀', true],
  ['^\\101$', 'A', true],
  ['^\\-\\#\\:$', '-#:', true],
  ['^a{2}b{$', 'aab{', true],
  ['^]$', ']', true],
  ['^\\pL+\\p{Greek}$', 'abcλ', true],
  ['^\\PL$', '1', true],
  ['\\Aab\\z', 'ab', true],
  ['\\Aab\\z', 'ab\n', false],
  ['(?P<name>x)(?<other>y)', 'xy', true],
  ['^[^\\n]+$', 'abc', true],
  ['^[\\d\\s-]+$', '1 2-3', true],
  ['^/(healthz|readyz|livez|metrics)(/|$)', '/healthz/ready', true],
  ['^/(healthz|readyz|livez|metrics)(/|$)', '/healthz-report', false],
];

describe('filter: Go regexp (RE2) patterns for IsMatch', () => {
  for (const [pattern, input, want] of cases) {
    it(`${JSON.stringify(pattern)} ${want ? 'matches' : 'does not match'} ${JSON.stringify(input)}`, () => {
      assert.equal(compileGoRegex(pattern).test(input), want);
    });
  }
});
