// The node flags the image runs the sidecar with: the args between `node` and the sidecar's
// main.js in the final stage's ENTRYPOINT (exec form). The bench passes the same flags, so V8
// flags added to the image are what gets measured.
import { DockerfileParser } from 'dockerfile-ast';

const MAIN = '/app/dist/sidecar/main.js';

export function entrypointNodeArgs(dockerfileText: string): string[] {
  const dockerfile = DockerfileParser.parse(dockerfileText);
  const froms = dockerfile.getFROMs();
  const lastFromLine = froms.length === 0 ? -1 : froms[froms.length - 1]!.getRange().start.line;
  const entrypoints = dockerfile.getInstructions().filter((i) => i.getKeyword() === 'ENTRYPOINT' && i.getRange().start.line > lastFromLine);
  const entrypoint = entrypoints[entrypoints.length - 1];
  if (entrypoint === undefined) throw new Error('Dockerfile: no ENTRYPOINT in the final stage');
  const text = entrypoint.getArgumentsContent() ?? '';
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
  const main = args.indexOf(MAIN);
  if (!/(^|\/)node$/.test(args[0] ?? '') || main < 1) {
    throw new Error(`Dockerfile: ENTRYPOINT ${text} does not run node ... ${MAIN}`);
  }
  return args.slice(1, main);
}
