/**
 * The profile plots as one SVG document (`fracflow plot pathway`): the moving ion's relative Ewald
 * site energy and its largest radii overlap with cations and anions against image index, two panels
 * side by side. A small renderer of our own (axes, "nice" ticks, polylines with markers, legend): the
 * output is plain SVG 1.1 text that journals and vector editors read, with no browser involved.
 */
import { esc } from './html.js';
import type { PathwayView } from './profile.js';

export interface Series {
  name: string;
  color: string;
  values: (number | null)[];
}

export interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
}

/** Round step of about `span / n` (1, 2 or 5 × 10^k). */
function niceStep(span: number, n: number): number {
  const raw = span / Math.max(1, n);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const f = raw / mag;
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

function fmt(v: number, step: number): string {
  const digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(digits);
}

/** One panel's SVG group at (x0, y0), `w` × `h` pixels. */
function panelSvg(p: Panel, x0: number, y0: number, w: number, h: number): string {
  const left = 64, right = 12, top = 28, bottom = 44;
  const pw = w - left - right, ph = h - top - bottom;
  const n = Math.max(...p.series.map((s) => s.values.length), 1);
  const vals = p.series.flatMap((s) => s.values.filter((v): v is number => v !== null && Number.isFinite(v)));
  let lo = vals.length ? Math.min(...vals) : 0;
  let hi = vals.length ? Math.max(...vals) : 1;
  if (hi - lo < 1e-12) {
    const pad = Math.abs(hi) > 1e-12 ? Math.abs(hi) * 0.1 : 1;
    lo -= pad;
    hi += pad;
  }
  const step = niceStep(hi - lo, 5);
  lo = Math.floor(lo / step) * step;
  hi = Math.ceil(hi / step) * step;
  const sx = (i: number) => x0 + left + (n === 1 ? pw / 2 : (i * pw) / (n - 1));
  const sy = (v: number) => y0 + top + ph - ((v - lo) / (hi - lo)) * ph;
  const out: string[] = [];
  out.push(`<text x="${x0 + left + pw / 2}" y="${y0 + 18}" text-anchor="middle" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  out.push(`<rect x="${x0 + left}" y="${y0 + top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  for (let v = lo, k = 0; v <= hi + step * 1e-6 && k < 50; v = lo + ++k * step) {
    const y = sy(v).toFixed(2);
    out.push(`<line x1="${x0 + left - 4}" y1="${y}" x2="${x0 + left + pw}" y2="${y}" stroke="#ddd"/>`);
    out.push(`<text x="${x0 + left - 7}" y="${y}" text-anchor="end" dominant-baseline="middle" font-size="11">${fmt(v, step)}</text>`);
  }
  for (let i = 0; i < n; i++) {
    const x = sx(i).toFixed(2);
    out.push(`<line x1="${x}" y1="${y0 + top + ph}" x2="${x}" y2="${y0 + top + ph + 4}" stroke="#333"/>`);
    out.push(`<text x="${x}" y="${y0 + top + ph + 16}" text-anchor="middle" font-size="11">${i}</text>`);
  }
  out.push(`<text x="${x0 + left + pw / 2}" y="${y0 + h - 8}" text-anchor="middle" font-size="12">image index</text>`);
  out.push(`<text transform="translate(${x0 + 14} ${y0 + top + ph / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(p.yLabel)}</text>`);
  p.series.forEach((s, k) => {
    // A null breaks the line: each run of values is its own polyline.
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) out.push(`<polyline fill="none" stroke="${esc(s.color)}" stroke-width="2" points="${run.join(' ')}"/>`);
      run = [];
    };
    s.values.forEach((v, i) => {
      if (v === null || !Number.isFinite(v)) return flush();
      const pt = `${sx(i).toFixed(2)},${sy(v).toFixed(2)}`;
      run.push(pt);
      out.push(`<circle cx="${sx(i).toFixed(2)}" cy="${sy(v).toFixed(2)}" r="3" fill="${esc(s.color)}"/>`);
    });
    flush();
    const ly = y0 + top + 14 + 16 * k;
    out.push(`<line x1="${x0 + left + 10}" y1="${ly}" x2="${x0 + left + 30}" y2="${ly}" stroke="${esc(s.color)}" stroke-width="2"/>`);
    out.push(`<text x="${x0 + left + 35}" y="${ly}" dominant-baseline="middle" font-size="11">${esc(s.name)}</text>`);
  });
  if (vals.length === 0) out.push(`<text x="${x0 + left + pw / 2}" y="${y0 + top + ph / 2}" text-anchor="middle" font-size="12" fill="#a00">no values</text>`);
  return `<g>${out.join('')}</g>`;
}

/** Panels side by side in one SVG document, with a caption line. */
export function panelsSvg(caption: string, panels: readonly Panel[], panelWidth = 420, height = 320): string {
  const width = panelWidth * panels.length;
  const body = panels.map((p, k) => panelSvg(p, k * panelWidth, 24, panelWidth, height - 24)).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="8" y="16" font-size="12">${esc(caption)}</text>
${body}
</svg>
`;
}

/** Colours of the profile series (also the page's). */
export const PROFILE_COLORS = { ewald: '#1f77b4', cations: '#d62728', anions: '#2ca02c' } as const;

/** The two profile panels of a pathway. */
export function profilePanels(v: PathwayView): Panel[] {
  return [
    { title: `Ewald site energy of ${v.ion}`, yLabel: '(E_k − E_0) / |E_0|', series: [{ name: 'relative change', color: PROFILE_COLORS.ewald, values: v.ewaldRelative ?? [] }] },
    {
      title: `Radii overlap of ${v.ion}`,
      yLabel: 'largest overlap (Å)',
      series: [
        { name: 'with cations', color: PROFILE_COLORS.cations, values: v.overlapCationsAng ?? [] },
        { name: 'with anions', color: PROFILE_COLORS.anions, values: v.overlapAnionsAng ?? [] },
      ],
    },
  ];
}

export function pathwayProfileSvg(v: PathwayView): string {
  const caption = `${v.formula} (${v.structureId}) hop ${v.hopIndex}, ${v.lengthAng.toFixed(3)} Å, IDPP ${v.idpp}${v.reason ? ` — ${v.reason}` : ''}`;
  return panelsSvg(caption, profilePanels(v));
}
