// Applies an RFC 6902 patch (json-patch.ts's diff of an object before and after injection) to
// the nodes of a parsed YAML document, so that only the nodes the patch names are new and
// everything else keeps what the parser recorded: comments, quoting, number spelling, anchors.
//
// YAML can share one node between places; JSON cannot, so a path through shared nodes is
// unshared first, and every other place keeps its value:
// - a path through an alias (`env: *otel-vars`): the alias becomes a copy of what it points to,
//   and the copy is edited;
// - a node with an anchor that aliases elsewhere read (`env: &shared [...]`, `env: *shared`):
//   those aliases become copies before the node is edited; so do aliases of anchors inside a
//   node that is replaced or removed;
// - a key that a merge key provides (`<<: *otel-env` giving `env`): the key is written out
//   after the merge, from a copy of the merged value, and the copy is edited. A key written
//   after `<<` wins for every YAML 1.1 reader; the merge still gives the other keys.
// Copies carry no anchors, aliases or comments. Removing a key that a merge provides cannot be
// written without rewriting the merge, and is refused, as is an object whose merge keys
// kubectl reads differently from the YAML spec (mergeOrderProblem).
import { isAlias, isCollection, isMap, isPair, isScalar, isSeq, Pair, visit, type Document, type Node, type YAMLMap, type YAMLSeq } from 'yaml';
import { jsonEqual, type JsonPatchOperation } from './json-patch.ts';
import { keepStringKey } from './yaml-kubectl.ts';

type Parent = Document | Node | Pair;

function pointerTokens(path: string): string[] {
  if (path === '') return [];
  return path
    .slice(1)
    .split('/')
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** The JSON key the `yaml` package gives a scalar key (toJS), or undefined for other keys. */
function jsKey(key: unknown): string | undefined {
  if (!isScalar(key)) return undefined;
  const v: unknown = key.value;
  if (v === null || v === undefined) return '';
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : undefined;
}

/** `<<`: the parser gives merge keys a symbol value. */
function isMergePair(p: Pair): boolean {
  return isScalar(p.key) && typeof p.key.value === 'symbol';
}

function ownPair(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => !isMergePair(p) && jsKey(p.key) === key);
}

function resolved(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

/** The maps a merge pair merges, in order (a sequence of maps: earlier ones win). */
function mergeSources(doc: Document, pair: Pair): YAMLMap[] {
  const v = resolved(doc, pair.value);
  const items = isSeq(v) ? v.items.map((i) => resolved(doc, i)) : [v];
  return items.filter((m): m is YAMLMap => isMap(m));
}

/** Every key a map gives, with its value node, as the YAML spec merges: own keys win, then merges in order. */
function effectiveEntries(doc: Document, map: YAMLMap, depth = 0): Map<string, unknown> {
  if (depth > 20) throw new Error('merge keys nested too deeply');
  const out = new Map<string, unknown>();
  for (const p of map.items) {
    const k = isMergePair(p) ? undefined : jsKey(p.key);
    if (k !== undefined) out.set(k, p.value);
  }
  for (const p of map.items) {
    if (!isMergePair(p)) continue;
    for (const source of mergeSources(doc, p)) {
      for (const [k, v] of effectiveEntries(doc, source, depth + 1)) if (!out.has(k)) out.set(k, v);
    }
  }
  return out;
}

function mergedValue(doc: Document, map: YAMLMap, key: string): { found: boolean; value?: unknown } {
  if (!map.items.some(isMergePair)) return { found: false };
  const entries = effectiveEntries(doc, map);
  return ownPair(map, key) === undefined && entries.has(key) ? { found: true, value: entries.get(key) } : { found: false };
}

function nodeValue(doc: Document, node: unknown): unknown {
  return isScalar(node) || isCollection(node) || isAlias(node) ? node.toJS(doc, { maxAliasCount: 100 }) : node;
}

/**
 * Where kubectl and the YAML spec read a map differently: go-yaml v2 applies `<<` where it
 * stands, so a merge overrides keys set before it (and an earlier merge), while the spec (and
 * every other reader) lets the map's own keys, then the first merge, win. Undefined when they agree.
 */
function mergeOrderProblem(doc: Document, map: YAMLMap): string | undefined {
  const seen = new Map<string, { node: unknown; byMerge: boolean }>();
  for (const p of map.items) {
    if (!isMergePair(p)) {
      const k = jsKey(p.key);
      if (k !== undefined) seen.set(k, { node: p.value, byMerge: false });
      continue;
    }
    const given = new Map<string, unknown>();
    for (const source of mergeSources(doc, p)) {
      for (const [k, v] of effectiveEntries(doc, source)) if (!given.has(k)) given.set(k, v);
    }
    for (const [k, v] of given) {
      const before = seen.get(k);
      if (before !== undefined && !jsonEqual(nodeValue(doc, before.node), nodeValue(doc, v))) {
        const clash = before.byMerge ? `"<<" sets "${k}" again after an earlier "<<"` : `"<<" comes after "${k}", which it also sets`;
        return `${clash}: kubectl takes the later value there, the YAML spec (and other readers) the earlier one; move "<<" first`;
      }
      if (before === undefined) seen.set(k, { node: v, byMerge: true });
    }
  }
  return undefined;
}

function describe(path: string, key: string, inSeq: boolean): string {
  if (inSeq) return `${path}[${key}]`;
  return path === '' ? key : `${path}.${key}`;
}

/** Checks every map reachable from `root` (aliases followed) for mergeOrderProblem. */
function findMergeOrderProblem(doc: Document, root: unknown): string | undefined {
  const seen = new Set<unknown>();
  const walk = (node: unknown, path: string): string | undefined => {
    const n = resolved(doc, node);
    if (seen.has(n)) return undefined;
    seen.add(n);
    if (isMap(n)) {
      const problem = mergeOrderProblem(doc, n);
      if (problem !== undefined) return `${path === '' ? 'the object' : path}: ${problem}`;
      for (const p of n.items) {
        const k = isMergePair(p) ? '<<' : (jsKey(p.key) ?? '?');
        const found = walk(p.value, describe(path, k, false));
        if (found !== undefined) return found;
      }
    } else if (isSeq(n)) {
      for (let i = 0; i < n.items.length; i++) {
        const found = walk(n.items[i], describe(path, String(i), true));
        if (found !== undefined) return found;
      }
    }
    return undefined;
  };
  return walk(root, '');
}

/**
 * A copy of `node` (aliases followed) with no anchors, no aliases, no source positions and no
 * comments (those stay with the original, once).
 */
function detachedCopy(doc: Document, node: unknown, depth = 0): Node {
  if (depth > 50) throw new Error('aliases nested too deeply to copy');
  const target = resolved(doc, node);
  if (target === undefined || target === null) throw new Error(`unresolved alias ${isAlias(node) ? `*${node.source}` : ''}`);
  let copy: Node;
  if (isMap(target)) {
    const map = target.clone() as YAMLMap;
    map.items = target.items.map((p) => new Pair(isScalar(p.key) ? detached(p.key.clone() as Node) : p.key, p.value === null || p.value === undefined ? p.value : detachedCopy(doc, p.value, depth + 1)));
    copy = map;
  } else if (isSeq(target)) {
    const seq = target.clone() as YAMLSeq;
    seq.items = target.items.map((i) => (i === null || i === undefined ? i : detachedCopy(doc, i, depth + 1)));
    copy = seq;
  } else if (isScalar(target)) {
    copy = target.clone() as Node;
  } else {
    throw new Error('cannot copy this node');
  }
  return detached(copy);
}

function detached<T extends Node>(n: T): T {
  n.range = undefined;
  n.commentBefore = undefined;
  n.comment = undefined;
  n.spaceBefore = false;
  if ('anchor' in n) n.anchor = undefined;
  return n;
}

/** A copy standing where `alias` stood: the alias's own comments, not its target's. */
function copyForAlias(doc: Document, alias: Node, target: unknown): Node {
  const copy = detachedCopy(doc, target);
  copy.commentBefore = alias.commentBefore;
  copy.comment = alias.comment;
  copy.spaceBefore = alias.spaceBefore;
  return copy;
}

/** A readable path for a node reached by `visit`. */
function visitPath(path: readonly Parent[], node: unknown): string {
  let out = '';
  const chain = [...path, node];
  for (let i = 0; i < chain.length - 1; i++) {
    const cur = chain[i];
    const next = chain[i + 1];
    if (isPair(cur)) out = describe(out, jsKey(cur.key) ?? '<<', false);
    else if (isSeq(cur)) out = describe(out, String(cur.items.indexOf(next)), true);
  }
  return out;
}

/** A patch that cannot be applied without changing what other readers or other places see. */
export class YamlEditRefused extends Error {}

export interface PatchTarget {
  doc: Document;
  /** Pointer tokens from the document root to the object the patch applies to (a List item). */
  base: readonly string[];
  ops: readonly JsonPatchOperation[];
}

/** Why the patch would be refused, or undefined; tried on a copy of the document. */
export function patchProblem(target: PatchTarget): string | undefined {
  try {
    applyPatch({ ...target, doc: target.doc.clone() });
    return undefined;
  } catch (err) {
    if (err instanceof YamlEditRefused) return err.message;
    throw err;
  }
}

/**
 * Applies the patch to the document's nodes. Returns notes on what was unshared, for the
 * report line; throws YamlEditRefused (before changing anything that matters: try patchProblem
 * on a copy first) when the patch cannot be applied faithfully.
 */
export function applyPatch({ doc, base, ops }: PatchTarget): string[] {
  let object: unknown = doc.contents;
  for (const t of base) object = step(doc, object, t);
  const order = findMergeOrderProblem(doc, object);
  if (order !== undefined) throw new YamlEditRefused(order);
  const notes: string[] = [];
  for (const op of ops) {
    const tokens = pointerTokens(op.path);
    if (tokens.length === 0) throw new YamlEditRefused('the patch replaces the whole object');
    applyOne(doc, [...base, ...tokens], op, notes, base.length);
  }
  return notes;
}

/** One step of a pointer through the nodes, reading only (aliases and merges followed). */
function step(doc: Document, node: unknown, token: string): unknown {
  const n = resolved(doc, node);
  if (isMap(n)) {
    const own = ownPair(n, token);
    if (own !== undefined) return own.value;
    const merged = mergedValue(doc, n, token);
    return merged.found ? merged.value : undefined;
  }
  if (isSeq(n)) {
    const i = Number(token);
    return Number.isInteger(i) && i >= 0 && i < n.items.length ? n.items[i] : undefined;
  }
  return undefined;
}

function applyOne(doc: Document, tokens: readonly string[], op: JsonPatchOperation, notes: string[], baseLength: number): void {
  // Every node from the root to the parent of the target changes value: none may stay shared.
  let parent = doc.contents as Node;
  let path = '';
  unshareAnchored(doc, parent, notes);
  for (let i = 0; i < tokens.length - 1; i++) {
    const inSeq = isSeq(parent);
    parent = writableChild(doc, parent, tokens[i]!, path, notes, i < baseLength);
    if (i >= baseLength) path = describe(path, tokens[i]!, inSeq);
    unshareAnchored(doc, parent, notes);
  }
  const last = tokens.at(-1)!;
  const value = op.op === 'remove' ? undefined : newNode(doc, op.value);
  const target = describe(path, last, isSeq(parent));
  if (isMap(parent)) {
    const own = ownPair(parent, last);
    if (op.op === 'remove') {
      if (own === undefined || mergedKeys(doc, parent).has(last)) throw new YamlEditRefused(`cannot remove ${target}: a "<<" merge key gives it`);
      unshareInside(doc, own.value, notes);
      parent.items.splice(parent.items.indexOf(own), 1);
    } else if (own !== undefined) {
      unshareInside(doc, own.value, notes);
      own.value = value;
    } else {
      // A new key, or one a merge gave: written after the merge keys, so it wins.
      if (mergedValue(doc, parent, last).found) notes.push(`${describe(path, last, false)} written out (it came through "<<")`);
      parent.items.push(new Pair(newKey(doc, last), value));
    }
  } else if (isSeq(parent)) {
    const i = Number(last);
    if (!Number.isInteger(i) || i < 0 || i > parent.items.length - (op.op === 'add' ? 0 : 1)) throw new YamlEditRefused(`cannot find ${target}`);
    if (op.op === 'add') {
      parent.items.splice(i, 0, value);
    } else {
      unshareInside(doc, parent.items[i], notes);
      if (op.op === 'remove') parent.items.splice(i, 1);
      else parent.items[i] = value;
    }
  } else {
    throw new YamlEditRefused(`cannot edit ${path || 'the object'}: not a map or a list`);
  }
}

/** Nodes for a JSON value (a key `<<` in it stays a string, not a merge key). */
function newNode(doc: Document, value: unknown): Node {
  const node = doc.createNode(value, { aliasDuplicateObjects: false });
  visit(node, { Pair: (_k, p) => keepStringKey(p.key) });
  return node;
}

function newKey(doc: Document, key: string): Node {
  const node = doc.createNode(key);
  keepStringKey(node);
  return node;
}

/** The keys a map's merge keys give (whether or not the map sets them too). */
function mergedKeys(doc: Document, map: YAMLMap): Set<string> {
  const out = new Set<string>();
  for (const p of map.items) {
    if (isMergePair(p)) for (const source of mergeSources(doc, p)) for (const k of effectiveEntries(doc, source).keys()) out.add(k);
  }
  return out;
}

/** The child to edit under `parent`: an alias or a merged key first becomes a copy in place. */
function writableChild(doc: Document, parent: Node, token: string, path: string, notes: string[], inBase: boolean): Node {
  const where = (inSeq: boolean) => describe(path, token, inSeq);
  if (isMap(parent)) {
    const own = ownPair(parent, token);
    if (own !== undefined) {
      if (isAlias(own.value)) {
        if (!inBase) notes.push(`*${own.value.source} copied into ${where(false)}`);
        own.value = copyForAlias(doc, own.value, own.value);
      }
      return own.value as Node;
    }
    const merged = mergedValue(doc, parent, token);
    if (!merged.found) throw new YamlEditRefused(`cannot find ${where(false)}`);
    const copy = detachedCopy(doc, merged.value);
    parent.items.push(new Pair(newKey(doc, token), copy));
    notes.push(`${where(false)} written out (it came through "<<")`);
    return copy;
  }
  if (isSeq(parent)) {
    const i = Number(token);
    if (!Number.isInteger(i) || i < 0 || i >= parent.items.length) throw new YamlEditRefused(`cannot find ${where(true)}`);
    const item = parent.items[i];
    if (isAlias(item)) {
      if (!inBase) notes.push(`*${item.source} copied into ${where(true)}`);
      parent.items[i] = copyForAlias(doc, item, item);
    }
    return parent.items[i] as Node;
  }
  throw new YamlEditRefused(`cannot find ${where(false)}: ${path || 'the object'} is not a map or a list`);
}

/** Aliases elsewhere that read `node` through its anchor become copies of it, as it is now. */
function unshareAnchored(doc: Document, node: Node, notes: string[]): void {
  if (!(isScalar(node) || isCollection(node)) || node.anchor === undefined) return;
  replaceAliasesOf(doc, new Set([node]), new Set(), notes);
}

/** Before `node` is replaced or removed: aliases outside it that read anchors inside it become copies. */
function unshareInside(doc: Document, node: unknown, notes: string[]): void {
  if (!isScalar(node) && !isCollection(node)) return;
  const anchored = new Set<Node>();
  const inside = new Set<unknown>();
  visit(node, {
    Node(_k, n) {
      inside.add(n);
      if ((isScalar(n) || isCollection(n)) && n.anchor !== undefined) anchored.add(n);
    },
  });
  if (anchored.size > 0) replaceAliasesOf(doc, anchored, inside, notes);
}

function replaceAliasesOf(doc: Document, targets: ReadonlySet<Node>, skip: ReadonlySet<unknown>, notes: string[]): void {
  visit(doc, {
    Alias(_k, alias, path) {
      if (skip.has(alias)) return undefined;
      const target = alias.resolve(doc);
      if (target === undefined || !targets.has(target)) return undefined;
      notes.push(`*${alias.source} copied into ${visitPath(path, alias) || 'the document'}`);
      return copyForAlias(doc, alias, target);
    },
  });
}
