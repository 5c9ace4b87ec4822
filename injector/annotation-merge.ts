// What merging one mesh annotation gave, and the write-and-report step the Istio and Linkerd
// wirings share: a merged value is written; a kept or malformed one is left untouched and makes
// the mesh's result partial.
import type { StringMap } from './pod.ts';

export type AnnotationMerge = { value: string; note: string } | { malformed: string } | { kept: string };

export interface WiringResult {
  /** applied: everything written; partial: some parts kept the operator's value or were malformed. */
  result: 'applied' | 'partial';
  detail: string[];
}

/** Writes each merged value into `annotations` (a copy owned by the caller), in order. */
export function applyMerges(annotations: StringMap, merges: readonly (readonly [key: string, merge: AnnotationMerge])[]): WiringResult {
  const detail: string[] = [];
  let partial = false;
  for (const [key, merge] of merges) {
    if ('value' in merge) {
      annotations[key] = merge.value;
      detail.push(merge.note);
    } else {
      partial = true;
      detail.push('malformed' in merge ? `${merge.malformed}: left untouched` : merge.kept);
    }
  }
  return { result: partial ? 'partial' : 'applied', detail };
}
