// The image runs the compiled output (Dockerfile: tsc -p tsconfig.build.json → dist/). Build it
// the same way and run both compiled binaries: they must start without the TypeScript stripper.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runProcess, startProcess } from '../support/process.ts';

describe('compiled output (what the image runs)', function () {
  this.timeout(180_000);

  before(() => {
    try {
      execFileSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
    } catch (err) {
      throw new Error(`tsc failed:\n${String((err as { stdout?: Buffer }).stdout ?? err)}`, { cause: err });
    }
  });

  it('the compiled sidecar validates a config and serves spans, reporting the package version', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tb-dist-'));
    const cfg = join(dir, 'c.yaml');
    writeFileSync(
      cfg,
      'receivers: { otlp: { protocols: { http: { endpoint: 127.0.0.1:0 } } } }\nexporters: { debug: { verbosity: normal } }\nservice: { pipelines: { traces: { receivers: [otlp], exporters: [debug] } }, telemetry: { metrics: { level: none } } }\n',
    );
    const v = await runProcess('dist/sidecar/main.js', ['validate', '--config', cfg]);
    assert.equal(v.code, 0, v.stderr);
    const p = startProcess('dist/sidecar/main.js', ['--config', cfg]);
    try {
      await p.waitFor(/tracebridge sidecar running/);
      assert.match(p.stderr(), /"version":"\d+\.\d+\.\d+"/);
      assert.doesNotMatch(p.stderr(), /"version":"0\.0\.0"/);
      assert.doesNotMatch(p.stderr(), /Type Stripping|ExperimentalWarning/);
    } finally {
      p.child.kill('SIGTERM');
    }
    assert.equal(await p.exited, 0);
  });

  it('the compiled injector answers --help', async () => {
    const res = await runProcess('dist/injector/main.js', ['--help']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stdout + res.stderr, /tracebridge-injector inject --config FILE/);
  });
});
