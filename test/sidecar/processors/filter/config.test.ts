// The filter processor's config as a user meets it: `tracebridge-sidecar validate` lists every
// condition outside the supported subset with its YAML path and what is not supported.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../../../sidecar/config/schema.ts';
import { decodeSidecarConfig } from '../../../../sidecar/config/service-config.ts';
import { parseConfigText } from '../../../../sidecar/config/load.ts';
import { runProcess } from '../../../support/process.ts';

const yaml = (processor: string) => `
receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }
processors:
${processor}
exporters: { debug: {} }
service:
  pipelines: { traces: { receivers: [otlp], processors: [filter/health], exporters: [debug] } }
  telemetry: { metrics: { level: none } }
`;

function errorsOf(text: string): string[] {
  try {
    decodeSidecarConfig(parseConfigText(text, 'test.yaml'));
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return [...err.errors];
  }
  assert.fail('expected a ConfigError');
}

describe('filter processor config', () => {
  it('validate names the YAML path of an unsupported function and lists the supported ones (exit 1)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-filter-cfg-'));
    const file = join(dir, 'sidecar.yaml');
    writeFileSync(
      file,
      yaml(`  filter/health:
    traces:
      span:
        - 'attributes["http.target"] == "/healthz"'
        - 'IsMatch(attributes["user_agent"], "^kube-probe/")'
        - 'replace_pattern(attributes["http.target"], "\\\\?.*", "")'
      spanevent:
        - 'name == "exception" + "x"'`),
    );
    const res = await runProcess('sidecar/main.ts', ['validate', '--config', file]);
    assert.equal(res.code, 1);
    const out = res.stdout + res.stderr;
    assert.match(
      out,
      /processors\.filter\/health\.traces\.span\[2\]: function "replace_pattern" is not supported in filter conditions here \(an editor: editors change data and have no place in a condition\); supported: IsMatch, IsString, IsInt, IsDouble, IsBool, IsMap, IsList \(column 1 of "replace_pattern/,
    );
    assert.match(out, /processors\.filter\/health\.traces\.spanevent\[0\]: math expressions \(\+ - \* \/\) are not supported in filter conditions here \(column 21 of/);
    assert.doesNotMatch(out, /span\[0\]|span\[1\]/);
  });

  it('refuses unknown keys, an unknown error_mode, and a condition YAML read as a bool', () => {
    const errors = errorsOf(
      yaml(`  filter/health:
    error_mode: fail
    metrics: { metric: ['true'] }
    traces:
      spans: []
      span: [true, ~]`),
    );
    assert.deepEqual(errors.sort(), [
      'processors.filter/health.error_mode: expected one of ignore, propagate, silent, got "fail"',
      'processors.filter/health.metrics: unknown key (known keys: error_mode, traces)',
      'processors.filter/health.traces.span[0]: expected a condition as a string, got true (quote it)',
      'processors.filter/health.traces.span[1]: expected a condition, got nothing',
      'processors.filter/health.traces.spans: unknown key (known keys: span, spanevent)',
    ]);
  });

  it('defaults: error_mode ignore (the collector default since v0.150), no conditions', () => {
    const cfg = decodeSidecarConfig(parseConfigText(yaml('  filter/health: {}'), 'test.yaml'));
    assert.deepEqual(cfg.processors.get('filter/health')!.config, { error_mode: 'ignore', traces: { span: [], spanevent: [] } });
  });
});
