// The OTTL condition parser and compiler: what parses into which tree, and every way a condition is
// refused, with the column and a message naming what is wrong or not supported.
import assert from 'node:assert/strict';
import { compileCondition, type OttlContext } from '../../../../sidecar/processors/filter/ottl/compile.ts';
import { OttlError, parseCondition, tokenize } from '../../../../sidecar/processors/filter/ottl/parser.ts';
import { newConditionKeys } from '../../../../sidecar/processors/filter/ottl/records.ts';

function refusal(text: string, ctx: OttlContext = 'span'): { message: string; column: number } {
  try {
    compileCondition(text, ctx, newConditionKeys());
  } catch (err) {
    assert.ok(err instanceof OttlError, `expected an OttlError, got ${String(err)}`);
    return { message: err.message, column: err.column };
  }
  assert.fail(`expected ${JSON.stringify(text)} to be refused`);
}

describe('filter: OTTL condition parser', () => {
  it('parses precedence as OTTL does: not > comparison > and > or, parentheses first', () => {
    const tree = parseCondition('not name == "a" or kind == SPAN_KIND_SERVER and (status.code != 2 or true)');
    assert.equal(tree.type, 'or');
    const [left, right] = (tree as { items: unknown[] }).items as [{ type: string; item: { type: string; op: string } }, { type: string; items: { type: string }[] }];
    assert.equal(left.type, 'not');
    assert.equal(left.item.type, 'cmp');
    assert.equal(left.item.op, '==');
    assert.equal(right.type, 'and');
    assert.deepEqual(
      right.items.map((i) => i.type),
      ['cmp', 'or'],
    );
  });

  it('reads literals as the OTTL lexer does: Go string escapes, int64, floats, bytes, bools, nil, enums', () => {
    const value = (src: string) => (parseCondition(`name == ${src}`) as { right: unknown }).right;
    assert.deepEqual(value(String.raw`"a\"b\\c\n\t\x41\u00e9\U0001F600\101"`), { type: 'literal', lit: { kind: 'string', value: 'a"b\\c\n\tAé😀A' }, col: 9 });
    assert.deepEqual(value('-9223372036854775808'), { type: 'literal', lit: { kind: 'int', value: -(2n ** 63n) }, col: 9 });
    assert.deepEqual(value('+12'), { type: 'literal', lit: { kind: 'int', value: 12n }, col: 9 });
    assert.deepEqual(value('.5e3'), { type: 'literal', lit: { kind: 'float', value: 500 }, col: 9 });
    assert.deepEqual(value('-1.25'), { type: 'literal', lit: { kind: 'float', value: -1.25 }, col: 9 });
    assert.deepEqual(value('0xCAfe'), { type: 'literal', lit: { kind: 'bytes', value: Uint8Array.from([0xca, 0xfe]) }, col: 9 });
    assert.deepEqual(value('false'), { type: 'literal', lit: { kind: 'bool', value: false }, col: 9 });
    assert.deepEqual(value('nil'), { type: 'literal', lit: { kind: 'nil' }, col: 9 });
    assert.deepEqual(value('STATUS_CODE_ERROR'), { type: 'enum', name: 'STATUS_CODE_ERROR', col: 9 });
  });

  it('parses paths with context prefixes and nested keys, and calls with named arguments', () => {
    const cmp = parseCondition('resource.attributes["k8s.pod.name"]["x"][0] != nil') as { left: unknown };
    assert.deepEqual(cmp.left, { type: 'path', fields: ['resource', 'attributes'], keys: ['k8s.pod.name', 'x', 0n], keysAfter: 2, col: 1, text: 'resource.attributes["k8s.pod.name"]["x"][0]' });
    const call = parseCondition('IsMatch(pattern = "^a", target = name)') as { value: { name: string; args: { name: string }[] } };
    assert.equal(call.value.name, 'IsMatch');
    assert.deepEqual(
      call.value.args.map((a) => a.name),
      ['pattern', 'target'],
    );
  });

  it('tokenizes whitespace-free input and keeps columns', () => {
    assert.deepEqual(
      tokenize('name=="x"and(kind>=1)').map((t) => [t.kind, t.text, t.col]),
      [
        ['ident', 'name', 1],
        ['op', '==', 5],
        ['string', '"x"', 7],
        ['ident', 'and', 10],
        ['punct', '(', 13],
        ['ident', 'kind', 14],
        ['op', '>=', 18],
        ['int', '1', 20],
        ['punct', ')', 21],
        ['eof', '', 22],
      ],
    );
  });

  it('compiles every supported path, function and operator in span and spanevent contexts', () => {
    const span = [
      'name == "GET /healthz"',
      'span.name != "x"',
      'kind == SPAN_KIND_SERVER or kind.string == "Server" or kind.deprecated_string == "SPAN_KIND_SERVER"',
      'status.code == STATUS_CODE_ERROR and status.message != ""',
      'trace_state == "" and trace_id.string != "" and span_id.string != "" and parent_span_id.string == ""',
      'start_time_unix_nano > 0 and end_time_unix_nano >= start_time_unix_nano',
      'attributes["http.response.status_code"] >= 500',
      'attributes["a"]["b"][1] < 2.5',
      'resource.attributes["service.name"] == "checkout"',
      'instrumentation_scope.name == "io.opentelemetry.http" and instrumentation_scope.version <= "2"',
      'scope.attributes["k"] == nil',
      'IsMatch(attributes["url.path"], "^/healthz") and not IsString(attributes["x"])',
      'IsInt(attributes["a"]) or IsDouble(attributes["a"]) or IsBool(attributes["a"]) or IsMap(attributes["a"]) or IsList(attributes["a"])',
      'true',
      'IsMatch(name, "x") == false',
    ];
    for (const t of span) assert.doesNotThrow(() => compileCondition(t, 'span', newConditionKeys()), t);
    const event = ['name == "exception"', 'spanevent.name == "x"', 'attributes["exception.type"] == "E"', 'time_unix_nano > 0', 'span.name == "GET /" and span.kind == 2', 'resource.attributes["a"] == "b"'];
    for (const t of event) assert.doesNotThrow(() => compileCondition(t, 'spanevent', newConditionKeys()), t);
  });

  const refused: [string, RegExp, number, OttlContext?][] = [
    // Syntax.
    ['', /expected a value, got the end of the condition/, 1],
    ['name ==', /expected a value, got the end of the condition/, 8],
    ['name == "open', /string not closed/, 9],
    ['name == "a\\qb"', /invalid escape \\q in string/, 11],
    ["name == \"it\\'s\"", /invalid escape \\' in string/, 12],
    ['name == "\\x4"', /invalid \\x escape/, 10],
    ['name == "\\ud800"', /invalid code point/, 10],
    ['name == "\\12"', /octal escape needs three digits/, 10],
    ['name == "a" "b"', /unexpected "b" after a complete condition/, 13],
    ['name == "a" or', /expected a value, got the end/, 15],
    ['(name == "a"', /expected "\)" to close the "\(" at column 1/, 13],
    ['name == "a")', /unmatched "\)"/, 12],
    ['name', /path "name" is not a condition on its own/, 1],
    ['name "x"', /expected a comparison operator after path "name", got "x"/, 6],
    ['not not true', /"not not" is not OTTL/, 5],
    ['1 == 1 == 1', /comparisons do not chain/, 8],
    ['name == @', /unexpected character "@"/, 9],
    ['name == 99999999999999999999', /does not fit in int64/, 9],
    ['name == 0xabc', /odd number of hex digits/, 9],
    ['attributes[name] == "x"', /an index must be a string or an integer literal/, 12],
    ['attributes["a"].b == "x"', /cannot continue after an index/, 16],
    ['set(name, "x") where true', /"where" belongs to statements/, 16],
    ['set(name, "x")', /function "set" is not supported in filter conditions here \(an editor/, 1],
    ['name == "x" where true', /"where" belongs to statements/, 13],
    ['Name == "x"', /"Name" is neither a path/, 1],
    // Outside the subset.
    ['replace_pattern(name, "a", "b")', /function "replace_pattern" is not supported in filter conditions here \(an editor.*\); supported: IsMatch, IsString, IsInt, IsDouble, IsBool, IsMap, IsList/, 1],
    ['Concat([name, "x"], "") == "y"', /list literals are not supported/, 8],
    ['Concat(name, "x") == "y"', /function "Concat" is not supported in filter conditions here; supported: IsMatch/, 1],
    ['HasAttrOnDatapoint("k", "v")', /function "HasAttrOnDatapoint" is not supported/, 1],
    ['name == "a" + "b"', /math expressions/, 13],
    ['end_time_unix_nano - start_time_unix_nano > 1000', /math expressions/, 20],
    ['(1 + 2) == 3', /math expressions/, 4],
    ['attributes == {"a": "b"}', /map literals are not supported/, 15],
    ['Len(name)["x"] == 1', /indexing the result of a function is not supported/, 10],
    ['IsMatch(name == "a", "x")', /function arguments must be single values/, 14],
    ['events == nil', /path "events" is not supported in span conditions here; supported: name, kind,/, 1],
    ['cache["x"] == nil', /path "cache\["x"\]" is not supported/, 1],
    ['resource.dropped_attributes_count == 0', /path "resource.dropped_attributes_count" is not supported/, 1],
    ['spanevent.name == "x"', /path "spanevent.name" is not supported in span conditions/, 1],
    ['time_unix_nano > 0', /path "time_unix_nano" is not supported in span conditions/, 1],
    ['kind.string == "Server"', /path "kind.string" is not supported in spanevent conditions here; supported: name, time_unix_nano, attributes\["key"\], span.name/, 1, 'spanevent'],
    ['attributes == nil', /"attributes" without a key is not supported .*attributes\["key"\]/, 1],
    ['attributes[0] == nil', /attributes are indexed by a string key/, 1],
    ['name["x"] == nil', /"name" cannot be indexed/, 1],
    ['kind == SPAN_KIND_SRVER', /unknown enum "SPAN_KIND_SRVER"; known: SPAN_KIND_UNSPECIFIED/, 9],
    // Function arguments.
    ['IsMatch(name)', /IsMatch needs its "pattern" argument \(IsMatch\(target, pattern\)\)/, 1],
    ['IsMatch(name, "a", "b")', /IsMatch takes 2 arguments \(target, pattern\), got 3/, 20],
    ['IsMatch(name, attributes["p"])', /IsMatch: the pattern must be a string literal/, 15],
    ['IsMatch(target = name, "x")', /positional arguments must come before named ones/, 24],
    ['IsMatch(name, regex = "x")', /IsMatch has no parameter "regex" \(parameters: target, pattern\)/, 15],
    ['IsMatch(name, pattern = "x", pattern = "y")', /"pattern" given twice/, 30],
    ['IsString()', /IsString needs its "target" argument/, 1],
    // Regular expressions Go accepts but JavaScript cannot run the same way, or Go refuses.
    ['IsMatch(name, "(?=a)")', /IsMatch pattern "\(\?=a\)": lookahead and lookbehind \(.*\) are not RE2 syntax/, 15],
    ['IsMatch(name, "(a)\\\\1")', /backreferences are not RE2 syntax/, 15],
    ['IsMatch(name, "(?U)a+")', /the ungreedy flag U has no JavaScript equivalent/, 15],
    ['IsMatch(name, "a{1001}")', /repeat count above 1000/, 15],
    ['IsMatch(name, "\\\\C")', /\\C \(any byte\) is not supported/, 15],
    ['IsMatch(name, "[\\\\S]")', /\\S inside a character class is not supported here/, 15],
    ['IsMatch(name, "[[:^alpha:]]")', /negated POSIX class/, 15],
    ['IsMatch(name, "[[:alfa:]]")', /unknown POSIX class \[:alfa:\]/, 15],
    ['IsMatch(name, "\\\\p{Klingon}")', /Unicode class "Klingon" is not known/, 15],
    ['IsMatch(name, "(a")', /missing closing \)/, 15],
    ['IsMatch(name, "a)")', /unexpected \)/, 15],
    ['IsMatch(name, "[a")', /missing closing \]/, 15],
    ['IsMatch(name, "\\\\q")', /invalid escape \\q/, 15],
    ['IsMatch(name, "a**")', /not a valid regular expression/, 15],
  ];
  for (const [text, message, column, ctx] of refused) {
    it(`refuses ${JSON.stringify(text)} at column ${column}`, () => {
      const r = refusal(text, ctx);
      assert.match(r.message, message);
      assert.equal(r.column, column);
    });
  }
});
