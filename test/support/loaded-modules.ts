// Preloaded with `--import` into a sidecar child process: records every module the process loads
// (ES modules and require()d CommonJS alike) and writes the URLs, one a line, to
// $TB_LOADED_MODULES_OUT when the process exits. Tests read it to check what a config makes load.
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
if (out) process.on('exit', () => writeFileSync(out, [...loaded].join('\n') + '\n'));
