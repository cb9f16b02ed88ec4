/** BENCHMARKS.md section for the bundled screen on PostgreSQL (bench/screen-postgres.bench.ts). */
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { benchDir } from '../common.js';
import { readJson, f } from '../report-util.js';

export const order = 62;

interface ScreenPgResult {
  machine: Record<string, unknown>;
  load_average_start: number[];
  load_average_end: number[];
  results: { config: string; processes: number; wall_s: number; seed_s: number | null; counts: Record<string, { done: number; failed: number }>; load_average: number[] }[];
}

const LABEL: Record<string, string> = {
  sqlite: 'SQLite file, one process (2 threads per stage: a run from before the stages shared threads)',
  postgres: 'PostgreSQL, one process (2 threads per stage: a run from before the stages shared threads)',
  'postgres-2proc': 'PostgreSQL, two processes: `screen --workers 1` + `worker --stage descriptors --threads 1`',
};

export function section(): string[] {
  const file = join(benchDir, 'results', 'screen-postgres.json');
  const r = existsSync(file) ? readJson<ScreenPgResult>(file) : null;
  if (!r) return [];
  const m = r.machine;
  const load = (x: number[]) => x.map((v) => v.toFixed(1)).join(' / ');
  const out = ['## The bundled screen on PostgreSQL (`npm run bench -- screen-postgres`)', ''];
  out.push(
    `Measured on ${String(m['cpu'])} (${String(m['cores'])} cores), Node ${String(m['node'])}, ${String(m['date']).slice(0, 10)}; load average (1/5/15 min) ${load(r.load_average_start)} at the start, ${load(r.load_average_end)} at the end. ` +
      '`fracflow screen` on the default bundled set (fast IDPP mode, the screen\'s defaults) through the command line, each configuration in its own child processes; ' +
      'the PostgreSQL server runs on the same machine, started by the benchmark on loopback (fsync off, as in the tests), so its backends share the 2 cores with the workers. ' +
      'The two-process run seeds the store (`screen --seed-only`, included in its time), then runs both processes at once; its time ends with the screen process. ' +
      'Every run\'s done and failed counts per stage equal the SQLite run\'s (the benchmark fails otherwise).',
    '',
  );
  out.push('| configuration | wall s | of which seeding s | find_paths done | descriptors done | images done / failed |', '|---|---:|---:|---:|---:|---:|');
  for (const x of r.results) {
    const c = x.counts;
    out.push(`| ${LABEL[x.config] ?? x.config} | ${f(x.wall_s, 1)} | ${x.seed_s === null ? '–' : f(x.seed_s, 1)} | ${c['find_paths']?.done ?? '–'} | ${c['descriptors']?.done ?? '–'} | ${c['images'] ? `${c['images'].done} / ${c['images'].failed}` : '–'} |`);
  }
  const s = r.results.find((x) => x.config === 'sqlite');
  const p = r.results.find((x) => x.config === 'postgres');
  const p2 = r.results.find((x) => x.config === 'postgres-2proc');
  out.push('');
  if (s && p) out.push(`PostgreSQL / SQLite wall time: ${f(p.wall_s / s.wall_s, 2)} in one process${p2 ? `, ${f(p2.wall_s / s.wall_s, 2)} with the work in two processes` : ''}. On one 2-core machine a second process adds threads, not cores; the two-process run shows that workers of one store in several processes finish the same rows, not a speed-up.`, '');
  return out;
}
