// The bench runs the sidecar with the node flags of the image's ENTRYPOINT (bench/entrypoint.ts).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { entrypoint, entrypointNodeArgs } from '../../bench/entrypoint.ts';
import { ROOT } from '../support/process.ts';

const image = (entrypoint: string) => `FROM node:24-bookworm-slim AS build\nENTRYPOINT ["node", "/wrong/stage.js"]\nFROM node:24-bookworm-slim AS runtime\nWORKDIR /app\n${entrypoint}\n`;

describe('bench: node flags from the image ENTRYPOINT (bench/entrypoint.ts)', () => {
  it('takes the args between node and the sidecar main.js of the final stage', () => {
    assert.deepEqual(entrypointNodeArgs(image('ENTRYPOINT ["node", "/app/dist/sidecar/main.js"]')), []);
    assert.deepEqual(entrypointNodeArgs(image('ENTRYPOINT ["node", "--max-semi-space-size=2", "--single-threaded-gc", "/app/dist/sidecar/main.js"]')), ['--max-semi-space-size=2', '--single-threaded-gc']);
    assert.deepEqual(entrypointNodeArgs(image('ENTRYPOINT ["/usr/local/bin/node", "--v8-pool-size=0", "/app/dist/sidecar/main.js", "--extra"]')), ['--v8-pool-size=0']);
  });

  it('gives the main.js the image runs: the bundle, or tsc\'s output in an older checkout', () => {
    assert.deepEqual(entrypoint(image('ENTRYPOINT ["node", "--max-semi-space-size=1", "/app/dist/sidecar-image/main.js"]')), { nodeArgs: ['--max-semi-space-size=1'], main: 'dist/sidecar-image/main.js' });
    assert.deepEqual(entrypoint(image('ENTRYPOINT ["node", "/app/dist/sidecar/main.js"]')), { nodeArgs: [], main: 'dist/sidecar/main.js' });
  });

  it("agrees with this checkout's Dockerfile", () => {
    const { nodeArgs: args, main } = entrypoint(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
    assert.ok(Array.isArray(args) && args.every((a) => a.startsWith('-')), `node flags: ${JSON.stringify(args)}`);
    assert.equal(main, 'dist/sidecar-image/main.js', 'the bundle');
  });

  it('refuses an ENTRYPOINT it cannot read with a clear error', () => {
    assert.throws(() => entrypointNodeArgs('FROM node:24\nCMD ["node"]\n'), /no ENTRYPOINT/);
    assert.throws(() => entrypointNodeArgs(image('ENTRYPOINT node /app/dist/sidecar/main.js')), /exec form/);
    assert.throws(() => entrypointNodeArgs(image('ENTRYPOINT ["node", "/app/other.js"]')), /dist\/sidecar\/main\.js/);
  });
});
