/** BENCHMARKS.md section for the engine benchmark (bench/engine.bench.ts). */
import { join } from 'node:path';
import { benchDir } from '../common.js';
import { readJson, f } from '../report-util.js';

interface EngineResult {
  machine: Record<string, unknown>;
  load_average_start?: number[];
  load_average_end?: number[];
  throughput: { store: string; workers: number; rows: number; batch: number; rows_per_s: number; rows_per_s_with_startup: number; startup_ms: number }[];
  overhead: { workers: number; batches: number; work_ms_per_batch: number; wall_ms: number; work_ms: number; overhead_share: number; pool_floor_share?: number; main_cpu_ms_per_batch?: number | null }[];
  modes: { mode: string; entities: number; stage_rows: number; tasks: number; wall_ms: number; startup_ms: number; entities_per_s: number }[];
}

function engineSection(r: EngineResult): string[] {
  const m = r.machine;
  const load = (x?: number[]) => (x ? x.map((v) => v.toFixed(1)).join(' / ') : '–');
  const out: string[] = ['## Engine: claims, worker pools, writes (`Engine.run`)', ''];
  out.push(
    `Measured with \`npm run bench -- engine\` on ${String(m['cpu'])} (${String(m['cores'])} cores), Node ${String(m['node'])}, ${String(m['date']).slice(0, 10)}` +
      `${m['quick'] ? ' (quick mode: fewer rows)' : ''}; load average (1/5/15 min) ${load(r.load_average_start)} at the start, ${load(r.load_average_end)} at the end ` +
      '(other processes share the 2 cores). Toy stages from `test/engine/fixtures/toy-stages.ts`. Times run from the pools being ready to the last result written; ' +
      'pool start-up (threads up, stage module loaded through tsx) is listed apart.',
    '',
  );
  out.push('### Throughput of a trivial stage (claim → Arrow batch → worker thread → Arrow batch → write), batches of 1000 rows', '');
  out.push('| store | workers | rows | rows/s | rows/s incl. start-up | start-up ms |', '|---|---:|---:|---:|---:|---:|');
  for (const t of r.throughput) out.push(`| ${t.store === 'file' ? 'SQLite file (WAL)' : ':memory:'} | ${t.workers} | ${t.rows} | ${f(t.rows_per_s, 0)} | ${f(t.rows_per_s_with_startup, 0)} | ${f(t.startup_ms, 0)} |`);
  out.push('');
  out.push('### Scheduler overhead on a stage with ~5 ms of work per batch (64 rows)', '');
  out.push('Overhead = 1 − Σ(time inside the work function) / (workers × wall time). "Pool alone" pushes the same pre-built batches through the same piscina pool without store or scheduler: the floor set by threads, messages and Arrow in the thread. ' +
    '"Main thread CPU" is the main thread\'s CPU time per batch over the run (Linux thread times, 10 ms ticks; includes pool start-up and shutdown): claims, writes, dispatch — on 2 cores, time taken from a worker. Unlike the overhead share it barely depends on how loaded the machine is.', '');
  out.push('| workers | batches | work per batch ms | wall ms | overhead | pool alone | main thread CPU per batch ms |', '|---:|---:|---:|---:|---:|---:|---:|');
  for (const o of r.overhead) out.push(`| ${o.workers} | ${o.batches} | ${f(o.work_ms_per_batch, 2)} | ${f(o.wall_ms, 0)} | ${(100 * o.overhead_share).toFixed(1)} % | ${o.pool_floor_share === undefined ? '–' : (100 * o.pool_floor_share).toFixed(1) + ' %'} | ${o.main_cpu_ms_per_batch == null ? '–' : f(o.main_cpu_ms_per_batch, 2)} |`);
  out.push('');
  out.push('### Fixed vs fractured on the same two-stage toy flow (copy → copy_plus, same tables)', '');
  out.push('| mode | entities | stage rows | tasks | wall ms | entities/s |', '|---|---:|---:|---:|---:|---:|');
  for (const x of r.modes) out.push(`| ${x.mode} | ${x.entities} | ${x.stage_rows} | ${x.tasks} | ${f(x.wall_ms, 0)} | ${f(x.entities_per_s, 0)} |`);
  out.push('');
  const best = Math.max(...r.throughput.filter((t) => t.store === 'file').map((t) => t.rows_per_s));
  const oh = r.overhead.map((o) => `${(100 * o.overhead_share).toFixed(1)} % with ${o.workers} worker${o.workers > 1 ? 's' : ''}`).join(', ');
  out.push('### Against the targets', '');
  out.push(`- ≥ 20k rows/s through a trivial stage on 2 cores (SQLite file): ${f(best, 0)} rows/s.`);
  const met = r.overhead.every((o) => o.overhead_share <= 0.05);
  out.push(`- Scheduler overhead ≤ 5 % of wall time at ~5 ms of work per batch: ${oh} — ${met ? 'met' : '**not met**'}.`);
  out.push('  - What changed (issue 5): batches travel between threads as raw Arrow buffers instead of IPC stream bytes (`src/engine/wire.ts`; ' +
    'encode + decode of a 64-row batch ~0.3 ms → ~0.06 ms per hop, warm), claim and result columns are packed without Arrow objects, the writes of a flush and the claims that refill the pools share one commit, ' +
    'and the per-tick status scans run only when progress output is on. Before/after on this machine (2026-11-24), 300 batches of 5 ms, 4 interleaved pairs of runs of the previous engine (commit 742e504) and this one under the same load (load average 2.7–3.6): ' +
    'main thread 3.1–3.6 → 2.4–2.8 ms CPU per batch and overhead 29–36 % → 16–28 % with 1 worker; 2.8–3.2 → 2.1–2.2 ms and 42–46 % → 28–36 % with 2 workers. ' +
    'The same change made the trivial-stage throughput and the fixed mode (one round trip per entity) faster: compare the tables above with the previous BENCHMARKS.md (60.7k / 40.2k rows/s file store, fixed mode 6.2 s for 2000 entities).');
  out.push('  - Why ≤ 5 % is out of reach at 64-row batches on 2 cores: with 2 workers the two cores are fully used, so the target leaves the main thread ≤ 0.25 ms per 5 ms batch. ' +
    'The queue\'s SQL alone costs more on a quiet machine: claiming 64 rows ~0.3 ms and finishing them ~0.35 ms (~0.28 ms of UPDATEs, of which statement dispatch is ~0.02 ms — the rest is B-tree work every form must do; ' +
    'a set-based `UPDATE … FROM json_each` measured 1.7–2.1 ms because the planner scans the table), plus the commit. With 1 worker the main thread has its own core and the rest is the pool floor: thread hand-offs and scheduling latency on a shared machine. ' +
    'Measured and not kept: a second task queued in each thread (`concurrentTasksPerWorker: 2`, no gain beyond noise), `synchronous = OFF` and `wal_autocheckpoint = 0` on the engine connection (no gain beyond noise in the engine, although a bare claim + finish loop runs ~0.5 ms faster per batch without checkpoint fsyncs). ' +
    'What would reach it: more work per task (larger batches or heavier stages: the cost is per batch and per row, not per unit of work), or a store whose claim/finish costs less per row.');
  out.push('- Fixed mode runs one entity per task, depth-first, so its cost per row is a whole pool round trip; the fractured mode amortises it over a batch.', '');
  return out;
}

export const order = 60;

export function section(): string[] {
  const r = readJson<EngineResult>(join(benchDir, 'results', 'engine.json'));
  return r ? engineSection(r) : ['## Engine', '', 'No results yet: run `npm run bench -- engine`.', ''];
}
