/**
 * Line plots as standalone SVG text (no dependency): axes with round-number ticks, one polyline per
 * series, a legend. Enough for the study's figures; not a plotting library.
 */

export interface Series {
  label: string;
  points: readonly (readonly [number, number])[];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#17becf', '#bcbd22'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Round tick values covering [lo, hi]: steps of 1, 2 or 5 × 10^k, about `n` of them. */
export function ticks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

function label(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toPrecision(3)}M`;
  if (a >= 1e4) return `${(v / 1e3).toPrecision(3)}k`;
  return String(Number(v.toPrecision(4)));
}

export function linePlot(o: { title: string; xLabel: string; yLabel: string; series: readonly Series[]; yMax?: number; width?: number; height?: number }): string {
  const W = o.width ?? 760;
  const H = o.height ?? 420;
  const m = { l: 70, r: 190, t: 36, b: 52 };
  const pts = o.series.flatMap((s) => s.points);
  const xMax = Math.max(1e-9, ...pts.map((p) => p[0]));
  const yMax = o.yMax ?? Math.max(1e-9, ...pts.map((p) => p[1]));
  const X = (x: number) => m.l + (x / xMax) * (W - m.l - m.r);
  const Y = (y: number) => H - m.b - (y / yMax) * (H - m.t - m.b);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${m.l}" y="20" font-size="14">${esc(o.title)}</text>`);
  for (const t of ticks(0, xMax)) {
    out.push(`<line x1="${X(t).toFixed(1)}" y1="${H - m.b}" x2="${X(t).toFixed(1)}" y2="${m.t}" stroke="#eee"/>`);
    out.push(`<text x="${X(t).toFixed(1)}" y="${H - m.b + 16}" text-anchor="middle">${label(t)}</text>`);
  }
  for (const t of ticks(0, yMax)) {
    out.push(`<line x1="${m.l}" y1="${Y(t).toFixed(1)}" x2="${W - m.r}" y2="${Y(t).toFixed(1)}" stroke="#eee"/>`);
    out.push(`<text x="${m.l - 6}" y="${(Y(t) + 4).toFixed(1)}" text-anchor="end">${label(t)}</text>`);
  }
  out.push(`<line x1="${m.l}" y1="${H - m.b}" x2="${W - m.r}" y2="${H - m.b}" stroke="black"/><line x1="${m.l}" y1="${H - m.b}" x2="${m.l}" y2="${m.t}" stroke="black"/>`);
  out.push(`<text x="${(m.l + W - m.r) / 2}" y="${H - 12}" text-anchor="middle">${esc(o.xLabel)}</text>`);
  out.push(`<text transform="translate(16 ${(m.t + H - m.b) / 2}) rotate(-90)" text-anchor="middle">${esc(o.yLabel)}</text>`);
  o.series.forEach((s, i) => {
    const c = COLOURS[i % COLOURS.length];
    if (s.points.length) out.push(`<polyline fill="none" stroke="${c}" stroke-width="1.5" points="${s.points.map((p) => `${X(p[0]).toFixed(1)},${Y(Math.min(p[1], yMax)).toFixed(1)}`).join(' ')}"/>`);
    out.push(`<line x1="${W - m.r + 12}" y1="${m.t + 10 + 18 * i}" x2="${W - m.r + 32}" y2="${m.t + 10 + 18 * i}" stroke="${c}" stroke-width="2"/>`);
    out.push(`<text x="${W - m.r + 38}" y="${m.t + 14 + 18 * i}">${esc(s.label)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
