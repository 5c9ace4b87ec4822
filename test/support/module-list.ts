// Reading the list test/support/loaded-modules.ts writes (one module URL or `node:` built-in a
// line): which packages and which built-ins a sidecar child process loaded.

/** Packages (node_modules/<name>) whose modules the process loaded. */
export function packagesIn(list: string): Set<string> {
  const names = new Set<string>();
  for (const url of list.split('\n')) {
    const m = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (m) names.add(m[1]!);
  }
  return names;
}

/** Node built-ins (`node:http2`) the process loaded. */
export function builtinsIn(list: string): Set<string> {
  return new Set(list.split('\n').filter((m) => m.startsWith('node:')));
}
