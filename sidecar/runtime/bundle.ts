// Bundles the sidecar into dist/sidecar-image/, the form the image runs (`npm run build` runs it
// after tsc; the Dockerfile's build stage too). Why: a pod's start-up loaded ~150 separate ES
// modules, and most of the sidecar's own start-up time went to Node's ESM loader (resolving,
// package.json reads, module records); a few files load faster and keep less private memory. The
// numbers are in the Dockerfile, next to the ENTRYPOINT.
//
// What it does (esbuild, plain JavaScript out, one ES module format in and out):
// - Own code only: every package stays external and is resolved at run time from the
//   node_modules above dist/ (/app/node_modules in the image), so the lazily loaded dependencies
//   (yaml, protobufjs, the AWS SDK) still load only when a component needs them, and no
//   CommonJS code ends up in an ES module (it would need a `require` shim).
// - Code splitting: every static `import('./x.ts')` stays a file of its own, loaded on demand, so
//   components load only when configured, as in tsc's output. Those files are entry points named
//   after their source (processors/filter/factory.js, ...), the shared code goes to chunks/. The
//   names matter at run time: the header bridge starts `new URL('./worker.js', import.meta.url)`
//   next to extensions/header_bridge/extension.js, the warm-up starts `../main.js` from
//   runtime/warm-compile-cache.js, and version.ts walks up from its chunk to package.json.
// - Not minified and no source maps: names, line structure and the source's own identifiers stay
//   as written, so a stack trace from a pod reads like the code (esbuild only drops comments and
//   renames a top-level name that two modules both declare, with a digit appended).
// Runs with the type-stripping Node 24 (`node sidecar/runtime/bundle.ts`); not part of dist/.
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUNDLE_DIR = 'dist/sidecar-image';

/** Started by path (node <file>), not imported: the entrypoint, the warm-up and the worker thread. */
const ENTRY_POINTS = ['sidecar/main.ts', 'sidecar/runtime/warm-compile-cache.ts', 'sidecar/extensions/header_bridge/worker.ts'];

const COMMON: BuildOptions = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  splitting: true,
  packages: 'external',
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  // The default, said here because asciiOnly() below relies on it.
  charset: 'ascii',
  outbase: 'sidecar',
  outdir: BUNDLE_DIR,
  entryNames: '[dir]/[name]',
  chunkNames: 'chunks/[name]-[hash]',
  logLevel: 'warning',
};

/** Source files (relative to ROOT) that some module loads with import(). */
function dynamicImportTargets(meta: Metafile): string[] {
  const out = new Set<string>();
  for (const input of Object.values(meta.inputs)) {
    for (const imp of input.imports) if (imp.kind === 'dynamic-import' && !imp.external) out.add(imp.path);
  }
  return [...out].sort();
}

export async function bundleSidecar(): Promise<string[]> {
  // First pass only to find the import() targets; the second makes them named entry points.
  const probe = await build({ ...COMMON, entryPoints: ENTRY_POINTS, write: false, metafile: true });
  const entryPoints = [...new Set([...ENTRY_POINTS, ...dynamicImportTargets(probe.metafile)])];
  rmSync(`${ROOT}/${BUNDLE_DIR}`, { recursive: true, force: true });
  const result = await build({ ...COMMON, entryPoints, metafile: true });
  const bad = Object.values(result.metafile.inputs).flatMap((i) => i.imports.filter((imp) => imp.kind === 'dynamic-import' && imp.external && imp.path.startsWith('.')));
  if (bad.length > 0) throw new Error(`import() specifiers esbuild could not follow: ${bad.map((b) => b.path).join(', ')}`);
  const outputs = Object.keys(result.metafile.outputs);
  for (const file of outputs) asciiOnly(`${ROOT}/${file}`);
  return outputs;
}

/**
 * Rewrites what is left of non-ASCII characters as \u escapes. V8 keeps a script's source in the
 * heap as long as the script lives: one byte per character, or two for every character when one is
 * outside Latin-1, so a single "≈" in a comment doubled the memory of a 58 KB file. esbuild already
 * escapes strings, regexes and identifiers (charset ascii); what it leaves are the comments it
 * keeps, where an escape reads as well.
 */
function asciiOnly(path: string): void {
  const text = readFileSync(path, 'utf8');
  if (!/[\u0080-\uffff]/.test(text)) return;
  writeFileSync(path, text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

if (import.meta.main) {
  const files = await bundleSidecar();
  process.stdout.write(`bundle: ${files.length} files in ${BUNDLE_DIR}/\n`);
}
