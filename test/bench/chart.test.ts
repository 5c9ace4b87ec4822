// The bench's SVG chart (bench/chart.ts): CPU-seconds per million spans and RSS against the
// offered rate, one line per scenario. Checked by structure: well-formed XML, one polyline per
// scenario and series with one point per measured rate, the legend and the axis labels.
import assert from 'node:assert/strict';
import { renderChart, type ChartSeries } from '../../bench/chart.ts';

interface Node {
  name: string;
  attrs: Record<string, string>;
  children: Node[];
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const decode = (s: string) => s.replace(/&(\w+);/g, (_m, e: string) => ENTITIES[e] ?? assert.fail(`unknown entity &${e};`));

/** A strict little XML reader: tags must nest and close, attributes be quoted; throws otherwise. */
function parseXml(xml: string): Node {
  const root: Node = { name: '#root', attrs: {}, children: [], text: '' };
  const stack: Node[] = [root];
  const re = /<\?[^>]*\?>|<!--[\s\S]*?-->|<\/([\w:-]+)\s*>|<([\w:-]+)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|([^<]+)|(<)/g;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(xml)) !== null) {
    assert.equal(m.index, last, `unparsed text at ${last}: ${xml.slice(last, last + 40)}`);
    last = re.lastIndex;
    const top = stack[stack.length - 1]!;
    if (m[6] !== undefined) assert.fail(`stray '<' at ${m.index}: ${xml.slice(m.index, m.index + 40)}`);
    if (m[5] !== undefined) {
      assert.doesNotMatch(m[5], /&(?!(?:amp|lt|gt|quot|apos);)/, `unescaped & in text: ${m[5]}`);
      top.text += decode(m[5]);
    } else if (m[1] !== undefined) {
      assert.equal(m[1], top.name, `</${m[1]}> closes <${top.name}>`);
      stack.pop();
    } else if (m[2] !== undefined) {
      const attrs: Record<string, string> = {};
      for (const a of m[3]!.matchAll(/([\w:-]+)="([^"]*)"/g)) {
        assert.ok(!(a[1]! in attrs), `duplicate attribute ${a[1]!}`);
        assert.doesNotMatch(a[2]!, /&(?!(?:amp|lt|gt|quot|apos);)/, `unescaped & in ${a[1]!}`);
        attrs[a[1]!] = decode(a[2]!);
      }
      const node: Node = { name: m[2], attrs, children: [], text: '' };
      top.children.push(node);
      if (m[4] !== '/') stack.push(node);
    }
  }
  assert.equal(last, xml.length, 'whole document read');
  assert.equal(stack.length, 1, `unclosed <${stack[stack.length - 1]!.name}>`);
  return root;
}

function all(node: Node, pred: (n: Node) => boolean, out: Node[] = []): Node[] {
  if (pred(node)) out.push(node);
  for (const c of node.children) all(c, pred, out);
  return out;
}
const textOf = (n: Node): string => n.text + n.children.map(textOf).join('');

const series: ChartSeries[] = [
  { name: 'raw relay grpc testbed', points: [{ rate: 100, cpuPerMillion: 2.1, rssTotalMiB: 60, rssPrivateMiB: 20 }, { rate: 1000, cpuPerMillion: 1.5, rssTotalMiB: 61, rssPrivateMiB: 21 }, { rate: 10_000, cpuPerMillion: 1.2, rssTotalMiB: 66, rssPrivateMiB: 25 }] },
  { name: 'tracebridge grpc testbed batch', points: [{ rate: 100, cpuPerMillion: 9, rssTotalMiB: 80, rssPrivateMiB: 30 }, { rate: 1000, cpuPerMillion: 6, rssTotalMiB: 84, rssPrivateMiB: 33 }, { rate: 10_000, cpuPerMillion: 5, rssTotalMiB: 95, rssPrivateMiB: 44 }] },
  { name: 'tracebridge zipkin realistic <batch> & co', points: [{ rate: 100, cpuPerMillion: 40, rssTotalMiB: 90, rssPrivateMiB: 38 }, { rate: 1000, cpuPerMillion: 37, rssTotalMiB: 150, rssPrivateMiB: 98 }, { rate: 10_000, cpuPerMillion: 35.7, rssTotalMiB: 280, rssPrivateMiB: 220 }] },
];

describe('bench chart (bench/chart.ts)', () => {
  it('is a well-formed SVG with two panels, one line per scenario with a point per rate, a legend and labelled axes', () => {
    const svg = renderChart(series);
    const doc = parseXml(svg);
    const root = doc.children.find((n) => n.name === 'svg');
    assert.ok(root, 'an <svg> root element');
    assert.equal(root.attrs.xmlns, 'http://www.w3.org/2000/svg');
    assert.match(root.attrs.viewBox ?? '', /^0 0 \d+ \d+$/);

    const panels = all(root, (n) => n.name === 'g' && n.attrs['data-panel'] !== undefined);
    assert.deepEqual(panels.map((p) => p.attrs['data-panel']), ['cpu', 'rss']);
    const lines = (panel: Node) => all(panel, (n) => n.name === 'polyline');
    const points = (line: Node) => (line.attrs.points ?? '').trim().split(/\s+/).map((p) => p.split(',').map(Number));

    const cpu = lines(panels[0]!);
    assert.deepEqual(cpu.map((l) => l.attrs['data-series']), series.map((s) => s.name));
    // RSS: total and private, per scenario.
    const rss = lines(panels[1]!);
    assert.deepEqual(rss.map((l) => `${l.attrs['data-series']!} ${l.attrs['data-kind']!}`), series.flatMap((s) => [`${s.name} total`, `${s.name} private`]));
    for (const l of [...cpu, ...rss]) {
      const pts = points(l);
      assert.equal(pts.length, 3, `${l.attrs['data-series']!}: one point per rate`);
      for (const [x, y] of pts) assert.ok(Number.isFinite(x) && Number.isFinite(y), `numeric point in ${l.attrs.points!}`);
      // Rates rise left to right; a log axis puts 100 → 1k and 1k → 10k the same distance apart.
      assert.ok(pts[0]![0]! < pts[1]![0]! && pts[1]![0]! < pts[2]![0]!);
      assert.ok(Math.abs(pts[1]![0]! - pts[0]![0]! - (pts[2]![0]! - pts[1]![0]!)) < 0.5, 'log-scale rate axis');
    }
    // Higher CPU is drawn higher (smaller y): Zipkin's line is above the relay's at every rate.
    const [relay, , zipkin] = cpu.map(points);
    for (let i = 0; i < 3; i++) assert.ok(zipkin![i]![1]! < relay![i]![1]!);

    const texts = all(root, (n) => n.name === 'text').map(textOf);
    for (const { name: s } of series) assert.ok(texts.includes(s), `legend entry ${s}`);
    assert.ok(texts.some((t) => /offered rate/i.test(t)), 'rate axis label');
    assert.ok(texts.some((t) => /CPU-s per million spans/i.test(t)), 'CPU axis label');
    assert.ok(texts.some((t) => /RSS.*MiB/i.test(t)), 'RSS axis label');
    for (const tick of ['100', '1k', '10k']) assert.ok(texts.includes(tick), `rate tick ${tick}`);
  });

  it('skips a rate a scenario did not measure, and draws an empty chart with axes when there is nothing to plot', () => {
    const partial = renderChart([{ name: 'only two', points: [{ rate: 100, cpuPerMillion: 3, rssTotalMiB: 70, rssPrivateMiB: 20 }, { rate: 10_000, cpuPerMillion: Number.NaN, rssTotalMiB: 90, rssPrivateMiB: 30 }, { rate: 1000, cpuPerMillion: 2, rssTotalMiB: 75, rssPrivateMiB: 22 }] }]);
    const root = parseXml(partial);
    const cpu = all(root, (n) => n.name === 'polyline' && n.attrs['data-kind'] === 'cpu');
    assert.equal(cpu.length, 1);
    assert.equal(cpu[0]!.attrs.points!.trim().split(/\s+/).length, 2, 'the NaN point is left out');
    assert.doesNotMatch(partial, /NaN|Infinity|undefined/);

    const empty = parseXml(renderChart([]));
    assert.equal(all(empty, (n) => n.name === 'polyline').length, 0);
    assert.ok(all(empty, (n) => n.name === 'text').map(textOf).some((t) => /offered rate/i.test(t)));
  });
});
