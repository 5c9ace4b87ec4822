// How the image runs the sidecar: the node flags and the main.js of the final stage's ENTRYPOINT
// (exec form). The bench runs that same file of the checkout with the same flags, so V8 flags
// added to the image, and the form of the code it runs, are what gets measured.
import { DockerfileParser, type Instruction } from 'dockerfile-ast';

/** The sidecar's main.js in the image: the bundle, or tsc's output in images built before the bundle. */
const MAINS = ['/app/dist/sidecar-image/main.js', '/app/dist/sidecar/main.js'];

export interface Entrypoint {
  /** The args between node and main.js. */
  nodeArgs: string[];
  /** main.js relative to the image's /app, e.g. dist/sidecar-image/main.js. */
  main: string;
}

/** The instructions of the Dockerfile's final stage (after its last FROM): what the image runs with. */
export function finalStage(dockerfileText: string): Instruction[] {
  const dockerfile = DockerfileParser.parse(dockerfileText);
  const froms = dockerfile.getFROMs();
  const lastFromLine = froms.length === 0 ? -1 : froms[froms.length - 1]!.getRange().start.line;
  return dockerfile.getInstructions().filter((i) => i.getRange().start.line > lastFromLine);
}

export function entrypoint(dockerfileText: string): Entrypoint {
  const entrypoints = finalStage(dockerfileText).filter((i) => i.getKeyword() === 'ENTRYPOINT');
  const last = entrypoints[entrypoints.length - 1];
  if (last === undefined) throw new Error('Dockerfile: no ENTRYPOINT in the final stage');
  const text = last.getArgumentsContent() ?? '';
  let argv: unknown;
  try {
    argv = JSON.parse(text);
  } catch {
    argv = undefined;
  }
  if (!Array.isArray(argv) || !argv.every((a) => typeof a === 'string')) {
    throw new Error(`Dockerfile: ENTRYPOINT ${text} is not in exec form (a JSON array of strings)`);
  }
  const args = argv;
  const main = args.findIndex((a) => MAINS.includes(a));
  if (!/(^|\/)node$/.test(args[0] ?? '') || main < 1) {
    throw new Error(`Dockerfile: ENTRYPOINT ${text} does not run node ... with one of ${MAINS.join(', ')}`);
  }
  return { nodeArgs: args.slice(1, main), main: args[main]!.slice('/app/'.length) };
}

export function entrypointNodeArgs(dockerfileText: string): string[] {
  return entrypoint(dockerfileText).nodeArgs;
}

/**
 * The command of a bench baseline (bench/relay-process.ts: the raw relay, or with `-` for the sink
 * port the ack-only floor), after `node`: the sidecar's node flags first, so the floor and the
 * relay run with the V8 settings the sidecar runs with (a 1 MiB young generation costs CPU per
 * span; a baseline without it would not be a floor for the sidecar).
 */
export function baselineArgs(nodeFlags: string[], relayScript: string, listenPort: number, sinkPort: number | '-'): string[] {
  return [...nodeFlags, relayScript, String(listenPort), String(sinkPort)];
}
