// Bundles the sidecar into dist/sidecar-image/, the form the image runs (`npm run build` runs it
// after tsc; the Dockerfile's build stage too). Why: a pod's start-up loaded ~150 separate ES
// modules, and most of the sidecar's own start-up time went to Node's ESM loader (resolving,
// package.json reads, module records); two files load faster and keep less private memory. The
// numbers are here and in the Dockerfile, next to the ENTRYPOINT.
//
// What it does (esbuild, plain JavaScript out, one ES module format in and out):
// - Own code only: every package stays external and is resolved at run time from the
//   node_modules above dist/ (/app/node_modules in the image), so the lazily loaded dependencies
//   (yaml, protobufjs, the AWS SDK) still load only when a component needs them, and no
//   CommonJS code ends up in an ES module (it would need a `require` shim). The exception is
//   ONE_FILE_PACKAGES (yaml): each is written as one CommonJS file under the bundle's own
//   node_modules/, where the bundle's files find it first.
// - The sidecar is one file, cli.js: cli.ts and everything it loads, every component included.
//   esbuild turns each `import('./x.ts')` of the sources into an initializer in that file
//   (`init_x()`), so the code of a module loaded on demand still runs only when a config names its
//   component, and the packages it needs still load only then; what a start no longer pays is a
//   file per component and per piece of code components share. Those were ~38 files for the
//   embedded default, each costing Node's ESM loader a resolve, stat, read, package scope,
//   compile-cache lookup and link. Measured on a 2-core VM, image flags, each build's compile
//   cache made by its warm-up, against the code-split bundle (esbuild's splitting, the shared
//   code in chunks/), 30 starts each interleaved, spawn to the first health 200, medians: the
//   embedded default 212 -> 203 ms (main-thread CPU 170 -> 166 ms), the shipped X-Ray OTLP config
//   237 -> 223 ms, the segments config 234 -> 221 ms; a bare node:http server, 135 ms. Idle
//   private memory did not move (+-0.2 MiB): V8 compiles a function when it first runs, and the
//   compile cache holds each file's top-level code, whichever config the warm-up ran.
// - main.js is main.ts and runtime/heap.ts (with the cgroup reader it uses) only; it imports
//   ./cli.js once the heap is capped (coreStaysItsOwnFile()). The warm-up
//   (runtime/warm-compile-cache.js) and the header bridge's worker thread (worker.js) are started
//   by path and run without the core, so each is one file with its own copy of what it imports.
//   The names matter at run time: the header bridge's extension, inside cli.js, starts
//   `new URL('./worker.js', import.meta.url)`, so worker.js sits next to cli.js; the warm-up
//   starts `../main.js`; version.ts walks up to package.json.
// - Not minified and no source maps: names, line structure and the source's own identifiers stay
//   as written, so a stack trace from a pod reads like the code (esbuild only drops comments and
//   renames a top-level name that two modules both declare, with a digit appended).
// Runs with the type-stripping Node 24 (`node sidecar/runtime/bundle.ts`); not part of dist/.
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUNDLE_DIR = 'dist/sidecar-image';

/**
 * Built-ins through process.getBuiltinModule instead of ES imports. For `import { readFileSync }
 * from 'node:fs'` node builds an ES module of node:fs whose exports are all read once, lazy getters
 * included: node:fs's load fs/promises, readline and REPL history, fs streams, watchers and dir;
 * node:net's load BlockList and SocketAddress. Measured on a bare process with the sidecar's own
 * built-in imports: +16 modules, +0.9 MiB private memory, +1.8 MiB RSS and 15-30 ms of start-up.
 * Each `node:` import resolves to a small module that takes the built-in's object from
 * process.getBuiltinModule and re-exports the names the importing file imports from it (read from
 * its import statements), so only those are read. A name missed here fails the build: esbuild
 * names the import that has no export.
 */
function builtinsWithoutFacades(used: Map<string, Map<string, Set<string>>>): Plugin {
  return {
    name: 'builtins-without-es-facades',
    setup(b) {
      // One such module per importing file (`sidecar/cli.ts/node:fs`), exporting what that file
      // imports. esbuild names the default import after the path's last segment (node_fs_default).
      b.onResolve({ filter: /^node:/ }, (args) => ({ path: `${relative(ROOT, args.importer)}/${args.path}`, namespace: 'node-builtin' }));
      b.onLoad({ filter: /.*/, namespace: 'node-builtin' }, (args) => {
        const at = args.path.lastIndexOf('/node:');
        const [importer, id] = [args.path.slice(0, at), args.path.slice(at + 1)];
        const names = [...(used.get(importer)?.get(id) ?? [])];
        const lines = [`const m = process.getBuiltinModule(${JSON.stringify(id)});`, 'export default m;'];
        if (names.length > 0) lines.push(`export const { ${names.join(', ')} } = m;`);
        return { contents: `${lines.join('\n')}\n`, loader: 'js' };
      });
    },
  };
}

/**
 * Per source file under `dir` (relative to ROOT), the names it imports from each `node:` built-in
 * (type-only imports left out).
 */
function builtinImports(dir: string): Map<string, Map<string, Set<string>>> {
  const used = new Map<string, Map<string, Set<string>>>();
  for (const file of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!file.endsWith('.ts')) continue;
    const path = join(dir, file);
    const byBuiltin = new Map<string, Set<string>>();
    for (const m of readFileSync(path, 'utf8').matchAll(/^import\s+(?!type\s)(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*'(node:[^']+)'/gm)) {
      const names = byBuiltin.get(m[2]!) ?? new Set<string>();
      for (const spec of m[1]!.split(',')) {
        const name = spec.trim().split(/\s+as\s+/)[0]!;
        if (name !== '' && !name.startsWith('type ')) names.add(name);
      }
      byBuiltin.set(m[2]!, names);
    }
    if (byBuiltin.size > 0) used.set(relative(ROOT, path), byBuiltin);
  }
  return used;
}

/** Loaded by every start, after main.ts has capped the heap: the sidecar, one file (CORE_OUT). */
const CORE = 'sidecar/cli.ts';
/** main.js's import of it, left to run time by coreStaysItsOwnFile(). */
const CORE_OUT = './cli.js';

/**
 * main.ts loads the sidecar with `import('./cli.ts')` once the heap is capped; in the bundle that
 * import stays an import of the file next to it, cli.js, so main.js holds only main.ts and
 * runtime/heap.ts (and runtime/cgroup.ts, which cli.js carries too: stateless) and a re-execution
 * does not load the sidecar twice.
 */
function coreStaysItsOwnFile(): Plugin {
  return {
    name: 'core-stays-its-own-file',
    setup(b) {
      b.onResolve({ filter: /^\.\/cli\.ts$/ }, (args) => (relative(ROOT, args.importer) === 'sidecar/main.ts' ? { path: CORE_OUT, external: true } : undefined));
    },
  };
}

/**
 * Started by path (node <file>), each one file with its own copy of what it imports. `out` is the
 * path in the bundle without `.js`: the worker sits next to cli.js, where the header bridge's
 * extension (inside cli.js) finds it with `new URL('./worker.js', import.meta.url)`, as it finds it
 * next to itself in tsc's output; the warm-up starts `../main.js` from runtime/.
 */
const ENTRY_POINTS = [
  { in: 'sidecar/main.ts', out: 'main' },
  { in: CORE, out: 'cli' },
  { in: 'sidecar/runtime/warm-compile-cache.ts', out: 'runtime/warm-compile-cache' },
  { in: 'sidecar/extensions/header_bridge/worker.ts', out: 'worker' },
];

const COMMON: BuildOptions = {
  absWorkingDir: ROOT,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node24',
  splitting: false,
  packages: 'external',
  minify: false,
  sourcemap: false,
  legalComments: 'none',
  // The default, said here because asciiOnly() below relies on it.
  charset: 'ascii',
  outdir: BUNDLE_DIR,
  logLevel: 'warning',
};

export async function bundleSidecar(): Promise<string[]> {
  rmSync(`${ROOT}/${BUNDLE_DIR}`, { recursive: true, force: true });
  const plugins = [builtinsWithoutFacades(builtinImports(join(ROOT, 'sidecar'))), coreStaysItsOwnFile()];
  const result = await build({ ...COMMON, plugins, entryPoints: ENTRY_POINTS, metafile: true });
  // An import() esbuild could not follow (a computed path) would stay an import of a file the
  // bundle does not have.
  const bad = Object.entries(result.metafile.inputs).flatMap(([file, i]) =>
    i.imports.filter((imp) => imp.kind === 'dynamic-import' && imp.external && imp.path.startsWith('.') && !(file === 'sidecar/main.ts' && imp.path === CORE_OUT)));
  if (bad.length > 0) throw new Error(`import() specifiers esbuild could not follow: ${bad.map((b) => b.path).join(', ')}`);
  const outputs = [...Object.keys(result.metafile.outputs), ...(await Promise.all(ONE_FILE_PACKAGES.map(oneFilePackage))).flat()];
  for (const file of outputs) if (file.endsWith('.js')) asciiOnly(`${ROOT}/${file}`);
  return outputs;
}

/**
 * Packages that a start loads, each made one CommonJS file under the bundle's own node_modules/
 * (dist/sidecar-image/node_modules/<name>/index.js, with a package.json naming it and the
 * package's LICENSE). Node resolves `require('<name>')` from the bundle's files there before
 * /app/node_modules, so the sidecar's source is the same for tsc's output and the bundle.
 * - yaml: every pod that mounts a config file (the X-Ray ConfigMap the injector wires) parses it
 *   at start. A start loads 72 of its package's CommonJS modules: 29-45 ms on a 2-core VM with the
 *   image's node flags, against 10-12 ms for the one file (neither is in the image's compile
 *   cache, which its warm-up fills with the embedded default's modules).
 */
const ONE_FILE_PACKAGES = ['yaml'];

/** Writes one package as one file (see ONE_FILE_PACKAGES); returns the files written, relative to ROOT. */
async function oneFilePackage(name: string): Promise<string[]> {
  const from = join(ROOT, 'node_modules', name);
  const source = JSON.parse(readFileSync(join(from, 'package.json'), 'utf8')) as Record<string, unknown> & { version: string };
  const dir = join(BUNDLE_DIR, 'node_modules', name);
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [createRequire(join(ROOT, 'package.json')).resolve(name)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node24',
    minify: false,
    sourcemap: false,
    legalComments: 'inline',
    charset: 'ascii',
    outfile: join(dir, 'index.js'),
    metafile: true,
    logLevel: 'warning',
  });
  // What SBOM and licence scanners read of a package (name, version, license, author,
  // repository) is the package's own; the LICENSE file is copied next to it.
  const meta = {
    name,
    version: source.version,
    license: source.license,
    author: source.author,
    repository: source.repository,
    homepage: source.homepage,
    private: true,
    main: './index.js',
    description: `${name} ${source.version} as one file, made by tracebridge's sidecar/runtime/bundle.ts from node_modules/${name}`,
  };
  writeFileSync(join(ROOT, dir, 'package.json'), `${JSON.stringify(meta, null, 2)}\n`);
  const written = [...Object.keys(result.metafile.outputs), join(dir, 'package.json')];
  for (const license of readdirSync(from).filter((f) => /^licen[cs]e/i.test(f))) {
    copyFileSync(join(from, license), join(ROOT, dir, license));
    written.push(join(dir, license));
  }
  return written;
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
