/**
 * The whole Materials Project scale: a ~10,000-structure corpus through every cheap stage of the screen
 * — import → find_paths → descriptors → images and VASP folders — end to end with `runScreen` in the
 * fractured architecture (the screen's defaults), once per IDPP mode, each
 * run in its own child process on a fresh SQLite file (bench/pipeline.bench.ts does the run and the
 * figures: per stage rows, window and rows/s; import, engine and whole wall time; peak RSS).
 *
 * The corpus is the default bundled set (its distinct structures) repeated under new ids
 * (`<source id>~<copy>`), each copy's lattice scaled by 1 + 10⁻⁶·copy (same symmetry and hops, other
 * content: the screen admits only the first of identical structures), so every copy is its own row in
 * every stage and is computed, as for a corpus of different structures of the same sizes. The images stage writes ~20 files per admitted pathway; the run's folder is deleted after
 * it. Targets (issue 14, 2 cores): ≤ 25 min exact, ≤ 10 min fast, peak RSS ≤ 2 GB.
 *
 * Options (after the suite name: `npm run bench -- pipeline-corpus --structures 2000 --idpp fast`):
 * `--structures N` corpus size (default 10,000; `FRACFLOW_BENCH_CORPUS` is read when the option is
 * absent), `--idpp fast|exact|fast,exact` the modes to run (default both). The results file keeps one
 * run per mode: a run replaces the earlier run of its mode and leaves the other's, so on a busy
 * machine the fast mode can run at full size and the exact mode at a smaller one. Every run records its
 * CPU time (worker threads included) and the load average, so a run on a shared machine can be
 * scaled: CPU s / 2 is the wall time 2 cores of its own would take. `FRACFLOW_BENCH_QUICK=1`: a smoke
 * run of 80 structures. About an hour for both modes at full size on a quiet 2-core machine.
 * Writes bench/results/pipeline-corpus.json.
 */
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IdppMode } from '../src/kernels/idpp.js';
import { defaultSet, record, runChild, type RunFigures } from './pipeline.bench.js';
import { benchDir, writeResults, quick } from './common.js';

const TARGETS = { exact_wall_s: 25 * 60, fast_wall_s: 10 * 60, peak_rss_bytes: 2 * 1024 ** 3 };

interface Args { structures: number; modes: IdppMode[] }

function parseArgs(argv: string[]): Args {
  let structures = quick ? 80 : Number(process.env.FRACFLOW_BENCH_CORPUS ?? 10000);
  let from = process.env.FRACFLOW_BENCH_CORPUS === undefined ? 'the default' : `FRACFLOW_BENCH_CORPUS=${process.env.FRACFLOW_BENCH_CORPUS}`;
  let modes: string[] = ['fast', 'exact'];
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    const value = () => {
      const v = argv[++k];
      if (v === undefined) throw new Error(`pipeline-corpus: ${a} needs a value`);
      return v;
    };
    if (a === '--structures') {
      const v = value();
      structures = Number(v);
      from = `--structures ${v}`;
    } else if (a === '--idpp') modes = value().split(',').map((m) => m.trim());
    else throw new Error(`pipeline-corpus: unknown option ${JSON.stringify(a)} (options: --structures N, --idpp fast|exact|fast,exact)`);
  }
  if (!Number.isInteger(structures) || structures < 1) throw new Error(`pipeline-corpus: the corpus size must be a positive integer, got ${from}`);
  const bad = modes.find((m) => m !== 'fast' && m !== 'exact');
  if (bad !== undefined || modes.length === 0) throw new Error(`pipeline-corpus: --idpp must be fast, exact or fast,exact, got ${JSON.stringify(modes.join(','))}`);
  return { structures, modes: modes as IdppMode[] };
}

interface CorpusRun extends RunFigures {
  date: string;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const base = defaultSet();
  const size = args.structures;
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-corpus-'));
  const resultsFile = join(benchDir, 'results', 'pipeline-corpus.json');
  // One run per mode: the other mode's earlier run stays (with its own size, date and load).
  const earlier = existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as { runs?: CorpusRun[] }).runs ?? [] : [];
  try {
    // Copy c of a structure has its lattice scaled by 1 + 1e-6·c: the same symmetry and hops, other
    // content, so the screen does not take it for a duplicate of the original (which it would skip).
    // Below the set's size, an evenly spread subset (the datasets follow one another in the set).
    const corpus = Array.from({ length: size }, (_, k) => {
      const b = size < base.length ? base[Math.floor((k * base.length) / size)]! : base[k % base.length]!;
      const copy = Math.floor(k / base.length);
      return record(`${b.id}~${copy}`, copy === 0 ? b.structure : { ...b.structure, lattice: b.structure.lattice.map((x) => x * (1 + 1e-6 * copy)) });
    });
    const corpusFile = join(dir, 'corpus.jsonl');
    writeFileSync(corpusFile, corpus.join('\n') + '\n');
    const runs: CorpusRun[] = [];
    for (const idpp of args.modes) {
      const name = `corpus-all-stages-${idpp}`;
      const runDir = join(dir, name);
      mkdirSync(runDir);
      const date = new Date().toISOString();
      runs.push({ ...runChild({
        name, set: 'corpus', mode: 'fractured', until: 'images', idpp,
        source: { kind: 'files', paths: [corpusFile], dataset: 'corpus' }, structuresIn: size,
        db: join(runDir, 'screen.db'), outDir: join(runDir, 'out'),
      }), date });
      rmSync(runDir, { recursive: true, force: true });
    }
    const kept = earlier.filter((r) => !args.modes.includes(r.idpp as IdppMode) && r.date !== undefined);
    writeResults('pipeline-corpus', {
      default_set_structures: base.length,
      targets: TARGETS,
      runs: [...runs, ...kept].sort((a, b) => (a.idpp === b.idpp ? 0 : a.idpp === 'fast' ? -1 : 1)),
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
