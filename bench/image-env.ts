// The environment the bench starts the sidecar with: what a pod gives it. The container runtime
// sets PATH and HOME, the image adds the final stage's ENV lines, and the bench adds what the
// injector would (ports, the export endpoint, the compile cache). Nothing else of the bench's own
// environment passes: a developer machine's NODE_EXTRA_CA_CERTS, for one, makes every Node process
// parse the system CA bundle at start (~40 ms and some memory here), which no pod does.
import { Env } from 'dockerfile-ast';
import { heapCapNodeOptions } from '../injector/sidecar-container.ts';
import { finalStage } from './entrypoint.ts';

export function imageEnv(dockerfileText: string, host: NodeJS.ProcessEnv, extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of ['PATH', 'HOME']) if (host[key] !== undefined) env[key] = host[key];
  for (const instruction of finalStage(dockerfileText)) {
    if (!(instruction instanceof Env)) continue;
    for (const property of instruction.getProperties()) {
      const name = property.getName();
      const value = property.getValue();
      if (name !== undefined && value !== null) env[name] = value;
    }
  }
  return { ...env, ...extra };
}

export interface BenchEnvOptions {
  /** The memory limit the sidecar runs under (MiB), if any. */
  limitMiB?: number;
  /**
   * Whether the injector's NODE_OPTIONS for that limit is given (an injected pod), or not (a limit
   * set any other way: the sidecar re-executes itself at start to cap its heap). Default: given.
   */
  injected?: boolean;
}

/**
 * The environment the bench starts the sidecar with: the image's (imageEnv), without the image's
 * compile cache path (the bench makes its own), under a memory limit what the injector adds for it
 * unless told otherwise (the V8 heap cap in NODE_OPTIONS, so an injected sidecar starts without
 * re-executing itself to apply it), then `extra`.
 */
export function benchSidecarEnv(dockerfileText: string, host: NodeJS.ProcessEnv, extra: Record<string, string>, opts: BenchEnvOptions = {}): Record<string, string> {
  const { NODE_COMPILE_CACHE: _imageCache, ...env } = imageEnv(dockerfileText, host, {});
  const limitMiB = opts.injected === false ? 0 : (opts.limitMiB ?? 0);
  return { ...env, ...(limitMiB > 0 ? { NODE_OPTIONS: heapCapNodeOptions(limitMiB * 1024 * 1024) } : {}), ...extra };
}
