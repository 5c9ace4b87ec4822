// Preloaded with `--import` into a sidecar child process: records every module the process loads
// (ES modules and require()d CommonJS alike) and writes the URLs, one a line, to
// $TB_LOADED_MODULES_OUT when the process exits. Tests read it to check what a config makes load.
// Node built-ins are listed as `node:<name>` from process.moduleLoadList, which also sees those
// loaded by process.getBuiltinModule() or by other built-ins (the load hook does not); node's
// internal modules as `node:internal/<name>`.
// Built-ins through process.getBuiltinModule, not `import`: an ES import of node:fs or node:net
// builds a facade that reads every export, lazy getters included, and loads modules of its own
// (readline, REPL history, fs streams and watchers, net's BlockList) that would then be listed
// as the sidecar's.
const { registerHooks } = process.getBuiltinModule('node:module');
const { writeFileSync } = process.getBuiltinModule('node:fs');

const loaded = new Set<string>();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
const out = process.env.TB_LOADED_MODULES_OUT;
function builtins(): string[] {
  const list = (process as unknown as { moduleLoadList: string[] }).moduleLoadList;
  return list.filter((m) => m.startsWith('NativeModule ')).map((m) => `node:${m.slice('NativeModule '.length)}`);
}
if (out) process.on('exit', () => writeFileSync(out, [...new Set([...loaded, ...builtins()])].join('\n') + '\n'));
