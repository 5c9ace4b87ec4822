// Config errors of the attributes and resource processors, as `tracebridge-sidecar validate`
// lists them: every mistake at once, each with its YAML path.
import assert from 'node:assert/strict';
import { ConfigError } from '../../../../sidecar/config/schema.ts';
import { decodeSidecarConfig } from '../../../../sidecar/config/service-config.ts';

function errorsOf(processors: Record<string, unknown>): string[] {
  const raw = {
    receivers: { otlp: { protocols: { grpc: null } } },
    processors,
    exporters: { debug: {} },
    service: { pipelines: { traces: { receivers: ['otlp'], processors: Object.keys(processors), exporters: ['debug'] } } },
  };
  try {
    decodeSidecarConfig(raw);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return [...err.errors];
  }
  return [];
}

describe('attributes / resource processor config', () => {
  it('accepts the collector README example', () => {
    const errors = errorsOf({
      'attributes/example': {
        actions: [
          { key: 'db.table', action: 'delete' },
          { key: 'redacted_span', value: true, action: 'upsert' },
          { key: 'copy_key', from_attribute: 'key_original', action: 'update' },
          { key: 'account_id', value: 2245, action: 'insert' },
          { key: 'account_password', action: 'delete' },
          { key: 'account_email', action: 'hash' },
          { key: 'http.status_code', action: 'convert', converted_type: 'int' },
          { key: 'region', from_attribute: 'cloud.region', default_value: 'us-east-1', action: 'insert' },
          { key: 'INSERTED', value: 'x', action: 'INSERT' },
        ],
        include: { match_type: 'regexp', services: ['auth.*'], regexp: { cacheenabled: true }, span_names: ['login.*'] },
        exclude: { match_type: 'strict', attributes: [{ key: 'redact_trace', value: false }] },
      },
      resource: { attributes: [{ key: 'cloud.zone', value: 'zone-1', action: 'upsert' }, { key: 'k8s.cluster.name', from_attribute: 'k8s-cluster', action: 'insert' }] },
    });
    assert.deepEqual(errors, []);
  });

  it('lists every action mistake with its path', () => {
    const errors = errorsOf({
      'attributes/x': {
        actions: [
          { key: 'a', action: 'insert', value: 1 },
          { key: 'b', action: 'upsertt', value: 1 },
          { action: 'insert', value: 1 },
          { key: 'c', action: 'update' },
          { key: 'd', action: 'upsert', value: 1, from_attribute: 'e' },
          { key: 'e', action: 'delete', value: 1 },
          { action: 'hash' },
          { key: 'f', action: 'extract' },
          { key: 'g', action: 'extract', pattern: '^(\\w+)$' },
          { key: 'h', action: 'extract', pattern: '^(?P<a>x)(y)$' },
          { key: 'i', action: 'convert' },
          { key: 'j', action: 'convert', converted_type: 'float' },
          { key: 'k', action: 'insert', from_context: 'metadata.tenant' },
          { key: 'l', action: 'insert', valu: 1 },
          { key: 'm', action: 'insert', value: Number('9007199254740993') },
          { key: 'n', action: 'delete', pattern: '(?=x)' },
        ],
      },
    });
    assert.deepEqual(errors, [
      'processors.attributes/x.actions[1].action: "upsertt" is not one of insert, update, upsert, delete, hash, extract, convert',
      'processors.attributes/x.actions[2].key: required for action insert',
      'processors.attributes/x.actions[3]: action update needs one of value, from_attribute or default_value',
      'processors.attributes/x.actions[4]: action upsert takes only one of value, from_attribute, from_context',
      'processors.attributes/x.actions[5].value: not used by action delete',
      'processors.attributes/x.actions[6]: action hash needs key, pattern or both',
      'processors.attributes/x.actions[7].pattern: required for action extract (a regular expression with named groups, e.g. ^/api/(?P<version>v\\d+)/)',
      'processors.attributes/x.actions[8].pattern: "^(\\\\w+)$" has an unnamed group: every group must be named (use (?:...) to group without capturing)',
      'processors.attributes/x.actions[9].pattern: "^(?P<a>x)(y)$" has an unnamed group: every group must be named (use (?:...) to group without capturing)',
      'processors.attributes/x.actions[10].converted_type: required for action convert (one of int, double, string)',
      'processors.attributes/x.actions[11].converted_type: "float" is not one of int, double, string',
      'processors.attributes/x.actions[12].from_context: not supported: spans reach the processors without the request metadata (headers, auth) it reads; use value or from_attribute',
      'processors.attributes/x.actions[13].valu: unknown key (known keys: key, action, value, from_attribute, from_context, default_value, pattern, converted_type)',
      'processors.attributes/x.actions[13]: action insert needs one of value, from_attribute or default_value',
      'processors.attributes/x.actions[14].value: an integer beyond ±2^53 (9007199254740991) cannot be kept exactly; quote it to make it a string',
      'processors.attributes/x.actions[15].pattern: "(?=x)": lookahead and lookbehind ((?=, (?!, (?<=, (?<!) are not RE2 syntax',
    ]);
  });

  it('lists include / exclude mistakes with their paths', () => {
    const errors = errorsOf({
      attributes: {
        actions: [{ key: 'a', action: 'delete' }],
        include: { services: ['x'] },
        exclude: {
          match_type: 'strict',
          span_kinds: ['SERVER'],
          log_bodies: ['x'],
          libraries: [{ version: '1' }],
        },
      },
      'attributes/2': { actions: [{ key: 'a', action: 'delete' }], include: { match_type: 'regexp' }, exclude: { match_type: 'regexp', span_names: ['[[:^alpha:]]'], attributes: [{ key: 'n', value: 5 }] } },
      'attributes/empty': {},
      resource: { attributes: [{ key: 'a', action: 'nope' }] },
      'resource/empty': { attributes: [] },
    });
    assert.deepEqual(errors, [
      'processors.attributes.include.match_type: required (strict or regexp)',
      'processors.attributes.exclude.log_bodies: unknown key (known keys: match_type, regexp, services, span_names, span_kinds, attributes, resources, libraries)',
      'processors.attributes.exclude.span_kinds[0]: "SERVER" is not one of SPAN_KIND_INTERNAL, SPAN_KIND_SERVER, SPAN_KIND_CLIENT, SPAN_KIND_PRODUCER, SPAN_KIND_CONSUMER',
      'processors.attributes.exclude.libraries[0].name: required (a string)',
      'processors.attributes/2.include: needs at least one of services, span_names, span_kinds, attributes, resources, libraries',
      'processors.attributes/2.exclude.span_names[0]: "[[:^alpha:]]": negated POSIX class [:^alpha:] is not supported here; write the negated range (e.g. [^A-Za-z])',
      'processors.attributes/2.exclude.attributes[0].value: match_type regexp takes a string pattern, got 5',
      'processors.attributes/empty.actions: at least one action is required',
      'processors.resource.attributes[0].action: "nope" is not one of insert, update, upsert, delete, hash, extract, convert',
      'processors.resource/empty.attributes: at least one action is required',
    ]);
  });
});
