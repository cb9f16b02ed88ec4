/**
 * HTML of the dashboard's pages: every value from the store or the request goes through {@link esc}
 * (text and attribute values alike); the pages' data otherwise reaches the browser as JSON and the
 * page script writes it with textContent.
 */

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Text safe inside an element or a quoted attribute value. */
export function esc(v: unknown): string {
  return String(v ?? '').replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

/** JSON safe inside a `<script type="application/json">` element (no `</script>`, no HTML comment openers). */
export function jsonScript(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/>/g, '\\u003e').replace(/&/g, '\\u0026').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

export const NAV: readonly [string, string][] = [
  ['/', 'Overview'],
  ['/errors', 'Errors'],
  ['/queues', 'Queues'],
  ['/pathways', 'Pathways'],
];

export interface PageOptions {
  title: string;
  /** Which page script entry runs (`data-page` of the body). */
  page: string;
  /** Server-rendered body (already escaped). */
  body: string;
  /** Data handed to the page script. */
  data?: unknown;
  /** Extra stylesheet and script URLs (the bundled viewer and chart library). */
  styles?: string[];
  scripts?: string[];
  store: string;
  controls: boolean;
}

export function page(o: PageOptions): string {
  const nav = NAV.map(([href, label]) => `<a href="${esc(href)}">${esc(label)}</a>`).join(' ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(o.title)} · fracflow</title>
<link rel="stylesheet" href="/assets/style.css">${(o.styles ?? []).map((s) => `\n<link rel="stylesheet" href="${esc(s)}">`).join('')}
</head>
<body data-page="${esc(o.page)}" data-controls="${o.controls ? 'on' : 'off'}">
<header><strong>fracflow</strong> <nav>${nav}</nav> <span class="store" title="store">${esc(o.store)}</span> <span id="live" class="live">●</span></header>
<main>
<h1>${esc(o.title)}</h1>
${o.body}
</main>
<script type="application/json" id="page-data">${jsonScript(o.data ?? null)}</script>${(o.scripts ?? []).map((s) => `\n<script src="${esc(s)}"></script>`).join('')}
<script src="/assets/app.js"></script>
</body></html>`;
}
