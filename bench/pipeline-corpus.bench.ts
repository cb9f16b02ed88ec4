/**
 * The whole Materials Project scale: a ~10,000-structure corpus through every cheap stage of the screen
 * — import → find_paths → descriptors → images and VASP folders — end to end with `runScreen` in the
 * fractured architecture (2 worker threads per stage, the screen's defaults), once per IDPP mode, each
 * run in its own child process on a fresh SQLite file (bench/pipeline.bench.ts does the run and the
 * figures: per stage rows, window and rows/s; import, engine and whole wall time; peak RSS).
 *
 * The corpus is the default bundled set (959 structures) repeated under new ids (`<source id>~<copy>`)
 * up to `FRACFLOW_BENCH_CORPUS` structures (default 10,000); every copy is its own row in every stage
 * and is computed (no stage skips identical content), as for a corpus of different structures of the
 * same sizes. The images stage writes ~20 files per admitted pathway; the run's folder is deleted after
 * it. Targets (issue 14, 2 cores): ≤ 25 min exact, ≤ 10 min fast, peak RSS ≤ 2 GB.
 *
 * Unattended: `npm run bench -- pipeline-corpus` (about an hour on a quiet 2-core machine);
 * `FRACFLOW_BENCH_CORPUS=1000` for a shorter provisional run, `FRACFLOW_BENCH_QUICK=1` for a smoke run
 * (80 structures). Writes bench/results/pipeline-corpus.json.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdppMode } from '../src/kernels/idpp.js';
import { defaultSet, record, runChild, type RunFigures } from './pipeline.bench.js';
import { writeResults, quick } from './common.js';

const TARGETS = { exact_wall_s: 25 * 60, fast_wall_s: 10 * 60, peak_rss_bytes: 2 * 1024 ** 3 };

async function main(): Promise<void> {
  const loadStart = loadavg();
  const base = defaultSet();
  const size = quick ? 80 : Number(process.env.FRACFLOW_BENCH_CORPUS ?? 10000);
  if (!Number.isInteger(size) || size < 1) throw new Error(`FRACFLOW_BENCH_CORPUS must be a positive integer, got ${process.env.FRACFLOW_BENCH_CORPUS}`);
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-corpus-'));
  try {
    const corpus = Array.from({ length: size }, (_, k) => {
      const b = base[k % base.length]!;
      return record(`${b.id}~${Math.floor(k / base.length)}`, b.structure);
    });
    const corpusFile = join(dir, 'corpus.jsonl');
    writeFileSync(corpusFile, corpus.join('\n') + '\n');
    const runs: RunFigures[] = [];
    const modes = (process.env.FRACFLOW_BENCH_IDPP ?? 'fast,exact').split(',').map((m) => m.trim()) as IdppMode[];
    for (const idpp of modes) {
      const name = `corpus-all-stages-${idpp}`;
      const runDir = join(dir, name);
      mkdirSync(runDir);
      runs.push(runChild({
        name, set: 'corpus', mode: 'fractured', until: 'images', idpp,
        source: { kind: 'files', paths: [corpusFile], dataset: 'corpus' }, structuresIn: size,
        db: join(runDir, 'screen.db'), outDir: join(runDir, 'out'),
      }));
      rmSync(runDir, { recursive: true, force: true });
    }
    writeResults('pipeline-corpus', {
      load_average_start: loadStart,
      load_average_end: loadavg(),
      default_set_structures: base.length,
      corpus_structures: size,
      targets: TARGETS,
      runs,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
