// RFC 6902 JSON Patch computed by diffing two JSON documents, so no code path ever builds
// a patch path by hand (unescaped `/` in `tracebridge.io/status`, `add` below a parent that
// does not exist yet and stale array indices are the classic webhook bugs).
//
// The result, applied in order to `before`, yields `after`:
// - objects: removed keys → `remove`, new keys → `add` (a whole missing parent is one `add`
//   of the subtree), changed values → recurse when both sides are the same kind of container,
//   else `replace`;
// - arrays: common prefix and suffix are kept; the differing middle is diffed pairwise, then
//   the surplus is added (ascending indices) or removed (descending indices, so earlier
//   removals do not shift later ones). Appends and insertions therefore touch nothing else.
// Values are JSON: `undefined` members count as absent, as JSON.stringify would drop them.
import { isRecord } from './pod.ts';

export type JsonPatchOperation =
  | { op: 'add'; path: string; value: unknown }
  | { op: 'replace'; path: string; value: unknown }
  | { op: 'remove'; path: string };

/** Escapes one reference token (RFC 6901 §3: `~` first, then `/`). */
export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

type JsonObject = Record<string, unknown>;

export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false;
    return true;
  }
  if (isRecord(a)) {
    if (!isRecord(b)) return false;
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    if (ka.length !== kb.length) return false;
    for (const k of ka) if (!Object.hasOwn(b, k) || !jsonEqual(a[k], b[k])) return false;
    return true;
  }
  return false;
}

/** A deep copy in JSON terms (drops `undefined` members), for values placed into operations. */
function copy(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

export function diff(before: unknown, after: unknown): JsonPatchOperation[] {
  const ops: JsonPatchOperation[] = [];
  walk(before, after, '', ops);
  return ops;
}

function walk(a: unknown, b: unknown, path: string, ops: JsonPatchOperation[]): void {
  if (Array.isArray(a) && Array.isArray(b)) return diffArrays(a, b, path, ops);
  if (isRecord(a) && isRecord(b)) return diffObjects(a, b, path, ops);
  if (!jsonEqual(a, b)) ops.push({ op: 'replace', path, value: copy(b) });
}

function diffObjects(a: JsonObject, b: JsonObject, path: string, ops: JsonPatchOperation[]): void {
  for (const key of Object.keys(a)) {
    if (a[key] === undefined) continue;
    if (!Object.hasOwn(b, key) || b[key] === undefined) ops.push({ op: 'remove', path: `${path}/${escapePointerToken(key)}` });
  }
  for (const key of Object.keys(b)) {
    if (b[key] === undefined) continue;
    const child = `${path}/${escapePointerToken(key)}`;
    if (!Object.hasOwn(a, key) || a[key] === undefined) ops.push({ op: 'add', path: child, value: copy(b[key]) });
    else walk(a[key], b[key], child, ops);
  }
}

function diffArrays(a: unknown[], b: unknown[], path: string, ops: JsonPatchOperation[]): void {
  let prefix = 0;
  while (prefix < a.length && prefix < b.length && jsonEqual(a[prefix], b[prefix])) prefix++;
  let suffix = 0;
  while (
    suffix < a.length - prefix &&
    suffix < b.length - prefix &&
    jsonEqual(a[a.length - 1 - suffix], b[b.length - 1 - suffix])
  ) {
    suffix++;
  }
  const oldMiddle = a.length - prefix - suffix;
  const newMiddle = b.length - prefix - suffix;
  const paired = Math.min(oldMiddle, newMiddle);
  for (let i = prefix; i < prefix + paired; i++) walk(a[i], b[i], `${path}/${i}`, ops);
  for (let i = prefix + paired; i < prefix + newMiddle; i++) ops.push({ op: 'add', path: `${path}/${i}`, value: copy(b[i]) });
  for (let i = prefix + oldMiddle - 1; i >= prefix + paired; i--) ops.push({ op: 'remove', path: `${path}/${i}` });
}
