/** BENCHMARKS.md section for the pipeline benchmark (bench/pipeline.bench.ts). */
import { join } from 'node:path';
import { benchDir } from '../common.js';
import { readJson, f } from '../report-util.js';
import type { RunFigures } from '../pipeline.bench.js';

interface Result {
  machine: Record<string, unknown>;
  load_average_start?: number[];
  load_average_end?: number[];
  default_set_structures: number;
  bundled_structures: number;
  corpus_structures: number;
  /** How the corpus copies differ from their originals; absent: same content under new ids (earlier runs). */
  corpus_copies?: string;
  python: { path_finding_s_per_structure: number; s_per_pathway_per_core: number; idpp_5image_95atom_s: number; ewald_96atom_acc3_s: number };
  targets: { corpus_structures: number; corpus_pathways_s: number; descriptors_pathways_per_s: number; peak_rss_bytes: number };
  runs: RunFigures[];
}

const s = (ms: number | null | undefined, d = 1) => (ms === null || ms === undefined ? '–' : f(ms / 1000, d));
const mb = (b: number | null | undefined) => (b === null || b === undefined ? '–' : (b / 2 ** 20).toFixed(0));
const load = (x?: number[]) => (x ? x.map((v) => v.toFixed(1)).join(' / ') : '–');
const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');

/** Structures imported per second of the find_paths stage's window. */
function structuresPerS(r: RunFigures): string {
  const w = r.stages.find((st) => st.stage === 'find_paths')?.window_ms;
  return w ? f((1000 * r.structures_in) / w, 0) : '–';
}

/** The run's mode, and whether its stages had a pool each (the fractured mode before threads were shared). */
const label = (r: RunFigures) => (r.threads === 'per-stage' ? `${r.mode}, a pool per stage` : r.mode);
const perStage = (r: RunFigures) => r.threads === 'per-stage';

/** Import + engine: the structures → pathways time of a corpus run. */
const throughPathwaysMs = (r: RunFigures) => r.import.ms + r.engine_wall_ms;

function stageTable(runs: RunFigures[]): string[] {
  const out = ['| mode | stage | rows done | failed | workers | stage window s | rows/s | work ms per row |', '|---|---|---:|---:|---:|---:|---:|---:|'];
  for (const r of runs) {
    const imported = r.import.inserted + r.import.updated + r.import.unchanged;
    out.push(`| ${label(r)} | import (structures) | ${imported} | ${r.import.failed} | 1 | ${s(r.import.ms)} | ${f(r.import.rows_per_s, 0)} | ${imported ? f(r.import.ms / imported, 2) : '–'} |`);
    for (const st of r.stages) {
      const rows = st.rows_done + st.rows_failed;
      out.push(`| ${label(r)} | ${st.stage} | ${st.rows_done}${st.rows_pending ? ` (${st.rows_pending} left)` : ''} | ${st.rows_failed} | ${st.workers} | ${s(st.window_ms)} | ${f(st.rows_per_s, 1)} | ${rows ? f(st.work_ms / rows, 1) : '–'} |`);
    }
  }
  return out;
}

function runTable(runs: RunFigures[]): string[] {
  const out = ['| mode | import s | engine s (of which start-up) | checkpoint, status, ranking s | whole run s | peak RSS MB | load average at start / end (1 min) |', '|---|---:|---:|---:|---:|---:|---|'];
  for (const r of runs) {
    out.push(`| ${label(r)} | ${s(r.import.ms)} | ${s(r.engine_wall_ms)} (${s(r.engine_startup_ms)}) | ${s(r.checkpoint_etc_ms)} | ${s(r.wall_ms)} | ${mb(r.max_rss_bytes)} | ${r.load_average_start[0]!.toFixed(1)} / ${r.load_average_end[0]!.toFixed(1)} |`);
  }
  return out;
}

/** Fractured against fixed (and the fractured mode with a pool per stage, when run) on the same cores in the same benchmark run: engine time and first results. */
function sideBySide(runs: RunFigures[]): string[] {
  const fr = runs.find((x) => x.mode === 'fractured' && !perStage(x));
  const fx = runs.find((x) => x.mode === 'fixed');
  const ps = runs.find((x) => x.mode === 'fractured' && perStage(x));
  if (!fr || !fx) return [];
  const cols = ps ? [fr, ps, fx] : [fr, fx];
  const first = (r: RunFigures, stage: string) => r.stages.find((st) => st.stage === stage)?.first_row_ms;
  if (first(fr, 'descriptors') === undefined) return [];
  const top = (r: RunFigures) => r.stages.find((st) => st.stage === 'images')?.top_ranked_ms;
  const ks = Object.keys(top(fr) ?? {});
  const row = (what: string, v: (r: RunFigures) => string) => `| ${what} | ${cols.map(v).join(' | ')} |`;
  const ratio = fr.engine_wall_ms / fx.engine_wall_ms;
  return [
    `| | fractured |${ps ? ' fractured, a pool per stage |' : ''} fixed |`,
    `|---|---:|${ps ? '---:|' : ''}---:|`,
    row('engine s', (r) => s(r.engine_wall_ms)),
    row('engine start-up s (threads up, stage code loaded)', (r) => s(r.engine_startup_ms, 2)),
    row("first finished descriptors row, s from the screen's start", (r) => s(first(r, 'descriptors'), 2)),
    row('first ready VASP folder (first images row), s', (r) => s(first(r, 'images'), 2)),
    ...ks.map((k) => row(`VASP folders of the ${k === '1' ? 'top-ranked pathway' : `${k} top-ranked pathways`} (lowest ewald_energy) all ready, s`, (r) => s(top(r)?.[k], 2))),
    '',
    `Fractured engine time / fixed: ${ratio.toFixed(2)} (target ≤ 1: ${verdict(ratio <= 1)}). The runs follow each other on a shared machine (load averages above): a difference of a few per cent is within what the other processes make.`,
    ...firstResults(fr, fx, ps, first),
  ];
}

/**
 * The target that the first finished descriptors row and the first VASP folders of the top-ranked
 * pathways arrive earlier in the fractured mode, with what the start-up of each mode costs.
 */
function firstResults(fr: RunFigures, fx: RunFigures, ps: RunFigures | undefined, first: (r: RunFigures, stage: string) => number | null | undefined): string[] {
  const d = [first(fr, 'descriptors'), first(fx, 'descriptors')];
  const top = (r: RunFigures, k: string) => r.stages.find((st) => st.stage === 'images')?.top_ranked_ms?.[k] ?? null;
  const ks = Object.keys(fr.stages.find((st) => st.stage === 'images')?.top_ranked_ms ?? {});
  if (d[0] == null || d[1] == null || ks.length === 0) return [];
  const earlier = ks.filter((k) => top(fr, k) !== null && top(fx, k) !== null && top(fr, k)! < top(fx, k)!);
  const psFirst = ps ? first(ps, 'descriptors') : null;
  return [
    '',
    `First results earlier in the fractured mode: the first descriptors row ${verdict(d[0] < d[1])} (${s(d[0], 2)} s against ${s(d[1], 2)} s); ` +
      `the VASP folders of the top-ranked pathways earlier for k = ${earlier.length ? earlier.join(', ') : 'none'} of ${ks.join(', ')}. ` +
      'The fixed mode takes each structure through every stage one row at a time, so its first descriptors row comes after the start-up, one find_paths row and one descriptors row: the earliest any schedule can give it on these cores. ' +
      'The fractured mode can only equal that: its first descriptors row also waits for its first structure, and then for a flush and a claim. ' +
      'Its CPU-bound stages share one thread per core, each loading every stage, as the fixed mode\'s threads do' +
      (ps && psFirst != null ? `; with a pool per stage (six threads on 2 cores, each loading the engine, Arrow and its stage) the first descriptors row came at ${s(psFirst, 2)} s, start-up ${s(ps.engine_startup_ms, 2)} s` : '') +
      '. Batches are sized to the work (one row first), and the deepest stage\'s batches go first (the CPU budget, the main thread\'s queue of batches for the threads, and each thread\'s own), so the first structures\' rows go down the pipeline at once.',
  ];
}

function pipelineSection(r: Result): string[] {
  const m = r.machine;
  const quickRun = m['quick'] === true;
  const bundledAll = r.runs.filter((x) => x.set === 'bundled');
  // The fractured mode with a pool per stage is shown in the stage tables and the side-by-side table only.
  const bundled = bundledAll.filter((x) => !perStage(x));
  const corpus = r.runs.filter((x) => x.set === 'corpus');
  const out: string[] = ['## Pipeline: `fracflow screen` end to end (`runScreen`)', ''];
  out.push(
    `Measured with \`npm run bench -- pipeline\` on ${String(m['cpu'])} (${String(m['cores'])} cores), Node ${String(m['node'])}, ${String(m['date']).slice(0, 10)}` +
      `${quickRun ? ` (**quick mode**: ${r.bundled_structures} of the ${r.default_set_structures} structures, corpus ×2 — a smoke run; the targets below are for the full sizes)` : ''}; ` +
      `load average (1/5/15 min) ${load(r.load_average_start)} at the start, ${load(r.load_average_end)} at the end (other processes share the 2 cores). ` +
      'Each configuration runs in its own child process on a fresh SQLite file with the screen\'s defaults: in the fractured mode one thread per core shared by the stages, each stage allotted one worker per core (2 here: the most of its batches that run at once), and a CPU budget of one running batch per core; the fractured mode with a pool per stage (`EngineOptions.threads: \'per-stage\'`, the default before threads were shared) starts 2 threads per stage under the same budget; one workflow per core at a time in the fixed mode, ' +
      'F hops ≤ 5 Å (the 5 shortest per structure), descriptors with 7-image IDPP, Ewald and radii overlap in ≥ 7 Å supercells, images and VASP inputs for pathways with dimensionality ≥ 1, and the checkpoint. ' +
      'A stage window runs from the stage\'s first claim to its last write (the engine\'s attempt history); rows/s = rows finished (done or failed) per second of it. ' +
      'In the fractured mode the windows overlap and the stages share the 2 cores; in the fixed mode every entity goes through all stages depth-first, so each window spans almost the whole run and its rows/s is not the stage\'s own speed. ' +
      '"Work ms per row" is thread time inside the stage\'s work function (inflated when more threads than cores are busy). ' +
      'Peak RSS is the child process\'s `maxRSS` (main thread and worker threads, import to checkpoint).',
    '',
  );
  out.push(`### The default bundled set (${r.bundled_structures} structures) through every stage`, '');
  out.push(...stageTable(bundledAll), '');
  const withDuplicates = bundled.find((x) => (x.import.duplicates ?? 0) > 0);
  const repeated = bundled.find((x) => x.import.updated + x.import.unchanged > 0);
  if (withDuplicates)
    out.push(`Import rows are records read: ${withDuplicates.import.inserted} structures under their own source ids, of which ${withDuplicates.import.duplicates} have the content of an earlier one and are not screened (find_paths admits the originals only).`, '');
  else if (repeated)
    out.push(`Import rows are records read: ${repeated.import.inserted} new structures, and ${repeated.import.updated + repeated.import.unchanged} records repeating a source id already imported update or keep that row instead of adding one.`, '');
  out.push(...runTable(bundledAll), '');
  out.push(...sideBySide(bundledAll), '');
  out.push(`### A ${r.corpus_structures.toLocaleString('en-US')}-structure corpus through structures → pathways`, '');
  out.push(
    r.corpus_copies
      ? `The ${r.bundled_structures} structures repeated under new ids (\`<source id>~<copy>\`) up to ${r.corpus_structures.toLocaleString('en-US')}, each copy's ${r.corpus_copies} (same symmetry and hops, other content), written to a records file and imported from it. ` +
          'No copy is a content duplicate and no content-keyed cache answers for one, so every copy is a row of its own and is computed — as for a corpus of different structures of the same sizes.'
      : `The ${r.bundled_structures} structures repeated under new ids (\`<source id>~<copy>\`) up to ${r.corpus_structures.toLocaleString('en-US')}, written to a records file and imported from it. ` +
          'Stage keys hold the source id, so every copy is a row of its own and is computed (no stage skips identical content; the only content-keyed cache, of oxidation states, belongs to the descriptors stage, which is not run here) — as for a corpus of different structures of the same sizes.',
    '',
  );
  out.push(...stageTable(corpus), '');
  out.push(...runTable(corpus), '');

  out.push('### Against the targets', '');
  const t = r.targets;
  const py = r.python;
  const full = !quickRun && r.corpus_structures >= t.corpus_structures;
  const judge = (ok: boolean) => (quickRun ? 'not judged in quick mode' : verdict(ok));
  // Structures → pathways.
  const cp = corpus.map((x) => `${x.mode} ${s(throughPathwaysMs(x))} s (import ${s(x.import.ms)} s + engine ${s(x.engine_wall_ms)} s; ${structuresPerS(x)} structures/s over the pathways window)`).join('; ');
  const pyCorpusS = (r.corpus_structures * py.path_finding_s_per_structure) / 2;
  const bestCorpus = corpus.length ? Math.min(...corpus.map(throughPathwaysMs)) : Infinity;
  out.push(
    `- ${t.corpus_structures.toLocaleString('en-US')} structures through structures → pathways in ≤ ${t.corpus_pathways_s / 60} minutes on 2 cores: ${cp} — ` +
      `${full ? `fractured ${verdict(throughPathwaysMs(corpus.find((x) => x.mode === 'fractured')!) <= 1000 * t.corpus_pathways_s)}, fixed ${verdict(throughPathwaysMs(corpus.find((x) => x.mode === 'fixed')!) <= 1000 * t.corpus_pathways_s)}` : judge(false)}. ` +
      `Python path finding at ~${py.path_finding_s_per_structure} s per structure would take ~${f(pyCorpusS, 0)} s for these ${r.corpus_structures.toLocaleString('en-US')} on 2 cores (${Number.isFinite(bestCorpus) ? `${((1000 * pyCorpusS) / bestCorpus).toFixed(0)}× the faster run here` : '–'}).`,
  );
  // Descriptors.
  const desc = bundled.map((x) => ({ mode: x.mode, st: x.stages.find((st) => st.stage === 'descriptors') })).filter((x) => x.st);
  const frDesc = desc.find((x) => x.mode === 'fractured')?.st;
  const pyRate = 2 / py.s_per_pathway_per_core;
  const fxDesc = desc.find((x) => x.mode === 'fixed')?.st;
  const rowsOf = (st: { rows_done: number; rows_failed: number }) => st.rows_done + st.rows_failed;
  out.push(
    `- Descriptor stage ≥ ${t.descriptors_pathways_per_s} pathways/s on 2 cores: ` +
      (frDesc
        ? `${judge((frDesc.rows_per_s ?? 0) >= t.descriptors_pathways_per_s)} — the fractured run finishes ${rowsOf(frDesc)} pathways in the ${s(frDesc.window_ms)} s of the descriptor window, ${f(frDesc.rows_per_s, 1)} pathways/s, while sharing the 2 cores with the find_paths and images stages` +
          `${fxDesc ? ` (fixed mode: ${f(fxDesc.rows_per_s, 1)} pathways/s over the whole depth-first run)` : ''}. ` +
          `Its work time, ${f(frDesc.work_ms / Math.max(1, rowsOf(frDesc)), 0)} ms per pathway per thread, would give ≳ ${f((2000 * rowsOf(frDesc)) / frDesc.work_ms, 0)} pathways/s with the 2 cores to itself. `
        : 'no fractured run. ') +
      `The Python stack (~${py.s_per_pathway_per_core} s per pathway per core: a 5-image IDPP in a 95-atom supercell ~${py.idpp_5image_95atom_s} s, ~${py.ewald_96atom_acc3_s * 1000} ms per 96-atom Ewald image at accuracy 3) gives ~${pyRate.toFixed(1)} pathways/s on 2 cores` +
      `${frDesc?.rows_per_s ? `: the fractured rate here is ${(frDesc.rows_per_s / pyRate).toFixed(0)}× that` : ''}.`,
  );
  // Memory.
  const peak = Math.max(...r.runs.map((x) => x.max_rss_bytes));
  const worst = r.runs.find((x) => x.max_rss_bytes === peak);
  out.push(`- Peak RSS ≤ 1.5 GB: largest ${mb(peak)} MB (${worst ? `${worst.set} ${worst.mode}` : '–'}), ${judge(peak <= t.peak_rss_bytes)}.`);
  const fr = bundled.find((x) => x.mode === 'fractured');
  const fx = bundled.find((x) => x.mode === 'fixed');
  if (fr && fx) {
    const counts = (x: RunFigures) => x.stages.map((st) => `${st.stage} ${st.rows_done}/${st.rows_failed}`).join(', ');
    const same = counts(fr) === counts(fx);
    out.push(`- Fixed vs fractured on the whole screen: ${s(fx.wall_ms)} s against ${s(fr.wall_ms)} s (${(fx.wall_ms / fr.wall_ms).toFixed(2)}×); ${same ? 'the same rows done and failed per stage' : `rows done/failed differ: fixed ${counts(fx)}, fractured ${counts(fr)}`}.`);
  }
  out.push('');
  return out;
}

export const order = 70;

export function section(): string[] {
  const r = readJson<Result>(join(benchDir, 'results', 'pipeline.json'));
  return r ? pipelineSection(r) : ['## Pipeline', '', 'No results yet: run `npm run bench -- pipeline`.', ''];
}
