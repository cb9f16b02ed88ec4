/**
 * Engine ablation on the real screen: what each of the engine's three speed measures saves of the
 * bundled screen's wall time (fractured, the screen's defaults, 2 cores).
 *
 * 1. In-thread queue ("deep prefetch": three batches handed to each thread, a fourth in the pool's
 *    queue) against one batch per thread (`batchesPerThread: 1`): the bundled screen run in child
 *    processes, alternating A B A B … (`FRACFLOW_ABLATION_REPEATS`, default 2 each), so load from other
 *    processes falls on both alike; medians of wall time and of engine wall time.
 * 2. Raw-buffer wire format against Arrow IPC stream bytes: the screen's batches (the RunReport's task
 *    count per stage) times the measured cost per batch of each format, both directions, on batches
 *    built from the run's own rows (the descriptors stage's input: rows of the pathways table with the
 *    sanitised cell; its output: rows of the descriptors table) at the stage's batch size.
 * 3. Operation-search fast path for symmetry: bounded by the whole find_paths stage's share of the
 *    wall time (the only stage that runs a symmetry analysis since pathways carry their sanitised cell
 *    and hops): the fast path cannot save more than the stage costs.
 *
 * `FRACFLOW_BENCH_QUICK=1`: 40 structures of the default set, one run each. Writes
 * bench/results/engine-ablation.json.
 */
import Database from 'better-sqlite3';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode, encodeStream, makeBatch, columnValues, type ColumnDef } from '../src/stage-kit/arrow.js';
import { fromWire, wireFromColumns, wireValues } from '../src/engine/wire.js';
import type { StructureSource } from '../src/workflow/structures.js';
import { perCall, quick, writeResults } from './common.js';
import { defaultSet, record, runChild, type RunFigures } from './pipeline.bench.js';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

type Row = Record<string, unknown>;

function defsOf(rows: Row[]): ColumnDef[] {
  return Object.keys(rows[0]!).map((name) => {
    const v = rows.find((r) => r[name] !== null)?.[name];
    return { name, type: typeof v === 'number' ? (Number.isInteger(v) && rows.every((r) => r[name] === null || Number.isInteger(r[name])) ? 'int32' : 'float64') : 'utf8' } as ColumnDef;
  });
}

/** ms per batch to send one batch of these rows to a thread and read its columns there, each format. */
function wireCosts(rows: Row[]): { raw_ms: number; ipc_ms: number; columns: number; bytes: number } {
  const defs = defsOf(rows);
  const cols = defs.map((d) => rows.map((r) => (d.type === 'utf8' && r[d.name] !== null ? String(r[d.name]) : r[d.name])));
  const raw = perCall(() => {
    const { wire, transfer } = wireFromColumns(defs, cols);
    const got = structuredClone(wire, { transfer });
    for (const d of defs) wireValues(got, d.name);
    fromWire(got);
  });
  let bytes = 0;
  const ipc = perCall(() => {
    const b = encodeStream(makeBatch(defs, cols));
    bytes = b.byteLength;
    const got = structuredClone(b, { transfer: [b.buffer as ArrayBuffer] });
    const t = decode(got);
    for (const d of defs) columnValues(t, d.name);
  });
  return { raw_ms: raw, ipc_ms: ipc, columns: defs.length, bytes };
}

async function main(): Promise<void> {
  const loadStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-ablation-'));
  try {
    const base = defaultSet();
    let source: StructureSource = { kind: 'bundled' };
    let n = base.length;
    if (quick) {
      n = 40;
      const file = join(dir, 'subset.jsonl');
      writeFileSync(file, Array.from({ length: n }, (_, k) => base[Math.floor((k * base.length) / n)]!).map((b) => record(b.id, b.structure)).join('\n') + '\n');
      source = { kind: 'files', paths: [file], dataset: 'subset' };
    }
    const repeats = quick ? 1 : Number(process.env.FRACFLOW_ABLATION_REPEATS ?? 2);
    const runs: (RunFigures & { batches_per_thread: number })[] = [];
    let kept: string | null = null;
    for (let r = 0; r < repeats; r++) {
      for (const bpt of [3, 1]) {
        const runDir = join(dir, `run-${r}-${bpt}`);
        mkdirSync(runDir);
        const db = join(runDir, 'screen.db');
        const f = runChild({ name: `bundled-bpt${bpt}-${r}`, set: 'bundled', mode: 'fractured', until: 'images', source, structuresIn: n, db, outDir: join(runDir, 'out'), batchesPerThread: bpt });
        runs.push({ ...f, batches_per_thread: bpt });
        if (kept === null) kept = db;
        else rmSync(runDir, { recursive: true, force: true });
      }
    }
    const by = (bpt: number) => runs.filter((r) => r.batches_per_thread === bpt);
    const prefetch = {
      wall_s_bpt3: median(by(3).map((r) => r.wall_ms)) / 1000,
      wall_s_bpt1: median(by(1).map((r) => r.wall_ms)) / 1000,
      engine_s_bpt3: median(by(3).map((r) => r.engine_wall_ms)) / 1000,
      engine_s_bpt1: median(by(1).map((r) => r.engine_wall_ms)) / 1000,
      saving_pct: 0,
    };
    prefetch.saving_pct = (100 * (prefetch.wall_s_bpt1 - prefetch.wall_s_bpt3)) / prefetch.wall_s_bpt1;

    // Wire formats on the run's own rows, at the stages' batch sizes.
    const db = new Database(kept!, { readonly: true });
    const first = by(3)[0]!;
    const tasks = Object.fromEntries(first.stages.map((s) => [s.stage, s.tasks]));
    const batchRows = (stage: string) => Math.max(1, Math.round((first.stages.find((s) => s.stage === stage)!.rows_done + first.stages.find((s) => s.stage === stage)!.rows_failed) / Math.max(1, tasks[stage] ?? 1)));
    const shapes: { stage: string; direction: string; rows: Row[]; batches: number }[] = [];
    for (const [stage, input, output] of [['descriptors', 'pathways', 'descriptors'], ['images', 'pathways', 'images'], ['find_paths', 'structures', 'find_paths']] as const) {
      const k = batchRows(stage);
      shapes.push({ stage, direction: 'in', rows: db.prepare(`SELECT * FROM ${input} LIMIT ${k}`).all() as Row[], batches: tasks[stage] ?? 0 });
      shapes.push({ stage, direction: 'out', rows: db.prepare(`SELECT * FROM ${output} WHERE state = 'done' LIMIT ${k}`).all() as Row[], batches: tasks[stage] ?? 0 });
    }
    db.close();
    const wire = shapes.filter((s) => s.rows.length > 0).map((s) => {
      const c = wireCosts(s.rows);
      return { stage: s.stage, direction: s.direction, rows_per_batch: s.rows.length, batches: s.batches, ...c, total_saved_s: (s.batches * (c.ipc_ms - c.raw_ms)) / 1000 };
    });
    const wireSaved = wire.reduce((a, w) => a + w.total_saved_s, 0);
    const fp = first.stages.find((s) => s.stage === 'find_paths')!;
    const result = {
      structures: n,
      repeats,
      load_average_start: loadStart,
      load_average_end: loadavg(),
      runs,
      prefetch,
      wire: { per_shape: wire, saved_s: wireSaved, saving_pct: (100 * wireSaved) / (first.wall_ms / 1000) },
      symops_bound: { find_paths_window_s: (fp.window_ms ?? 0) / 1000, find_paths_work_s: fp.work_ms / 1000, wall_s: first.wall_ms / 1000, bound_pct: (100 * (fp.window_ms ?? 0)) / first.wall_ms },
    };
    console.log(`prefetch: ${prefetch.wall_s_bpt3.toFixed(1)} s (3 per thread) vs ${prefetch.wall_s_bpt1.toFixed(1)} s (1): ${prefetch.saving_pct.toFixed(1)} %`);
    console.log(`wire: ${wireSaved.toFixed(2)} s saved (${result.wire.saving_pct.toFixed(2)} % of ${(first.wall_ms / 1000).toFixed(1)} s)`);
    console.log(`symops: find_paths window ${result.symops_bound.find_paths_window_s.toFixed(1)} s = ${result.symops_bound.bound_pct.toFixed(1)} % of the wall time (upper bound)`);
    writeResults('engine-ablation', result);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
