// `exception.stacktrace` text → X-Ray stack frames and chained causes, per SDK language
// (`telemetry.sdk.language`), after the collector's cause.go (fillJavaStacktrace,
// fillPythonStacktrace, fillJavaScriptStacktrace, fillDotnetStacktrace, fillGoStacktrace; PHP
// traces are Java-shaped). An unknown language gets no frames, as there. Parsing is line based and
// linear; `MAX_FRAMES` bounds the output so that one enormous trace cannot bloat a document.
import type { StackFrame, XRayException } from '../../aws/xray-segment.ts';

export const MAX_FRAMES = 256;

/** A cause found inside the trace (Java "Caused by:", Python "During handling ..."). */
export interface ChainedCause {
  type: string;
  message: string;
  stack: StackFrame[];
}

export interface ParsedStack {
  stack: StackFrame[];
  causes: ChainedCause[];
}

export function parseStacktrace(language: string, text: string): ParsedStack | undefined {
  switch (language) {
    case 'java':
    case 'php':
      return parseJava(text);
    case 'python':
      return parsePython(text);
    case 'javascript':
    case 'nodejs':
    case 'webjs':
      return parseJavaScript(text);
    case 'dotnet':
      return parseDotnet(text);
    case 'go':
      return parseGo(text);
    default:
      return undefined;
  }
}

function lines(text: string): string[] {
  return text.split(/\r?\n/);
}

function push(stack: StackFrame[], f: StackFrame): void {
  if (stack.length < MAX_FRAMES) stack.push(f);
}

const JAVA_FRAME = /^\tat (.+)\((.*)\)$/;

function parseJava(text: string): ParsedStack {
  const ls = lines(text);
  const out: ParsedStack = { stack: [], causes: [] };
  let current = out.stack;
  // Line 0 is "Type: message" of the top exception, already known from the event attributes.
  for (let i = 1; i < ls.length; i++) {
    const line = ls[i]!;
    const m = JAVA_FRAME.exec(line);
    if (m !== null) {
      let label = m[1]!;
      // Class loader and module prefixes ("app//", "java.base/"); the collector cuts at the first
      // slash and keeps a "/" of "app//". Class and method names hold no slash.
      const slash = label.lastIndexOf('/');
      if (slash >= 0) label = label.slice(slash + 1);
      let path = m[2]!;
      let lineNo = 0;
      const colon = path.indexOf(':');
      if (colon >= 0) {
        lineNo = Number.parseInt(path.slice(colon + 1), 10) || 0;
        path = path.slice(0, colon);
      }
      push(current, { path, label, line: lineNo });
    } else if (line.startsWith('Caused by: ')) {
      let type = line.slice('Caused by: '.length);
      let message = '';
      const colon = type.indexOf(':');
      if (colon >= 0) {
        message = type.slice(colon + 2);
        type = type.slice(0, colon);
      }
      // A message may span lines: everything up to the next frame belongs to it.
      while (i + 1 < ls.length && !JAVA_FRAME.test(ls[i + 1]!)) message += ls[++i];
      const cause: ChainedCause = { type, message, stack: [] };
      out.causes.push(cause);
      current = cause.stack;
    }
    // "... N more" and "Suppressed:" blocks are skipped, as in the collector.
  }
  return out;
}

function parsePython(text: string): ParsedStack {
  const ls = text.split('\n');
  const out: ParsedStack = { stack: [], causes: [] };
  let current = out.stack;
  // Read backwards: the last line is the top exception's "Type: message".
  for (let i = ls.length - 2; i >= 0; i--) {
    const line = ls[i]!;
    if (line.startsWith('  File ')) {
      const parts = line.split(',');
      if (parts.length === 3) {
        const file = parts[0]!.slice('  File "'.length, -1);
        const lineNo = parts[1]!.startsWith(' line ') ? Number.parseInt(parts[1]!.slice(6), 10) || 0 : 0;
        const label = parts[2]!.startsWith(' in ') ? parts[2]!.slice(4) : '';
        push(current, { path: file, label, line: lineNo });
      }
    } else if (line.startsWith('During handling of the above exception, another exception occurred:')) {
      let next = i - 1;
      while (next >= 0 && !ls[next]!.startsWith('  File ')) next--;
      if (next < 0) return out;
      // The message of the earlier exception sits between its last frame and this line.
      const message = ls.slice(next + 2, i - 1).join('\n');
      const colon = message.indexOf(':');
      if (colon < 0) return out;
      const cause: ChainedCause = { type: message.slice(0, colon), message: message.slice(colon + 2), stack: [] };
      out.causes.push(cause);
      current = cause.stack;
      i = next + 1; // the loop's i-- lands on the frame line
    }
  }
  return out;
}

function parseJavaScript(text: string): ParsedStack {
  const ls = lines(text);
  const out: ParsedStack = { stack: [], causes: [] };
  for (let i = 1; i < ls.length; i++) {
    const line = ls[i]!;
    if (!line.startsWith('    at ')) continue;
    let label = '';
    let path = '';
    let lineNo = 0;
    const paren = line.indexOf('(');
    if (paren >= 0 && line.endsWith(')')) {
      label = line.slice(7, paren).trimEnd();
      path = line.slice(paren + 1, -1);
    } else if (paren < 0) {
      path = line.slice(7);
    }
    // path:line:column, read from the right: the path may hold colons itself ("node:internal/x",
    // "file:///app/x.js"), where the collector takes the text after the first colon as the line.
    const m = /^(.*):(\d+):(\d+)$/.exec(path);
    if (m !== null) {
      path = m[1]!;
      lineNo = Number(m[2]);
    } else if (!path.includes(':') && path.includes('native')) {
      path = 'native';
    }
    if (path !== '' || label !== '' || lineNo !== 0) push(out.stack, { path, label, line: lineNo });
  }
  return out;
}

function parseDotnet(text: string): ParsedStack {
  const ls = lines(text);
  const out: ParsedStack = { stack: [], causes: [] };
  for (let i = 1; i < ls.length; i++) {
    const line = ls[i]!.trim();
    if (!line.startsWith('at ')) continue;
    const inAt = line.indexOf(' in ');
    if (inAt >= 0) {
      const label = line.slice(3, inAt);
      let path = line.slice(inAt + 4);
      let lineNo = 0;
      const colon = path.lastIndexOf(':');
      if (colon >= 0) {
        let lineText = path.slice(colon + 1);
        if (lineText.startsWith('line')) lineText = lineText.slice(5);
        path = path.slice(0, colon);
        lineNo = Number.parseInt(lineText, 10) || 0;
      }
      push(out.stack, { path, label, line: lineNo });
    } else {
      const close = line.lastIndexOf(')');
      if (close >= 0) push(out.stack, { path: '', label: line.slice(3, close + 1), line: 0 });
    }
  }
  return out;
}

const GO_GOROUTINE = /^goroutine.*\brunning\b.*:$/;
const GO_PATH_LINE = /([^:\s]+):(\d+)/;

function parseGo(text: string): ParsedStack {
  const ls = lines(text);
  const out: ParsedStack = { stack: [], causes: [] };
  // Pairs of lines: "pkg.Func(args)" then "\t/path/file.go:123 +0x..".
  let i = 1;
  while (i < ls.length) {
    if (GO_GOROUTINE.test(ls[i]!)) i++;
    const label = ls[i] ?? '';
    const loc = GO_PATH_LINE.exec(ls[i + 1] ?? '');
    if (label !== '' || loc !== null) push(out.stack, { path: loc?.[1] ?? '', label, line: loc === null ? 0 : Number(loc[2]) });
    i += 2;
  }
  return out;
}

/** The top exception and its chained causes, each linked to the next by `cause`. */
export function chainExceptions(top: XRayException, parsed: ParsedStack | undefined, nextId: () => string): XRayException[] {
  if (parsed === undefined) return [top];
  if (parsed.stack.length > 0) top.stack = parsed.stack;
  const all = [top];
  for (const c of parsed.causes) {
    const e: XRayException = { id: nextId(), type: c.type, message: c.message };
    if (top.remote !== undefined) e.remote = top.remote;
    if (c.stack.length > 0) e.stack = c.stack;
    all[all.length - 1]!.cause = e.id;
    all.push(e);
  }
  return all;
}
