/** BENCHMARKS.md section for the dashboard benchmark (bench/serve.bench.ts). */
import { join } from 'node:path';
import { benchDir } from '../common.js';
import { readJson, f, median } from '../report-util.js';

interface ServeResult {
  machine: Record<string, unknown>;
  load_average_start?: number[];
  load_average_end?: number[];
  server: { backend?: 'sqlite' | 'postgres'; pathways: number; build_ms: number; query: string; median_ms: number; p95_ms: number; max_ms: number; bytes: number }[];
  paint: { page: string; visit: string; fcp_ms: number | null; meaningful_ms: number }[];
}

export const order = 80;

export function section(): string[] {
  const r = readJson<ServeResult>(join(benchDir, 'results', 'serve.json'));
  if (!r) return [];
  const m = r.machine;
  const load = (x?: number[]) => (x ? x.map((v) => v.toFixed(1)).join(' / ') : '–');
  const out = ['## Dashboard (`fracflow serve`)', ''];
  out.push(
    `Measured with \`npm run bench -- serve\` on ${String(m['cpu'])} (${String(m['cores'])} cores), Node ${String(m['node'])}, ${String(m['date']).slice(0, 10)}${m['quick'] ? ' (quick mode)' : ''}; ` +
      `load average ${load(r.load_average_start)} at the start, ${load(r.load_average_end)} at the end. Server response times are wall-clock times of sequential HTTP requests on loopback ` +
      '(body read included) to a read-only dashboard over stores filled through the store interface (test/helpers/pathways-store.ts: 5 pathways per structure, each row carrying a 6-site cell ' +
      'and a 1.8 kB hop list, finished an hour before), with the indexes `serve` makes on a writable store; on PostgreSQL (a server the benchmark starts on loopback, ' +
      '`fsync` off) `serve` also vacuums the tables once, which lets the page counts scan an index alone.',
    '',
  );
  const backend = (b?: string) => (b === 'postgres' ? 'PostgreSQL' : 'SQLite');
  out.push('| store | pathways | request | median ms | p95 ms | max ms | bytes |', '|---|---:|---|---:|---:|---:|---:|');
  for (const s of r.server) out.push(`| ${backend(s.backend)} | ${s.pathways} | ${s.query} | ${f(s.median_ms, 1)} | ${f(s.p95_ms, 1)} | ${f(s.max_ms, 1)} | ${s.bytes} |`);
  out.push('');
  if (r.paint.length) {
    out.push('Time to first meaningful paint in headless Chromium (SwiftShader WebGL, no GPU) on the small screened store (four fixture structures), from navigation start: ' +
      'first contentful paint, and the page\'s data drawn (overview: the stage table and the throughput chart; pathway page: the 3D view and both profile plots). ' +
      'A fresh browser context per visit; the first visit of the pathway page includes computing its images and profiles on the server, later visits are served from its cache.', '');
    out.push('| page | visit | visits | first contentful paint ms (median) | meaningful paint ms (median) |', '|---|---|---:|---:|---:|');
    for (const page of [...new Set(r.paint.map((p) => p.page))]) {
      for (const visit of ['first', 'repeat']) {
        const xs = r.paint.filter((p) => p.page === page && p.visit === visit);
        if (!xs.length) continue;
        // A visit whose paint entry was not recorded yet when read has no first-contentful-paint figure.
        const fcp = xs.map((x) => x.fcp_ms).filter((x): x is number => typeof x === 'number');
        out.push(`| ${page} | ${visit} | ${xs.length} | ${fcp.length ? f(median(fcp), 0) : '–'} | ${f(median(xs.map((x) => x.meaningful_ms)), 0)} |`);
      }
    }
    out.push('');
  }
  out.push('### Against the target', '');
  for (const b of [...new Set(r.server.map((s) => backend(s.backend)))]) {
    const first50k = r.server.find((s) => backend(s.backend) === b && s.pathways === 50000 && s.query.startsWith('table first page'));
    out.push(`- ${b}: the pathways table's first page of a 50,000-pathway store in < 200 ms: ${first50k ? `${f(first50k.median_ms, 1)} ms median, ${f(first50k.p95_ms, 1)} ms p95` : 'not measured (quick mode)'}.`);
  }
  out.push('');
  return out;
}
