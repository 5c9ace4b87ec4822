// Comma-separated port lists in mesh annotations (`traffic.sidecar.istio.io/excludeInboundPorts`,
// `config.linkerd.io/skip-inbound-ports`): merged, never rewritten. Existing entries keep their
// order and spelling (Linkerd also accepts ranges such as `4190-4191`); ports already covered are
// not added twice. Anything unparsable makes the whole value malformed: left untouched.
import type { AnnotationMerge } from './annotation-merge.ts';

export type PortListMerge = { value: string; added: number[] } | { malformed: string };

const ENTRY = /^(\d{1,5})(?:-(\d{1,5}))?$/;

export function mergePortList(existing: string | undefined, ports: readonly number[], allowRanges: boolean): PortListMerge {
  const entries = (existing ?? '')
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  const ranges: [number, number][] = [];
  for (const entry of entries) {
    const m = ENTRY.exec(entry);
    if (m === null || (m[2] !== undefined && !allowRanges)) return { malformed: `"${entry}" is not a port${allowRanges ? ' or port range' : ''}` };
    const lo = Number(m[1]);
    const hi = m[2] === undefined ? lo : Number(m[2]);
    if (lo > 65535 || hi > 65535 || hi < lo) return { malformed: `"${entry}" is out of range` };
    ranges.push([lo, hi]);
  }
  const added: number[] = [];
  for (const p of ports) {
    if (ranges.some(([lo, hi]) => p >= lo && p <= hi) || added.includes(p)) continue;
    added.push(p);
  }
  return { value: [...entries, ...added.map(String)].join(','), added };
}

/** The merge of annotation `key` as the mesh wirings report it (`label`: how the note names it). */
export function portListAnnotation(key: string, label: string, existing: string | undefined, ports: readonly number[], allowRanges: boolean): AnnotationMerge {
  const m = mergePortList(existing, ports, allowRanges);
  return 'value' in m ? { value: m.value, note: `${label} ${m.value}` } : { malformed: `${key} malformed (${m.malformed})` };
}
