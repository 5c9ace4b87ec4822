// Writes an edited document back into the text it was parsed from: the text of every node
// that did not change is kept byte for byte (indentation, comments, quoting, blank lines);
// only new and replaced nodes are printed (by the `yaml` package), at the indentation of the
// place they go to and in the document's own style (indent step, `- ` under or beside its key).
//
// Edits, smallest first:
// - new keys at the end of a block map, new items in a block sequence: inserted as lines;
// - a replaced value: its key's lines re-printed; a replaced item: its lines re-printed;
// - removed keys and items: their lines deleted;
// - anything else (a flow collection `{...}`/`[...]` that changed, a key inserted between others,
//   a removal on the first line of a `- key: value` item, an item carrying `&anchor`/`!tag`):
//   the smallest enclosing block key or item is re-printed, turning the flow collections that
//   changed into block style (the others keep theirs).
// A node's parsed range ends after the comment lines that follow it, so where its content ends
// is worked out here (contentEnd) from the last scalar, alias or flow collection inside it.
import { Document, isAlias, isCollection, isMap, isPair, isScalar, isSeq, visit, YAMLMap, YAMLSeq, type Node, type Pair, type Range } from 'yaml';
import { keepStringKey, WRITE_YAML } from './yaml-kubectl.ts';

type Collection = YAMLMap | YAMLSeq;

/** The structure of a document as parsed, kept before any edit. */
export interface Snapshot {
  items: Map<Collection, readonly unknown[]>;
  values: Map<Pair, unknown>;
  flow: Map<Collection, boolean>;
}

export function takeSnapshot(doc: Document): Snapshot {
  const snap: Snapshot = { items: new Map(), values: new Map(), flow: new Map() };
  visit(doc, {
    Collection(_k, c) {
      snap.items.set(c, [...c.items]);
      snap.flow.set(c, c.flow === true);
    },
    Pair(_k, p) {
      snap.values.set(p, p.value);
    },
  });
  return snap;
}

export interface TextEdit {
  start: number;
  end: number;
  text: string;
}

/** How the document writes what is printed into it; undefined: not seen, the `yaml` package's default. */
export interface Style {
  indent?: number;
  indentSeq?: boolean;
  flowPadding?: boolean;
}

function hasRange(n: unknown): n is Node & { range: Range } {
  return (isScalar(n) || isCollection(n) || isAlias(n)) && Array.isArray(n.range);
}

/** Indentation habits of a document, from its block collections and flow collections. */
export function detectStyle(doc: Document, text: string): Style {
  const style: Style = {};
  const lineStart = (pos: number) => text.lastIndexOf('\n', pos - 1) + 1;
  const column = (pos: number) => pos - lineStart(pos);
  visit(doc, {
    Pair(_k, p) {
      const { key, value } = p;
      if (!hasRange(key) || !hasRange(value) || !isCollection(value) || value.flow) return;
      if (lineStart(value.range[0]) === lineStart(key.range[0])) return;
      const step = column(value.range[0]) - column(key.range[0]);
      if (isMap(value) && step > 0) style.indent ??= step;
      if (isSeq(value)) style.indentSeq ??= step > 0;
    },
    Collection(_k, c) {
      if (c.flow === true && c.items.length > 0 && hasRange(c)) style.flowPadding ??= text[c.range[0] + 1] === ' ';
    },
  });
  return style;
}

/** The edits that turn `text` (which `doc` was parsed from, then edited) into the edited document. */
export function spliceDocument(text: string, doc: Document, snap: Snapshot, style: Style): TextEdit[] {
  return new Splicer(text, doc, snap, style).run();
}

/**
 * Applies non-overlapping edits (sorted by start; equal starts keep their order). The result
 * ends with a line break only if the text did.
 */
export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  const sorted = edits.map((e, i) => ({ e, i })).sort((a, b) => a.e.start - b.e.start || a.i - b.i);
  let out = '';
  let at = 0;
  for (const { e } of sorted) {
    if (e.start < at) throw new Error(`overlapping edits at offset ${e.start}`);
    out += text.slice(at, e.start) + e.text;
    at = e.end;
  }
  out += text.slice(at);
  return !text.endsWith('\n') && out.endsWith('\n') ? out.replace(/\r?\n$/, '') : out;
}

/** An edit whose text is printed only once the edit is kept (a parent may re-print the whole node instead). */
interface PlannedEdit {
  start: number;
  end: number;
  text: () => string;
}

class Splicer {
  private readonly changedMemo = new Map<unknown, boolean>();
  private readonly text: string;
  private readonly doc: Document;
  private readonly snap: Snapshot;
  private readonly style: Style;
  /** The document's line break: new lines use it too. */
  private readonly eol: string;

  constructor(text: string, doc: Document, snap: Snapshot, style: Style) {
    this.text = text;
    this.doc = doc;
    this.snap = snap;
    this.style = style;
    const nl = text.indexOf('\n', doc.range?.[0] ?? 0);
    this.eol = nl > 0 && text[nl - 1] === '\r' ? '\r\n' : '\n';
  }

  run(): TextEdit[] {
    const root = this.doc.contents;
    if (!isCollection(root) || !this.changed(root)) return [];
    if (!hasRange(root)) throw new Error('the document has no source positions');
    const json = this.jsonIndent(root);
    // JSON in, JSON out (`kubectl get -o json | ... inject -f -`), in the input's layout.
    const planned =
      json !== undefined
        ? [this.edit(root.range[0], root.range[1], () => JSON.stringify(this.doc.toJS({ maxAliasCount: 100 }), null, json === 0 ? undefined : json))]
        : (this.reconcile(root) ?? [this.replace(root.range[0], root, root)]);
    return planned.map((e) => ({ start: e.start, end: e.end, text: e.text() }));
  }

  /** For a document that is JSON: its indent step (0: all on one line); else undefined. */
  private jsonIndent(root: Collection & { range: Range }): number | undefined {
    if (this.snap.flow.get(root) !== true) return undefined;
    const source = this.text.slice(root.range[0], root.range[1]);
    try {
      JSON.parse(source);
    } catch {
      return undefined;
    }
    const second = /\n( *)\S/.exec(source);
    return second === null ? 0 : second[1]!.length;
  }

  /** Edits that bring `node`'s text up to date, or undefined when the whole node must be re-printed. */
  private reconcile(node: Collection): PlannedEdit[] | undefined {
    if (this.snap.flow.get(node) !== false) return undefined;
    return isMap(node) ? this.reconcileMap(node) : this.reconcileSeq(node);
  }

  private reconcileMap(map: YAMLMap): PlannedEdit[] | undefined {
    const orig = this.snap.items.get(map) as readonly Pair[];
    const cur = map.items;
    const origSet = new Set<unknown>(orig);
    const curSet = new Set<unknown>(cur);
    const firstNew = cur.findIndex((p) => !origSet.has(p));
    const added = firstNew < 0 ? [] : cur.slice(firstNew);
    if (added.some((p) => origSet.has(p))) return undefined; // a new key between old ones
    if (cur.length === added.length) return undefined; // every old key gone
    // In document order: an insertion at the end of one key's value comes before the deletion
    // of the next key, which starts at the same offset.
    const edits: PlannedEdit[] = [];
    for (const p of orig) {
      if (!curSet.has(p)) {
        const start = this.keyStart(p);
        if (start === undefined || !this.startsLine(start)) return undefined;
        edits.push(this.edit(this.lineStart(start), this.lineEnd(this.contentEnd(p)), () => ''));
      } else if (this.snap.values.get(p) !== p.value) {
        const e = this.replacePair(p);
        if (e === undefined) return undefined;
        edits.push(e);
      } else if (isCollection(p.value) && this.changed(p.value)) {
        const sub = this.reconcile(p.value) ?? this.replacePair(p);
        if (sub === undefined) return undefined;
        edits.push(...(Array.isArray(sub) ? sub : [sub]));
      }
    }
    if (added.length > 0) {
      const wrapper = new YAMLMap();
      wrapper.items = added;
      edits.push(this.insert(this.lineEnd(this.contentEnd(map)), wrapper, this.column(map)));
    }
    return edits;
  }

  private reconcileSeq(seq: YAMLSeq): PlannedEdit[] | undefined {
    const orig = this.snap.items.get(seq)!;
    const cur = seq.items;
    if (cur.length === 0) return undefined;
    const origSet = new Set(orig);
    const edits: PlannedEdit[] = [];
    let next = 0; // next original item not yet accounted for
    let pending: unknown[] = [];
    const gap = (removed: readonly unknown[], added: readonly unknown[], before: unknown): boolean => {
      const paired = Math.min(removed.length, added.length);
      for (let i = 0; i < paired; i++) {
        const e = this.replaceItem(removed[i], added[i]);
        if (e === undefined) return false;
        edits.push(e);
      }
      for (const r of removed.slice(paired)) {
        const line = this.dashLine(seq, r);
        if (line === undefined) return false;
        edits.push(this.edit(line, this.lineEnd(this.contentEnd(r)), () => ''));
      }
      if (added.length > paired) {
        const at = before === undefined ? this.lineEnd(this.contentEnd(orig.at(-1))) : this.dashLine(seq, before);
        if (at === undefined) return false;
        const wrapper = new YAMLSeq();
        wrapper.items = added.slice(paired);
        edits.push(this.insert(at, wrapper, this.column(seq)));
      }
      return true;
    };
    for (const item of cur) {
      if (!origSet.has(item)) {
        pending.push(item);
        continue;
      }
      const index = orig.indexOf(item);
      if (index < next) return undefined; // reordered
      if (!gap(orig.slice(next, index), pending, item)) return undefined;
      pending = [];
      next = index + 1;
      if (isCollection(item) && this.changed(item)) {
        const sub = this.reconcile(item) ?? this.replaceItem(item, item);
        if (sub === undefined) return undefined;
        edits.push(...(Array.isArray(sub) ? sub : [sub]));
      }
    }
    if (!gap(orig.slice(next), pending, undefined)) return undefined;
    return edits;
  }

  /** Re-prints a key and its value, from the key to the end of the value's last line. */
  private replacePair(p: Pair): PlannedEdit | undefined {
    const start = this.keyStart(p);
    if (start === undefined) return undefined;
    const wrapper = new YAMLMap();
    wrapper.items = [p];
    return this.replace(start, p, wrapper);
  }

  /** Re-prints an item in place of `old` (its `- ` stays); undefined when `old` carries an anchor or tag. */
  private replaceItem(old: unknown, item: unknown): PlannedEdit | undefined {
    if (!hasRange(old) || ((isScalar(old) || isCollection(old)) && (old.anchor !== undefined || old.tag !== undefined))) return undefined;
    return this.replace(old.range[0], old, item as Node);
  }

  /** Replaces from `start` to the end of `old`'s content with `node` printed there. */
  private replace(start: number, old: unknown, node: Node): PlannedEdit {
    const end = this.lineEnd(this.contentEnd(old));
    return this.edit(start, end, () => {
      this.prepare(node, start, end);
      return this.print(node, this.column(start), true);
    });
  }

  private insert(at: number, node: Collection, column: number): PlannedEdit {
    return this.edit(at, at, () => {
      this.prepare(node, at, at);
      return this.print(node, column, false);
    });
  }

  /**
   * Before printing a node into [start, end): comments written before `start` or after `end`
   * stay in the text there, so the node must not print them again; and the flow collections
   * that changed become block collections (new keys and items are block style), except empty ones.
   */
  private prepare(node: Node, start: number, end: number): void {
    visit(node, {
      Pair: (_k, p) => keepStringKey(p.key),
      Node: (_k, n) => {
        if (hasRange(n)) {
          if (n.range[0] <= start) {
            n.commentBefore = undefined;
            n.spaceBefore = false;
          }
          if (n.range[2] > end) n.comment = undefined;
        }
        // Empty collections print as `{}` / `[]` (block style has no way to write them).
        if (isCollection(n)) n.flow = n.items.length === 0 || (n.flow === true && !this.changed(n));
      },
    });
  }

  /** `node` printed at `column`: every line indented by it (but the first when it goes after text already there). */
  private print(node: Node, column: number, inline: boolean): string {
    const doc = new Document(null, WRITE_YAML);
    doc.contents = node;
    const printed = doc.toString({
      indent: this.style.indent ?? 2,
      indentSeq: this.style.indentSeq ?? true,
      flowCollectionPadding: this.style.flowPadding ?? true,
      // Long values (the status annotation is JSON) stay on one line: folded, they are harder
      // to read and to grep.
      lineWidth: 0,
      // Aliases in re-printed text may point at anchors outside it.
      verifyAliasOrder: false,
    });
    const pad = ' '.repeat(column);
    return printed
      .split('\n')
      .map((l, i) => (l === '' || (i === 0 && inline) ? l : pad + l))
      .join('\n');
  }

  /** An edit in the document's line endings; at the end of a text without a final line break, it adds none. */
  private edit(start: number, end: number, print: () => string): PlannedEdit {
    const text = () => {
      let t = print();
      if (end === this.text.length && !this.text.endsWith('\n') && t.endsWith('\n')) {
        t = t.slice(0, -1);
        if (start === end && !this.atLineStart(start)) t = `\n${t}`;
      }
      return this.eol === '\n' ? t : t.replace(/\n/g, this.eol);
    };
    return { start, end, text };
  }

  private changed(x: unknown): boolean {
    if (!isCollection(x)) return false;
    const known = this.changedMemo.get(x);
    if (known !== undefined) return known;
    const orig = this.snap.items.get(x);
    let changed = orig === undefined || orig.length !== x.items.length || orig.some((it, i) => it !== x.items[i]);
    for (const it of x.items) {
      if (changed) break;
      changed = isPair(it) ? this.snap.values.get(it) !== it.value || this.changed(it.value) : this.changed(it);
    }
    this.changedMemo.set(x, changed);
    return changed;
  }

  /** Where a node's content ends as parsed: after its last scalar, alias or flow collection. */
  private contentEnd(x: unknown): number {
    if (isPair(x)) {
      const value = this.snap.values.has(x) ? this.snap.values.get(x) : x.value;
      return hasRange(value) ? this.contentEnd(value) : this.contentEnd(x.key);
    }
    if (isCollection(x) && this.snap.flow.get(x) === false) {
      const items = this.snap.items.get(x)!;
      return this.contentEnd(items.at(-1));
    }
    if (hasRange(x)) return x.range[1];
    throw new Error('a node without a source position');
  }

  private keyStart(p: Pair): number | undefined {
    return hasRange(p.key) && !(isScalar(p.key) && (p.key.anchor !== undefined || p.key.tag !== undefined)) ? p.key.range[0] : undefined;
  }

  /** The start of the line whose `- ` holds `item`, when that dash begins the line. */
  private dashLine(seq: YAMLSeq, item: unknown): number | undefined {
    if (!hasRange(item) || !hasRange(seq)) return undefined;
    const line = this.lineStart(item.range[0]);
    const col = this.column(seq);
    const lead = this.text.slice(line, line + col);
    return lead.trim() === '' && lead.length === col && this.text[line + col] === '-' ? line : undefined;
  }

  private column(at: number | Node): number {
    const pos = typeof at === 'number' ? at : hasRange(at) ? at.range[0] : 0;
    const start = this.lineStart(pos);
    return pos - start - (this.text[start] === '\uFEFF' ? 1 : 0);
  }

  private lineStart(pos: number): number {
    return this.text.lastIndexOf('\n', pos - 1) + 1;
  }

  /** `pos` if it begins a line, else the start of the next line (or the end of the text). */
  private lineEnd(pos: number): number {
    if (this.atLineStart(pos)) return pos;
    const nl = this.text.indexOf('\n', pos);
    return nl < 0 ? this.text.length : nl + 1;
  }

  private atLineStart(pos: number): boolean {
    return pos === 0 || this.text[pos - 1] === '\n';
  }

  private startsLine(pos: number): boolean {
    return this.text.slice(this.lineStart(pos), pos).trim() === '';
  }
}
