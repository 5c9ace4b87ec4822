// npm 12 runs a dependency's install scripts only when package.json `allowScripts` allows them.
// node@24 (the runtime every npm script runs on) installs itself in one: without an entry,
// `npm ci && npm start` would break on a fresh machine with the next npm.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ROOT } from '../support/process.ts';

interface Lock {
  packages: Record<string, { hasInstallScript?: boolean; dev?: boolean }>;
}

describe('package.json allowScripts', () => {
  const pkg = JSON.parse(readFileSync(`${ROOT}/package.json`, 'utf8')) as { allowScripts?: Record<string, boolean | string> };
  const lock = JSON.parse(readFileSync(`${ROOT}/package-lock.json`, 'utf8')) as Lock;

  it('decides on every locked dependency that has an install script, and allows node@24', () => {
    const withScripts = Object.entries(lock.packages)
      .filter(([path, p]) => path !== '' && p.hasInstallScript === true)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length));
    assert.ok(withScripts.includes('node'), 'node@24 installs its runtime in an install script');
    const undecided = withScripts.filter((name) => pkg.allowScripts?.[name] === undefined);
    assert.deepEqual(undecided, [], 'add each to allowScripts (true to run its script, false to skip it)');
    assert.equal(pkg.allowScripts?.node, true);
  });
});
