// The bench's chart, hand-written SVG (no plotting dependency): two panels against the offered
// rate on a log axis — CPU-seconds per million spans (log axis too: at 100 spans/s the idle cost
// dominates and would flatten the 10k figures), and RSS (linear; total solid, private dashed) —
// one colour per scenario, a legend under both. Values that are not finite (or not positive on a
// log axis) are left out.

export interface ChartPoint {
  /** Offered spans/s. */
  rate: number;
  cpuPerMillion: number;
  rssTotalMiB: number;
  rssPrivateMiB: number;
}

export interface ChartSeries {
  name: string;
  points: ChartPoint[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const WIDTH = 1000;
const PANEL_W = WIDTH / 2;
const PLOT = { left: 70, right: 20, top: 40, bottom: 60, height: 300 };
const LEGEND_ROW = 18;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (n: number) => String(Math.round(n * 10) / 10);

function rateLabel(rate: number): string {
  if (rate >= 1e6 && rate % 1e6 === 0) return `${rate / 1e6}M`;
  if (rate >= 1000 && rate % 1000 === 0) return `${rate / 1000}k`;
  return String(rate);
}

/** A round upper bound and its tick step (1, 2 or 5 × 10^n), at most ~6 ticks. */
function niceScale(max: number): { top: number; step: number } {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const rough = max / 5;
  const pow = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= rough)!;
  return { top: Math.ceil(max / step) * step, step };
}

interface Line {
  series: string;
  kind: 'cpu' | 'total' | 'private';
  color: string;
  dashed: boolean;
  points: { rate: number; value: number }[];
}

/** Log-axis bounds: whole decades around the values. */
function decades(values: number[]): { lo: number; hi: number } {
  if (values.length === 0) return { lo: 0, hi: 1 };
  const lo = Math.floor(Math.log10(Math.min(...values)));
  const hi = Math.ceil(Math.log10(Math.max(...values)));
  return { lo, hi: hi > lo ? hi : lo + 1 };
}

function panel(id: string, x0: number, title: string, yLabel: string, yScale: 'linear' | 'log', rates: number[], lines: Line[]): string {
  const left = x0 + PLOT.left;
  const right = x0 + PANEL_W - PLOT.right;
  const top = PLOT.top;
  const bottom = PLOT.top + PLOT.height;
  const logs = rates.map(Math.log10);
  const lo = Math.min(...logs) - 0.15;
  const hi = Math.max(...logs) + 0.15;
  const x = (rate: number) => left + ((Math.log10(rate) - lo) / (hi - lo)) * (right - left);
  const values = lines.flatMap((l) => l.points.map((p) => p.value));
  const out: string[] = [`<g data-panel="${id}">`];
  out.push(`<text x="${fmt((left + right) / 2)}" y="${top - 16}" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`);
  out.push(`<rect x="${left}" y="${top}" width="${fmt(right - left)}" height="${PLOT.height}" fill="none" stroke="#999"/>`);
  const yTick = (v: number, label: string | undefined) => {
    const yy = fmt(y(v));
    out.push(`<line x1="${left}" y1="${yy}" x2="${fmt(right)}" y2="${yy}" stroke="${label === undefined ? '#f4f4f4' : '#e4e4e4'}"/>`);
    if (label !== undefined) out.push(`<text x="${left - 6}" y="${yy}" text-anchor="end" dominant-baseline="middle" font-size="11">${label}</text>`);
  };
  let y: (v: number) => number;
  if (yScale === 'log') {
    const { lo: dLo, hi: dHi } = decades(values);
    y = (v: number) => bottom - ((Math.log10(v) - dLo) / (dHi - dLo)) * (bottom - top);
    for (let d = dLo; d <= dHi; d++) {
      yTick(10 ** d, fmt(10 ** d));
      if (d < dHi) for (const m of [2, 5]) yTick(m * 10 ** d, dHi - dLo <= 3 ? fmt(m * 10 ** d) : undefined);
    }
  } else {
    const { top: yTop, step } = niceScale(Math.max(0, ...values));
    y = (v: number) => bottom - (v / yTop) * (bottom - top);
    for (let v = 0; v <= yTop + step / 2; v += step) yTick(v, fmt(v));
  }
  for (const rate of rates) {
    const xx = fmt(x(rate));
    out.push(`<line x1="${xx}" y1="${top}" x2="${xx}" y2="${bottom}" stroke="#eee"/>`);
    out.push(`<text x="${xx}" y="${bottom + 16}" text-anchor="middle" font-size="11">${rateLabel(rate)}</text>`);
  }
  out.push(`<text x="${fmt((left + right) / 2)}" y="${bottom + 38}" text-anchor="middle" font-size="12">offered rate, spans/s (log scale)</text>`);
  const midY = fmt((top + bottom) / 2);
  out.push(`<text x="${x0 + 18}" y="${midY}" text-anchor="middle" font-size="12" transform="rotate(-90 ${x0 + 18} ${midY})">${esc(yLabel)}</text>`);
  for (const l of lines) {
    const pts = l.points.map((p) => `${fmt(x(p.rate))},${fmt(y(p.value))}`).join(' ');
    out.push(
      `<polyline data-series="${esc(l.series)}" data-kind="${l.kind}" points="${pts}" fill="none" stroke="${l.color}" stroke-width="2"${l.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
    for (const p of l.points) out.push(`<circle cx="${fmt(x(p.rate))}" cy="${fmt(y(p.value))}" r="2.5" fill="${l.color}"/>`);
  }
  out.push('</g>');
  return out.join('\n');
}

export function renderChart(series: ChartSeries[]): string {
  const color = (i: number) => PALETTE[i % PALETTE.length]!;
  const measured = (s: ChartSeries, pick: (p: ChartPoint) => number, log = false) =>
    s.points
      .filter((p) => p.rate > 0 && Number.isFinite(p.rate) && Number.isFinite(pick(p)) && (!log || pick(p) > 0))
      .map((p) => ({ rate: p.rate, value: pick(p) }))
      .sort((a, b) => a.rate - b.rate);
  const rateSet = new Set(series.flatMap((s) => s.points.map((p) => p.rate)).filter((r) => r > 0 && Number.isFinite(r)));
  const rates = rateSet.size > 0 ? [...rateSet].sort((a, b) => a - b) : [100, 1000, 10_000];
  const cpuLines: Line[] = series.map((s, i) => ({ series: s.name, kind: 'cpu', color: color(i), dashed: false, points: measured(s, (p) => p.cpuPerMillion, true) }));
  const rssLines: Line[] = series.flatMap((s, i): Line[] => [
    { series: s.name, kind: 'total', color: color(i), dashed: false, points: measured(s, (p) => p.rssTotalMiB) },
    { series: s.name, kind: 'private', color: color(i), dashed: true, points: measured(s, (p) => p.rssPrivateMiB) },
  ]);
  const legendTop = PLOT.top + PLOT.height + PLOT.bottom + 10;
  const perRow = 2;
  const perColumn = Math.ceil(series.length / perRow);
  const rows = perColumn + 1;
  const height = legendTop + rows * LEGEND_ROW + 10;
  const legend: string[] = ['<g data-legend="">'];
  series.forEach((s, i) => {
    const lx = 40 + Math.floor(i / perColumn) * (WIDTH / perRow);
    const ly = legendTop + (i % perColumn) * LEGEND_ROW;
    legend.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${color(i)}" stroke-width="3"/>`);
    legend.push(`<text x="${lx + 30}" y="${ly}" dominant-baseline="middle" font-size="12">${esc(s.name)}</text>`);
  });
  const noteY = legendTop + perColumn * LEGEND_ROW;
  legend.push(`<text x="40" y="${noteY}" dominant-baseline="middle" font-size="11" fill="#555">RSS: solid = total, dashed = private (anonymous: what each pod adds on a node that runs the image)</text>`);
  legend.push('</g>');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#fff"/>`,
    panel('cpu', 0, 'CPU per million spans', 'CPU-s per million spans (log scale)', 'log', rates, cpuLines),
    panel('rss', PANEL_W, 'Resident memory', 'RSS, MiB', 'linear', rates, rssLines),
    ...legend,
    '</svg>',
    '',
  ].join('\n');
}
