// Runs the real command-line entry points as child processes, as a user would.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Running {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves when `pattern` appears in stdout or stderr; rejects after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<string>;
  exited: Promise<number | null>;
}

/** `nodeArgs`: node options before the script, e.g. the image ENTRYPOINT's V8 flags. */
export function startProcess(script: string, args: string[], env: Record<string, string | undefined> = {}, nodeArgs: string[] = []): Running {
  // process.execPath is Node 24 when the tests run under npm/npx (node@24 devDependency).
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const listeners: (() => void)[] = [];
  child.stdout.on('data', (c: Buffer) => {
    out += c.toString();
    listeners.forEach((l) => l());
  });
  child.stderr.on('data', (c: Buffer) => {
    err += c.toString();
    listeners.forEach((l) => l());
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(pattern, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(out) ?? pattern.exec(err);
          if (m) {
            clearTimeout(timer);
            resolve(m[0]);
            return true;
          }
          return false;
        };
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}\nstdout:\n${out}\nstderr:\n${err}`)), ms);
        if (!check()) listeners.push(() => void check());
      });
    },
  };
}

/** Runs a command to completion. */
export async function runProcess(script: string, args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = startProcess(script, args, env);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}
