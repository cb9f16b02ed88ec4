/**
 * The dashboard (`fracflow serve`): time to first meaningful paint of the overview and the pathway
 * page in headless Chromium on the small screened store (four fixture structures), and the server's
 * response times for the status and the pathways table's first page (and a few other pages) at 5,000
 * and 50,000 pathways (stores filled through the store interface, test/helpers/pathways-store.ts,
 * indexes made by prepareDashboard as `serve` does), on SQLite and, where the PostgreSQL binaries are
 * installed, on a PostgreSQL server started for the run (test/support/postgres.ts). Target: the
 * table's first page of a 50,000-pathway store in < 200 ms.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { quick, writeResults } from './common.js';
import { median } from './report-util.js';
import { screenedStore } from '../test/helpers/dashboard.js';
import { buildPathwaysStore } from '../test/helpers/pathways-store.js';
import { browserUnavailable, launchBrowser } from '../test/helpers/browser.js';
import { openDashboardStore } from '../src/store/index.js';
import { postgresBin, startPostgres, type PgServer } from '../test/support/postgres.js';
import { startDashboard } from '../src/server/server.js';

const loadStart = loadavg();

/** Response times (ms) of `reps` sequential GETs after one warm-up. */
async function times(url: string, reps: number): Promise<{ median_ms: number; p95_ms: number; max_ms: number; bytes: number }> {
  let bytes = (await (await fetch(url)).arrayBuffer()).byteLength;
  const t: number[] = [];
  for (let k = 0; k < reps; k++) {
    const t0 = performance.now();
    const r = await fetch(url);
    bytes = (await r.arrayBuffer()).byteLength;
    if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status}`);
    t.push(performance.now() - t0);
  }
  t.sort((a, b) => a - b);
  return { median_ms: median(t), p95_ms: t[Math.min(t.length - 1, Math.floor(0.95 * t.length))]!, max_ms: t[t.length - 1]!, bytes };
}

const QUERIES: [string, string][] = [
  ['status', '/api/status'],
  ['table first page (ewald_energy)', '/api/pathways?limit=50'],
  ['table last page', '/api/pathways?limit=50&offset=LAST'],
  ['table sorted by length, descending', '/api/pathways?limit=50&sort=length&desc=1'],
  ['table sorted by images state', '/api/pathways?limit=50&sort=images_state'],
  ['table, dimensionality ≥ 3', '/api/pathways?limit=50&minDim=3'],
  ['table, search "mp-1012"', '/api/pathways?limit=50&search=mp-1012'],
  ['overview data', '/api/overview'],
];

const server: { backend: 'sqlite' | 'postgres'; pathways: number; build_ms: number; query: string; median_ms: number; p95_ms: number; max_ms: number; bytes: number }[] = [];
const pg: PgServer | null = postgresBin() ? await startPostgres() : null;
if (!pg) console.log('PostgreSQL rows skipped: no binaries under /usr/lib/postgresql/*/bin');
try {
  for (const backend of pg ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const)) {
    for (const n of quick ? [5000] : [5000, 50000]) {
      const dir = mkdtempSync(join(tmpdir(), 'fracflow-bench-serve-'));
      try {
        const db = backend === 'sqlite' ? join(dir, 'store.db') : await pg!.createDatabase(`serve_${n}`);
        const built = await buildPathwaysStore(db, n);
        const writer = await openDashboardStore(db);
        await writer.prepareDashboard();
        await writer.close();
        const store = await openDashboardStore(db, { readonly: true });
        const d = await startDashboard({ store, port: 0 });
        try {
          for (const [label, path] of QUERIES) {
            const r = await times(d.url + path.replace('LAST', String(n - 50)), quick ? 5 : 30);
            server.push({ backend, pathways: n, build_ms: built.ms, query: label, ...r });
            console.log(`${backend}, ${n} pathways, ${label}: median ${r.median_ms.toFixed(1)} ms, p95 ${r.p95_ms.toFixed(1)} ms`);
          }
        } finally {
          await d.close();
          await store.close();
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }
} finally {
  pg?.stop();
}

const paint: { page: string; visit: string; fcp_ms: number | null; meaningful_ms: number }[] = [];
const why = (() => {
  try {
    return browserUnavailable();
  } catch (e) {
    return (e as Error).message;
  }
})();
if (why) console.log(`paint timings skipped: ${why}`);
else {
  const small = await screenedStore();
  const store = await openDashboardStore(small.db, { readonly: true });
  const d = await startDashboard({ store, port: 0 });
  const browser = await launchBrowser();
  try {
    const key = ((await (await fetch(`${d.url}/api/pathways?search=CaF2_fluorite&sort=hop_index&limit=1`)).json()) as { rows: { key: string }[] }).rows[0]!.key;
    const pages: [string, string, string[]][] = [
      ['overview', '/', ['#stages tbody tr', '#throughput canvas']],
      ['pathway', `/pathway?key=${encodeURIComponent(key)}`, ['#viewer[data-ready="1"]', '#plot-ewald[data-ready="1"]', '#plot-overlap[data-ready="1"]']],
    ];
    for (const [name, path, ready] of pages) {
      for (let k = 0; k < (quick ? 2 : 6); k++) {
        // A fresh context each time: nothing cached in the browser; the server keeps its cache of computed profiles after the first visit.
        const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
        const page = await ctx.newPage();
        await page.goto(d.url + path);
        for (const sel of ready) await page.waitForSelector(sel, { timeout: 60000 });
        // Meaningful: the page's data drawn (rows of the stage table; the 3D view and both plots), from navigation start.
        const t = (await page.evaluate(`({ now: performance.now(), fcp: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime ?? null })`)) as { now: number; fcp: number | null };
        paint.push({ page: name, visit: k === 0 ? 'first' : 'repeat', fcp_ms: t.fcp, meaningful_ms: t.now });
        console.log(`${name} visit ${k}: first contentful paint ${t.fcp?.toFixed(0)} ms, meaningful ${t.now.toFixed(0)} ms`);
        await ctx.close();
      }
    }
  } finally {
    await browser.close();
    await d.close();
    await store.close();
    rmSync(small.dir, { recursive: true, force: true });
  }
}

writeResults('serve', { load_average_start: loadStart, load_average_end: loadavg(), server, paint });
