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
//   CommonJS code ends up in an ES module (it would need a `require` shim). The exception is
//   ONE_FILE_PACKAGES (yaml): each is written as one CommonJS file under the bundle's own
//   node_modules/, where the bundle's files find it first.
// - Code splitting: every static `import('./x.ts')` stays a file of its own, loaded on demand, so
//   components load only when configured, as in tsc's output. Those files are entry points named
//   after their source (processors/filter/factory.js, ...), the shared code goes to chunks/, and
//   the code every start loads (cli.ts and what it imports) is one chunk, apart from what the
//   header bridge's worker thread shares with it (joinCore() says how). The
//   names matter at run time: the header bridge starts `new URL('./worker.js', import.meta.url)`
//   next to extensions/header_bridge/extension.js, the warm-up starts `../main.js` from
//   runtime/warm-compile-cache.js, and version.ts walks up from its chunk to package.json.
// - Not minified and no source maps: names, line structure and the source's own identifiers stay
//   as written, so a stack trace from a pod reads like the code (esbuild only drops comments and
//   renames a top-level name that two modules both declare, with a digit appended).
// Runs with the type-stripping Node 24 (`node sidecar/runtime/bundle.ts`); not part of dist/.
import { copyFileSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile, type Plugin } from 'esbuild';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BUNDLE_DIR = 'dist/sidecar-image';

/** Started by path (node <file>), not imported: the entrypoint, the warm-up and the worker thread. */
const ENTRY_POINTS = ['sidecar/main.ts', 'sidecar/runtime/warm-compile-cache.ts', 'sidecar/extensions/header_bridge/worker.ts'];

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
      // One such module per importing file (`sidecar/cli.ts/node:fs`), bundled with it: a module
      // shared by files of different chunks would be a chunk of its own, a file of a few bytes
      // that a start loads like any other. esbuild names the default import after the path's last
      // segment (node_fs_default).
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

/** Loaded by every start (main.ts imports it once the heap is capped); what it imports is the core. */
const CORE = 'sidecar/cli.ts';

/**
 * Makes each file in `targets` (files loaded on demand, joinedToCore() picks them) also import the
 * core, so the core lands in one chunk. esbuild puts each module in the chunk of the exact set of
 * entry points that reach it, and the modules cli.ts imports are reached by different sets of
 * components (one by the receivers, one by the exporters, ...): the core was spread over ~20
 * chunks, and each file costs a start Node's ESM loader's resolve, stat, read, package scope and
 * link, ~0.5-1 ms apiece on a 2-core VM. Once every component imports the core, all of it is
 * reached by the same set. Nothing loads earlier or more than before, as joinedToCore() makes
 * sure. Only in the bundle; tsc's output is unchanged. The build fails if a target was not seen
 * (a path that did not match would silently join nothing).
 */
function joinCore(targets: Set<string>): Plugin {
  const core = join(ROOT, CORE);
  return {
    name: 'join-core',
    setup(b) {
      const joined = new Set<string>();
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (!targets.has(args.path)) return undefined;
        joined.add(args.path);
        return { contents: `${readFileSync(args.path, 'utf8')}\nimport ${JSON.stringify(core)};\n`, loader: 'ts' };
      });
      b.onEnd(() => {
        const missed = [...targets].filter((t) => !joined.has(t));
        if (missed.length > 0) throw new Error(`join-core: never loaded, so not joined to the core: ${missed.join(', ')}`);
      });
    },
  };
}

/**
 * The source files (relative to ROOT) reachable from `from` in `meta`, `from` included: through
 * static imports, and through import() too when `dynamic` is set, except main.ts's of the core.
 */
function reachable(meta: Metafile, from: string[], dynamic: boolean): Set<string> {
  const seen = new Set<string>();
  const todo = [...from];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const imp of meta.inputs[file]?.imports ?? []) {
      if (imp.external) continue;
      if (imp.kind === 'import-statement' || (dynamic && imp.kind === 'dynamic-import' && imp.path !== CORE)) todo.push(imp.path);
    }
  }
  return seen;
}

/**
 * The import() targets to join to the core (absolute paths): every one except those the core
 * imports statically anyway (their code is in the core already; joining one would make a cycle
 * that esbuild orders differently from node) and those that can run without the core. The code
 * that can run without it is what the entry points reach, statically or by import(), other than
 * through main.ts's import() of the core: the header bridge's worker thread and the warm-up run
 * alone, and main.ts runs before the core. A target reachable from there is not joined, since
 * joining it would load the core there too; it fails the build instead, so that a change that
 * makes such a target is seen (give the worker its own copy or import it from elsewhere).
 */
export function joinedToCore(meta: Metafile, entryPoints: string[]): Set<string> {
  const inCore = reachable(meta, [CORE], false);
  const withoutCore = reachable(meta, entryPoints, true);
  const targets = dynamicImportTargets(meta).filter((t) => !inCore.has(t));
  const stray = targets.filter((t) => withoutCore.has(t));
  if (stray.length > 0) throw new Error(`loaded on demand after ${CORE}, but also reachable without it (from ${entryPoints.join(', ')}): ${stray.join(', ')}`);
  return new Set(targets.map((t) => join(ROOT, t)));
}

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
  const plugins = [builtinsWithoutFacades(builtinImports(join(ROOT, 'sidecar')))];
  const probe = await build({ ...COMMON, plugins, entryPoints: ENTRY_POINTS, write: false, metafile: true });
  const entryPoints = [...new Set([...ENTRY_POINTS, ...dynamicImportTargets(probe.metafile)])];
  rmSync(`${ROOT}/${BUNDLE_DIR}`, { recursive: true, force: true });
  const result = await build({ ...COMMON, plugins: [...plugins, joinCore(joinedToCore(probe.metafile, ENTRY_POINTS))], entryPoints, metafile: true });
  const bad = Object.values(result.metafile.inputs).flatMap((i) => i.imports.filter((imp) => imp.kind === 'dynamic-import' && imp.external && imp.path.startsWith('.')));
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
