// The README's operator sections exist where the issue puts them, and every mesh-configs file,
// script and example they name exists (a renamed file would otherwise leave the walk-through broken).
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './support.ts';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
const sections = [...readme.matchAll(/^## (.+)$/gm)].map((m) => m[1]!);

describe('README: operator sections', () => {
  it('has the Istio, Linkerd and X-Ray quick starts right after the local one, and Troubleshooting', () => {
    const local = sections.indexOf('Quick start: the sidecar on your machine');
    assert.ok(local >= 0, sections.join(' | '));
    assert.deepEqual(sections.slice(local + 1, local + 4), ['Quick start: Istio', 'Quick start: Linkerd', 'Quick start: AWS X-Ray']);
    assert.ok(sections.includes('Troubleshooting'));
  });

  it('names only files that exist', () => {
    const paths = new Set([...readme.matchAll(/(?<![\w/.-])((?:test\/)?(?:mesh-configs|injector|sidecar)\/[\w./-]+\.(?:ya?ml|json|sh|md|ts))\b/g)].map((m) => m[1]!));
    assert.ok(paths.size >= 8, [...paths].join(', '));
    for (const p of paths) assert.ok(existsSync(join(ROOT, p)), p);
  });

  it('shows how to read the status annotation', () => {
    assert.match(readme, /jsonpath='\{\.metadata\.annotations\.tracebridge\\\.io\/status\}'/);
  });
});
