// YAML as kubectl reads it. kubectl (like Helm and kustomize) decodes manifests with go-yaml v2
// (sigs.k8s.io/yaml), a YAML 1.1 reader, then hands JSON to the API server. So:
// - y/yes/on/off/n/no (any case form YAML 1.1 lists) are booleans: `"off"` must stay quoted;
// - 0400 is octal (256), as are 0o400 and the other prefixes Go's ParseInt accepts (0x, 0b,
//   upper case too); `_` between digits is ignored;
// - `<<` merge keys are resolved;
// - but base-60 numbers (`1:30`) and timestamps (`2024-01-01`) stay strings: go-yaml v2 has
//   no base 60, and keeps what looks like a timestamp as its text when decoding into JSON.
// The `yaml` package's 'yaml-1.1' schema has all of the first three and the last two as well;
// reading drops those two. Writing quotes any new string that some YAML 1.1 reader would take
// for something else (`compat` below), so other tools read the output as kubectl does.
import { isScalar, parseAllDocuments, Schema, type Document, type DocumentOptions, type ParseOptions, type ScalarTag, type SchemaOptions } from 'yaml';

const INT = 'tag:yaml.org,2002:int';
const GO_PREFIXED = /^[-+]?0(?:[oO][0-7_]+|X[0-9a-fA-F_]+|B[01_]+)$/;

/** Integers with a prefix Go's strconv.ParseInt reads and the YAML 1.1 schema does not (0o17, 0X1F, 0B11). */
const goPrefixedInt: ScalarTag = {
  identify: (value) => Number.isInteger(value),
  default: true,
  tag: INT,
  format: 'GO_PREFIX',
  test: GO_PREFIXED,
  resolve(str) {
    const sign = str.startsWith('-') ? -1 : 1;
    const digits = str.replace(/^[-+]/, '').replace(/_/g, '');
    const radix = { o: 8, x: 16, b: 2 }[digits[1]!.toLowerCase() as 'o' | 'x' | 'b'];
    return sign * parseInt(digits.slice(2), radix);
  },
  // Untouched values keep their spelling; the only way to get this format is to have parsed it.
  stringify: (node) => (typeof node.source === 'string' && GO_PREFIXED.test(node.source) ? node.source : String(node.value)),
};

const yaml11Tags = new Schema({ schema: 'yaml-1.1', merge: true }).tags;
const notReadByKubectl = (t: (typeof yaml11Tags)[number]) => t.format === 'TIME' || t.tag === 'tag:yaml.org,2002:timestamp';
const readTags = [...yaml11Tags.filter((t) => !notReadByKubectl(t)), goPrefixedInt];

export type YamlOptions = ParseOptions & DocumentOptions & SchemaOptions;

/** How manifests are parsed: kubectl's reading, whatever `%YAML` directive a document carries. */
export const KUBECTL_YAML: YamlOptions = {
  version: '1.1',
  schema: 'yaml-1.1',
  merge: true,
  customTags: () => readTags,
  uniqueKeys: true,
};

/** How new and re-written nodes are printed: quoted wherever any YAML 1.1 reader might differ. */
export const WRITE_YAML: YamlOptions = {
  ...KUBECTL_YAML,
  compat: [...yaml11Tags.filter((t) => !t.collection), goPrefixedInt],
};

/** The documents of a stream, as kubectl reads them; throws on syntax errors, listing each. */
export function parseManifest(text: string): Document.Parsed[] {
  const docs = parseAllDocuments(text, KUBECTL_YAML);
  if (!Array.isArray(docs)) return [];
  const errors = docs.flatMap((d, i) => d.errors.map((e) => `document ${i + 1}: ${e.message.split('\n')[0]}`));
  if (errors.length > 0) throw new Error(`cannot parse the manifest:\n  ${errors.join('\n  ')}`);
  return docs;
}

/** A document's value as kubectl sees it (merge keys resolved, aliases followed). */
export function documentValue(doc: Document): unknown {
  return doc.toJS({ maxAliasCount: 100 });
}

/**
 * A key that is the string `<<` (quoted in the source, or new) would print as a merge key: the
 * `yaml` package takes the string for the merge tag. Marks it to print as `!!str "<<"`.
 */
export function keepStringKey(key: unknown): void {
  if (isScalar(key) && key.value === '<<') {
    key.tag = 'tag:yaml.org,2002:str';
    key.type = 'QUOTE_DOUBLE';
  }
}
