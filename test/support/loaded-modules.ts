// Preloaded with `--import` into a sidecar child process: records every module the process loads
// (ES modules and require()d CommonJS alike) and writes the URLs, one a line, to
// $TB_LOADED_MODULES_OUT when the process exits. Tests read it to check what a config makes load.
// Node built-ins are listed as `node:<name>` from process.moduleLoadList, which also sees those
// loaded by process.getBuiltinModule() or by other built-ins (the load hook does not); node's
// internal modules as `node:internal/<name>`.
// The image's bundle holds the whole sidecar in one file (dist/sidecar-image/cli.js), where esbuild
// turns each module loaded on demand into an initializer; with $TB_INITIALIZED_OUT set, the hook
// makes that file record the source path of every initializer that runs and writes them there, one
// a line, at exit: which of the sidecar's own modules a start ran. If esbuild's helper is not found
// in the file, the list says so in its first line, so that a test reading it fails instead of
// seeing nothing initialised.
// Built-ins through process.getBuiltinModule, not `import`: an ES import of node:fs or node:net
// builds a facade that reads every export, lazy getters included, and loads modules of its own
// (readline, REPL history, fs streams and watchers, net's BlockList) that would then be listed
// as the sidecar's.
const { registerHooks } = process.getBuiltinModule('node:module');
const { writeFileSync } = process.getBuiltinModule('node:fs');

/** esbuild's lazy-initializer helper, as its ESM output declares it. */
const ESM_HELPER = /var __esm = \(fn, res(?:, err)?\) => function __init\(\) \{/;
const HELPER_NOT_FOUND = "(esbuild's __esm helper not found in cli.js)";

const loaded = new Set<string>();
const initialized = new Set<string>();
const initializedOut = process.env.TB_INITIALIZED_OUT;
(globalThis as { __tbInitialized?: Set<string> }).__tbInitialized = initialized;
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    const result = nextLoad(url, context);
    if (initializedOut === undefined || !/\/dist\/sidecar-image\/cli\.js$/.test(url) || result.source === undefined) return result;
    const source = typeof result.source === 'string' ? result.source : Buffer.from(result.source as Uint8Array).toString('utf8');
    if (!ESM_HELPER.test(source)) {
      initialized.add(HELPER_NOT_FOUND);
      return result;
    }
    // `fn` is the module's { "<path>"() {...} } until the first run, then 0.
    return { ...result, source: source.replace(ESM_HELPER, (m) => `${m}\n  if (fn) globalThis.__tbInitialized.add(__getOwnPropNames(fn)[0]);`) };
  },
});
const out = process.env.TB_LOADED_MODULES_OUT;
function builtins(): string[] {
  const list = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
  return list.filter((m) => m.startsWith('NativeModule ')).map((m) => `node:${m.slice('NativeModule '.length)}`);
}
if (out) process.on('exit', () => writeFileSync(out, [...new Set([...loaded, ...builtins()])].join('\n') + '\n'));
if (initializedOut) process.on('exit', () => writeFileSync(initializedOut, [...initialized].join('\n') + '\n'));
