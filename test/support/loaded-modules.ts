// Preloaded with `--import` into a sidecar child process: records every module the process loads
// (ES modules and require()d CommonJS alike) and writes the URLs, one a line, to
// $TB_LOADED_MODULES_OUT when the process exits. Tests read it to check what a config makes load.
// Node built-ins are listed as `node:<name>` from process.moduleLoadList, which also sees those
// loaded by process.getBuiltinModule() or by other built-ins (the load hook does not).
import { registerHooks } from 'node:module';
import { writeFileSync } from 'node:fs';

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
  return list.filter((m) => m.startsWith('NativeModule ') && !m.startsWith('NativeModule internal/')).map((m) => `node:${m.slice('NativeModule '.length)}`);
}
if (out) process.on('exit', () => writeFileSync(out, [...new Set([...loaded, ...builtins()])].join('\n') + '\n'));
