// The package version, for logs, User-Agent and status annotations. Found by walking up from this
// file to tracebridge's package.json, so it works from the sources (sidecar/), the compiled output
// (dist/sidecar/) and the image's bundle (dist/sidecar-image/cli.js, two levels down) alike.
import { readFileSync } from 'node:fs';

function readVersion(): string {
  for (let up = 1; up <= 3; up++) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(`${'../'.repeat(up)}package.json`, import.meta.url), 'utf8')) as { name?: string; version?: unknown };
      if (pkg.name === 'tracebridge' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // not at this level
    }
  }
  return '0.0.0';
}

export const VERSION = readVersion();
