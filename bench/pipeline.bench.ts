/**
 * Pipeline benchmark: `runScreen` (what `fracflow screen` runs) end to end on 2 cores.
 *
 * Configurations, each in its own child process on a fresh SQLite file in a temporary folder, with the
 * screen's defaults (in the fractured mode one thread per core shared by the stages, each stage
 * allotted as many workers as cores — 2 here —; as many workflows at a time in the fixed mode; F hops ≤ 5 Å, the 5 shortest; images in ≥ 7 Å supercells, checkpoint written; the
 * CPU-bound stages share a CPU budget of os.availableParallelism() batches at once):
 *
 * 1. `bundled`: the default bundled set (mp + curated + mp-task, imported as `fracflow screen` does)
 *    through every stage (import → find_paths → descriptors → images), fractured, fixed, and
 *    fractured with a pool per stage (`threads: 'per-stage'`, the engine's default before);
 * 2. `corpus`: a 10,000-structure corpus — the structures of the default set repeated under new ids
 *    (`<source id>~<copy>`) until there are 10,000, each copy's lattice scaled by 1 + 10⁻⁶·copy (same
 *    symmetry and hops, other content: the import does not take it for a duplicate and no
 *    content-keyed cache answers for it), written to a records file and imported from it — through
 *    import → pathways (`until: 'find_paths'`), fractured and fixed: every copy is its own row and is
 *    computed, as with a real corpus of 10,000 different structures.
 *
 * Per stage: rows done / failed after the run; the stage's window, from its first claim to its last
 * write (the engine's attempt history, `engine_attempts`), and rows finished per second of it; the
 * time from the screen's start to its first finished row (the first descriptors row; the first images
 * row is the first pathway with its VASP folders ready); the
 * time spent inside its work function (the RunReport). Per run: import time, engine wall time (with
 * pool start-up), the remainder of `runScreen` (checkpoint, status, ranking), whole wall time, and
 * peak RSS of the child process (`process.resourceUsage().maxRSS`, which covers the worker threads,
 * and VmHWM from /proc/self/status).
 *
 * `--sets bundled` (or `corpus`) runs that set alone (the results file then holds only its runs).
 * `FRACFLOW_BENCH_QUICK=1`: 40 structures of the default set, corpus ×2 (a smoke run, well under a
 * minute). Writes bench/results/pipeline.json; `npm run bench:report` renders it.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { openStore, SqliteDiffusionStore } from '../src/store/sqlite/diffusion.js';
import { readStructuresLenient } from '../src/structure/io.js';
import { bundledPath } from '../src/io/bundled.js';
import type { Structure } from '../src/structure/structure.js';
import { recordSourceId } from '../src/workflow/import.js';
import { structureHash } from '../src/structure/hash.js';
import { DEFAULT_BUNDLED, importStructures, type StructureSource } from '../src/workflow/structures.js';
import { runScreen, type ScreenStageName } from '../src/workflow/screen.js';
import type { IdppMode } from '../src/kernels/idpp.js';
import type { ThreadSharing } from '../src/engine/engine.js';
import { writeResults, quick } from './common.js';

/** Python stack on this machine (the issue's figures), for scale. */
const PYTHON = { path_finding_s_per_structure: 0.14, idpp_5image_95atom_s: 1.1, ewald_96atom_acc3_s: 0.04, s_per_pathway_per_core: 1.4 };
/** The k of the top-ranked pathways whose VASP folders' arrival is timed. */
const TOP_RANKED = [1, 10, 50];
const TARGETS = { corpus_structures: 10000, corpus_pathways_s: 120, descriptors_pathways_per_s: 10, peak_rss_bytes: 1.5 * 1024 ** 3 };

export interface ChildConfig {
  name: string;
  set: 'bundled' | 'corpus';
  /** IDPP mode of the descriptors and images stages (default: the screen's). */
  idpp?: IdppMode;
  mode: 'fractured' | 'fixed';
  until: ScreenStageName;
  source: StructureSource;
  structuresIn: number;
  db: string;
  outDir: string;
  /** Fractured mode: batches per thread (EngineOptions.batchesPerThread; default the engine's). */
  batchesPerThread?: number;
  /** Fractured mode: shared threads (the default) or a pool per stage (EngineOptions.threads). */
  threads?: ThreadSharing;
}

export interface StageFigures {
  stage: string;
  rows_done: number;
  rows_failed: number;
  rows_pending: number;
  workers: number;
  /** First claim → last write, ms (null when the stage finished no row). */
  window_ms: number | null;
  /** (done + failed) / window. */
  rows_per_s: number | null;
  tasks: number;
  work_ms: number;
  /** Structures behind the done rows (distinct structure_id), where the table has that column. */
  structures_done: number | null;
  /** From the screen's start (after the import) to the stage's first finished row, ms (start-up included; null: none). */
  first_row_ms?: number | null;
  /**
   * images only: from the screen's start until the VASP folders of the k top-ranked pathways (lowest
   * ewald_energy among the rows done at the end: the images queue's own order) were all ready, ms,
   * for k = 1, 10, 50 (absent in results from before it was recorded).
   */
  top_ranked_ms?: Record<string, number | null>;
}

export interface RunFigures {
  name: string;
  set: 'bundled' | 'corpus';
  idpp?: IdppMode;
  mode: 'fractured' | 'fixed';
  /** Fractured mode: 'per-stage' for a pool per stage (absent: the default, shared threads, or results from before). */
  threads?: ThreadSharing;
  until: ScreenStageName;
  structures_in: number;
  /** `duplicates`: rows whose content equals an earlier structure's (absent in results from before they were counted). */
  import: { inserted: number; updated: number; unchanged: number; duplicates?: number; failed: number; ms: number; rows_per_s: number };
  stages: StageFigures[];
  engine_wall_ms: number;
  engine_startup_ms: number;
  engine_active_ms: number;
  /** runScreen time after the engine: checkpoint, status, ranking. */
  checkpoint_etc_ms: number;
  /** Import + runScreen. */
  wall_ms: number;
  max_rss_bytes: number;
  vm_hwm_bytes: number | null;
  /** CPU time of the child process, its worker threads included (absent in results from before it was recorded). */
  cpu_ms?: number;
  load_average_start: number[];
  load_average_end: number[];
}

function vmHwmBytes(): number | null {
  try {
    const m = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

async function child(c: ChildConfig): Promise<void> {
  const load0 = loadavg();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const store = openStore(c.db);
  let imports;
  const ti = performance.now();
  try {
    imports = await importStructures(new SqliteDiffusionStore(store), c.source);
  } finally {
    store.close();
  }
  const importMs = performance.now() - ti;
  const ts = performance.now();
  const screenStartEpoch = Date.now();
  const rep = await runScreen({ db: c.db, outDir: c.outDir, mode: c.mode, until: c.until, progress: 'off', top: 5, idpp: c.idpp, batchesPerThread: c.batchesPerThread, threads: c.threads });
  const screenMs = performance.now() - ts;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const maxRss = process.resourceUsage().maxRSS * 1024;
  const hwm = vmHwmBytes();

  const imp = imports.reduce(
    (a, r) => ({ inserted: a.inserted + r.inserted, updated: a.updated + r.updated, unchanged: a.unchanged + r.unchanged, duplicates: a.duplicates + r.duplicates, failed: a.failed + r.failed }),
    { inserted: 0, updated: 0, unchanged: 0, duplicates: 0, failed: 0 },
  );
  const check = openStore(c.db);
  const stages: StageFigures[] = [];
  try {
    for (const st of rep.status) {
      const w = check.sql.get<{ t0: number | null; t1: number | null }>('SELECT MIN(started_at) AS t0, MAX(finished_at) AS t1 FROM engine_attempts WHERE stage = ?', [st.stage])!;
      const windowMs = w.t0 === null || w.t1 === null ? null : w.t1 - w.t0;
      const first = check.sql.get<{ t: number | null }>("SELECT MIN(finished_at) AS t FROM engine_attempts WHERE stage = ? AND outcome = 'done'", [st.stage])!.t;
      const cols = check.sql.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', [st.stage]).map((r) => r.name);
      const structuresDone = cols.includes('structure_id') ? check.sql.get<{ n: number }>(`SELECT COUNT(DISTINCT structure_id) AS n FROM ${st.stage} WHERE state = 'done'`)!.n : null;
      const r = rep.run.stages[st.stage];
      let topRanked: Record<string, number | null> | undefined;
      if (st.stage === 'images') {
        topRanked = {};
        for (const k of TOP_RANKED) {
          const t = check.sql.get<{ n: number; t: number | null }>(`SELECT COUNT(*) AS n, MAX(finished_at) AS t FROM (SELECT finished_at FROM images WHERE state = 'done' ORDER BY ewald_energy IS NULL, ewald_energy, id LIMIT ${k})`)!;
          topRanked[String(k)] = t.n < k || t.t === null ? null : t.t - screenStartEpoch;
        }
      }
      stages.push({
        stage: st.stage,
        rows_done: st.done,
        rows_failed: st.failed,
        rows_pending: st.pending + st.running,
        workers: st.workers,
        window_ms: windowMs,
        rows_per_s: windowMs && windowMs > 0 ? ((st.done + st.failed) * 1000) / windowMs : null,
        tasks: r?.tasks ?? 0,
        work_ms: r?.workMs ?? 0,
        structures_done: structuresDone,
        first_row_ms: first === null ? null : first - screenStartEpoch,
        ...(topRanked ? { top_ranked_ms: topRanked } : {}),
      });
    }
  } finally {
    check.close();
  }
  const out: RunFigures = {
    name: c.name,
    set: c.set,
    idpp: c.idpp,
    mode: c.mode,
    ...(c.threads ? { threads: c.threads } : {}),
    until: c.until,
    structures_in: c.structuresIn,
    import: { ...imp, ms: importMs, rows_per_s: ((imp.inserted + imp.updated + imp.unchanged) * 1000) / importMs },
    stages,
    engine_wall_ms: rep.run.wallMs,
    engine_startup_ms: rep.run.startupMs,
    engine_active_ms: rep.run.activeMs,
    checkpoint_etc_ms: screenMs - rep.run.wallMs,
    wall_ms: wallMs,
    max_rss_bytes: maxRss,
    vm_hwm_bytes: hwm,
    cpu_ms: (cpu.user + cpu.system) / 1000,
    load_average_start: load0,
    load_average_end: loadavg(),
  };
  process.stdout.write(`RESULT ${JSON.stringify(out)}\n`);
}

/**
 * The structures of the default bundled import that `fracflow screen` screens, keyed as it keys
 * them: every record under its dataset-qualified id, content duplicates left out (the first of
 * each content wins, as the find_paths stage admits only the original).
 */
export function defaultSet(): { id: string; structure: Structure }[] {
  const out: { id: string; structure: Structure }[] = [];
  const hashes = new Set<string>();
  for (const name of DEFAULT_BUNDLED) {
    const seen = new Set<string>();
    for (const { structure, index } of readStructuresLenient(bundledPath(name), 'records').structures) {
      const id = recordSourceId(structure, name, index, seen);
      const h = structureHash(structure);
      if (hashes.has(h)) continue;
      hashes.add(h);
      out.push({ id, structure });
    }
  }
  return out;
}

/** One record of the bundled-data schema (what the records reader takes back unchanged). */
export function record(id: string, s: Structure): string {
  const triples = (a: Float64Array) => Array.from({ length: a.length / 3 }, (_, k) => [a[3 * k]!, a[3 * k + 1]!, a[3 * k + 2]!]);
  return JSON.stringify({ material_id: id, lattice: triples(s.lattice), species: s.species, frac_coords: triples(s.frac), oxidation_states: s.oxidationStates ? Array.from(s.oxidationStates) : null });
}

/** Runs one configuration in a child process of this module and returns its figures. */
export function runChild(c: ChildConfig): RunFigures {
  console.log(`-- ${c.name}: ${c.structuresIn} structures, ${c.mode}, until ${c.until}${c.idpp ? `, idpp ${c.idpp}` : ''}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', JSON.stringify(c)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${c.name}: child exited with ${r.status ?? r.signal}`);
  const line = r.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`${c.name}: child printed no result`);
  const f = JSON.parse(line.slice(7)) as RunFigures;
  const st = f.stages.map((s) => `${s.stage} ${s.rows_done}+${s.rows_failed}f in ${((s.window_ms ?? 0) / 1000).toFixed(1)} s (${(s.rows_per_s ?? 0).toFixed(1)}/s)`).join(', ');
  console.log(`   import ${f.import.inserted} in ${(f.import.ms / 1000).toFixed(1)} s; ${st}; wall ${(f.wall_ms / 1000).toFixed(1)} s; CPU ${((f.cpu_ms ?? 0) / 1000).toFixed(1)} s; peak RSS ${(f.max_rss_bytes / 2 ** 20).toFixed(0)} MB`);
  return f;
}

async function main(): Promise<void> {
  const loadStart = loadavg();
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-pipeline-'));
  try {
    const base = defaultSet();
    const nSubset = 40;
    const bundled = quick ? Array.from({ length: nSubset }, (_, k) => base[Math.floor((k * base.length) / nSubset)]!) : base;
    const corpusSize = quick ? 2 * bundled.length : TARGETS.corpus_structures;
    const corpus = Array.from({ length: corpusSize }, (_, k) => {
      const b = bundled[k % bundled.length]!;
      const copy = Math.floor(k / bundled.length);
      return record(`${b.id}~${copy}`, copy === 0 ? b.structure : { ...b.structure, lattice: b.structure.lattice.map((x) => x * (1 + 1e-6 * copy)) });
    });
    const corpusFile = join(dir, 'corpus.jsonl');
    writeFileSync(corpusFile, corpus.join('\n') + '\n');
    let bundledSource: StructureSource = { kind: 'bundled' };
    if (quick) {
      const subsetFile = join(dir, 'subset.jsonl');
      writeFileSync(subsetFile, bundled.map((b) => record(b.id, b.structure)).join('\n') + '\n');
      bundledSource = { kind: 'files', paths: [subsetFile], dataset: 'subset' };
    }
    const configs: Omit<ChildConfig, 'db' | 'outDir'>[] = [
      { name: 'bundled-fractured', set: 'bundled', mode: 'fractured', until: 'images', source: bundledSource, structuresIn: bundled.length },
      { name: 'bundled-fixed', set: 'bundled', mode: 'fixed', until: 'images', source: bundledSource, structuresIn: bundled.length },
      { name: 'bundled-fractured-per-stage', set: 'bundled', mode: 'fractured', threads: 'per-stage', until: 'images', source: bundledSource, structuresIn: bundled.length },
      { name: 'corpus-fractured', set: 'corpus', mode: 'fractured', until: 'find_paths', source: { kind: 'files', paths: [corpusFile], dataset: 'corpus' }, structuresIn: corpusSize },
      { name: 'corpus-fixed', set: 'corpus', mode: 'fixed', until: 'find_paths', source: { kind: 'files', paths: [corpusFile], dataset: 'corpus' }, structuresIn: corpusSize },
    ];
    // `--sets bundled`: only the bundled screen (both modes), e.g. to compare the modes quickly.
    const si = process.argv.indexOf('--sets');
    const sets = si > 0 ? process.argv[si + 1]!.split(',') : ['bundled', 'corpus'];
    const runs: RunFigures[] = [];
    for (const c of configs.filter((x) => sets.includes(x.set))) {
      const runDir = join(dir, c.name);
      mkdirSync(runDir);
      runs.push(runChild({ ...c, db: join(runDir, 'screen.db'), outDir: join(runDir, 'out') }));
      rmSync(runDir, { recursive: true, force: true });
    }
    // Other processes share this machine's 2 cores; the load averages say how much they took.
    writeResults('pipeline', {
      load_average_start: loadStart,
      load_average_end: loadavg(),
      default_set_structures: base.length,
      bundled_structures: bundled.length,
      corpus_structures: corpusSize,
      corpus_copies: 'lattice scaled by 1 + 1e-6 * copy',
      python: PYTHON,
      targets: TARGETS,
      runs,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1]?.endsWith('pipeline.bench.ts')) {
  if (process.argv[2] === '--child') await child(JSON.parse(process.argv[3]!) as ChildConfig);
  else await main();
}
