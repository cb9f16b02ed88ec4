/**
 * `fracflow screen`: the diffusion screen end to end — import (bundled data by default, or files and
 * folders, or the live Materials Project API), then find_paths → descriptors → images on the engine with
 * progress per stage, the top pathways by the images stage's priority, and a checkpoint.
 */
import type { Command } from 'commander';
import { InvalidArgumentError, Option } from 'commander';
import { dbOption, positiveNumber } from '../common.js';
import { DEFAULT_DB, describeLocation } from '../../store/location.js';
import { runScreen, seedScreen, SCREEN_STAGE_NAMES, type RankedPathway, type ScreenStageName } from '../../workflow/screen.js';
import { DEFAULT_BUNDLED, type StructureSource } from '../../workflow/structures.js';
import { DEFAULT_SCREEN_PARAMS } from '../../stages/pathways.js';
import { DEFAULT_SCREEN_IDPP } from '../../stages/descriptors.js';
import { IDPP_MODES, type IdppMode } from '../../kernels/idpp.js';
import type { ProgressMode } from '../../engine/progress.js';
import { isElement } from '../../structure/elements.js';
import { statusLine } from '../../engine/progress.js';
import { printImport } from '../report.js';
import { formatTable } from '../table.js';
import { SignalStop } from '../signals.js';
import { DEFAULT_MAX_SITES } from '../../analysis/site-limit.js';
import { DEFAULT_READ_LIMITS, MIB } from '../../structure/limits.js';
import { maxSitesOption } from '../progress.js';
import { equivalenceOption } from './paths.js';
import type { HopEquivalence } from '../../analysis/pathfinder.js';

interface ScreenOpts {
  input?: string[];
  recursive?: boolean;
  datasets: string;
  mpApi?: boolean;
  mpApiKey?: string;
  mpBaseUrl?: string;
  ion: string;
  maxLength: number;
  limit: number;
  db: string;
  out: string;
  mode: 'fractured' | 'fixed';
  workers?: number;
  cpuBudget?: number;
  supercellMin: number;
  top: number;
  progress: ProgressMode;
  progressEvery: number;
  json?: boolean;
  until: ScreenStageName;
  maxSites: number;
  maxFileMb?: number;
  idpp: IdppMode;
  seedOnly?: boolean;
  equivalence: HopEquivalence;
}

function integer(name: string, min: number) {
  return (v: string): number => {
    const x = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(x) || x < min) throw new InvalidArgumentError(`${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    return x;
  };
}

function ionOption(v: string): string {
  const el = v.replace(/[+-]$/, '');
  if (!isElement(el)) throw new InvalidArgumentError(`--ion must be an element symbol, got ${JSON.stringify(v)}`);
  return el;
}

function collect(v: string, prev: string[] | undefined): string[] {
  return [...(prev ?? []), v];
}

const num = (x: number | null, d: number) => (x === null ? '–' : x.toFixed(d));

function rankingTable(rows: readonly RankedPathway[]): string {
  return formatTable(
    ['#', 'structure', 'formula', 'hop', 'length', 'mult', 'nsites_777', 'oxi', 'dim', 'dim_cumlen', 'dim_cumbar', 'ewald_energy', 'overlap_cat', 'overlap_an'],
    rows.map((r, i) => [
      String(i + 1), r.structure_id, r.formula, String(r.hop_index), r.length.toFixed(4), String(r.multiplicity), String(r.nsites_777),
      r.oxidation_state === null ? '–' : String(r.oxidation_state), String(r.dimensionality), String(r.dimensionality_cumlengths),
      r.dimensionality_cumbarriers === null ? '–' : String(r.dimensionality_cumbarriers), num(r.ewald_energy, 5),
      num(r.ionic_radii_overlap_cations, 4), num(r.ionic_radii_overlap_anions, 4),
    ]),
  );
}

export function register(program: Command): void {
  program
    .command('screen')
    .description('the diffusion screen: import, then find_paths (the pathways table) → descriptors → images/VASP inputs on the engine; prints the top pathways and writes a checkpoint')
    .option('--input <path>', 'structure file or folder to screen (repeatable; default: the bundled data)', collect)
    .option('-r, --recursive', 'descend into sub-folders of --input folders')
    .option('--max-file-mb <n>', 'largest --input file read, in MiB after decompression (default 256)', integer('--max-file-mb', 1))
    .option('--datasets <names>', 'bundled datasets screened when no --input / --mp-api is given', DEFAULT_BUNDLED.join(','))
    .option('--mp-api', 'import from the live Materials Project API (key from --mp-api-key or MP_API_KEY)')
    .option('--mp-api-key <key>', 'Materials Project API key (implies --mp-api); default $MP_API_KEY')
    .option('--mp-base-url <url>', 'API server root (default https://api.materialsproject.org)')
    .option('--ion <element>', 'migrating element', ionOption, DEFAULT_SCREEN_PARAMS.ion)
    .option('--max-length <angstrom>', 'maximum hop length, Å', positiveNumber('--max-length'), DEFAULT_SCREEN_PARAMS.maxLengthAng)
    .option('--limit <n>', 'distinct hops kept per structure (0 = all)', integer('--limit', 0), DEFAULT_SCREEN_PARAMS.limit)
    .addOption(equivalenceOption().default(DEFAULT_SCREEN_PARAMS.equivalence))
    .addOption(dbOption())
    .option('--out <dir>', 'output folder (images/ per pathway, checkpoint/)', 'screen-out')
    .addOption(new Option('--mode <mode>', 'architecture: fractured (stage tables, ranked queues) or fixed (one structure depth-first)').choices(['fractured', 'fixed']).default('fractured'))
    .option('--workers <n>', 'workers per stage: the most of its batches running at once (fixed: workflows at a time); default: the number of cores', integer('--workers', 1))
    .option('--cpu-budget <n>', 'CPU-bound batches running at once across stages (the stages share the cores); default: the number of cores', integer('--cpu-budget', 1))
    .option('--supercell-min <angstrom>', 'supercell rule length of the images and DFT inputs, Å', positiveNumber('--supercell-min'), 7)
    .addOption(new Option('--idpp <mode>', 'IDPP of descriptors and images: fast (converged L-BFGS, independent of cell setting and format) or exact (pymatgen\'s IDPPSolver, reproduces the DDI numbers)').choices([...IDPP_MODES]).default(DEFAULT_SCREEN_IDPP))
    .option('--top <n>', 'pathways printed', integer('--top', 0), 20)
    .addOption(new Option('--progress <mode>', 'progress on stderr').choices(['auto', 'bars', 'lines', 'off']).default('auto'))
    .option('--progress-every <s>', 'seconds between plain progress lines', integer('--progress-every', 1), 10)
    .option('--json', 'print the top pathways as JSON lines instead of a table')
    .addOption(new Option('--until <stage>', 'last stage to run (the ranking needs images)').choices([...SCREEN_STAGE_NAMES]).default('images'))
    .option('--max-sites <n>', `structures with more sites fail find_paths with that reason; the import reads structures up to this size too (default ${DEFAULT_MAX_SITES})`, maxSitesOption, DEFAULT_MAX_SITES)
    .option('--seed-only', 'import and register the stages (with these parameters) and admit the structures, but run nothing: stage workers run them (`fracflow worker`, `fracflow launch slurm`)')
    .action(async (opts: ScreenOpts) => {
      const useApi = opts.mpApi === true || opts.mpApiKey !== undefined;
      if (useApi && opts.input) throw new InvalidArgumentError('give either --input or --mp-api / --mp-api-key, not both');
      let source: StructureSource;
      if (opts.input) source = { kind: 'files', paths: opts.input, recursive: opts.recursive };
      else if (useApi) source = { kind: 'mp-api', options: { apiKey: opts.mpApiKey, element: opts.ion, baseUrl: opts.mpBaseUrl } };
      else source = { kind: 'bundled', datasets: opts.datasets.split(',').map((s) => s.trim()).filter(Boolean) };
      if (opts.seedOnly) {
        const seed = await seedScreen({
          db: opts.db, source, ion: opts.ion, maxLengthAng: opts.maxLength, limit: opts.limit, outDir: opts.out, workers: opts.workers,
          supercellMinLengthAng: opts.supercellMin, until: opts.until, maxSites: opts.maxSites, idpp: opts.idpp,
          limits: { maxSites: Math.max(DEFAULT_READ_LIMITS.maxSites, opts.maxSites), maxBytes: opts.maxFileMb === undefined ? undefined : opts.maxFileMb * MIB },
        });
        if (!opts.json) printImport(seed.imports);
        console.log(`seeded ${opts.db}: stages ${seed.stages.join(', ')} registered, ${seed.admitted} rows admitted; run them with \`fracflow worker --db ${opts.db} --stage <stage>\` on any host, or \`fracflow launch slurm --db ${opts.db} --stage <stage> ... --submit\``);
        return;
      }
      const stop = new AbortController();
      const signals = new SignalStop(stop);
      let r: Awaited<ReturnType<typeof runScreen>>;
      try {
        r = await runScreen({
          db: opts.db, source, ion: opts.ion, maxLengthAng: opts.maxLength, limit: opts.limit, outDir: opts.out, mode: opts.mode,
          workers: opts.workers, cpuBudget: opts.cpuBudget, supercellMinLengthAng: opts.supercellMin, top: opts.top, progress: opts.progress, progressEverySec: opts.progressEvery,
          until: opts.until, maxSites: opts.maxSites, idpp: opts.idpp, equivalence: opts.equivalence,
          limits: { maxSites: Math.max(DEFAULT_READ_LIMITS.maxSites, opts.maxSites), maxBytes: opts.maxFileMb === undefined ? undefined : opts.maxFileMb * MIB },
          signal: stop.signal, onEngine: (e) => (signals.hardStop = () => e.abandon()),
        });
      } finally {
        signals.dispose();
      }
      // A stop by signal, a halted stage or rows failed for reasons other than the science: not a
      // complete screen, so not exit 0 (a signal gives 128 + its number, the rest 1).
      if (r.incomplete.length > 0) process.exitCode = signals.exitCode ?? 1;
      if (opts.json) {
        for (const row of r.top) console.log(JSON.stringify(row));
        for (const line of r.incomplete) console.error(`fracflow: ${line}`);
        return;
      }
      printImport(r.imports);
      console.log('');
      for (const s of r.status) console.log(statusLine(s));
      console.log(`${r.run.mode} run: ${(r.run.wallMs / 1000).toFixed(1)} s`);
      console.log('');
      if (r.run.stopped) console.log('stopped: no ranking');
      else if (opts.until === 'images') {
        console.log(`top ${r.top.length} pathways (gate: dimensionality >= 1; ewald_energy ascending, then nsites_777):`);
        console.log(rankingTable(r.top));
      } else console.log(`stopped after ${opts.until}: no ranking (it needs the images stage); the pathways table lists one row per pathway`);
      console.log('');
      const science = r.status.reduce((n, x) => n + x.failed - x.failedDied, 0);
      if (science > 0) console.log(`${science} rows failed as results of the science (e.g. no ${opts.ion} in the structure, a path through an atom): \`fracflow errors${opts.db === DEFAULT_DB ? '' : ` --db ${describeLocation(opts.db)}`}\` lists them`);
      console.log(`store: ${describeLocation(opts.db)}; images and DFT inputs: ${opts.out}/images; checkpoint: ${r.checkpointFiles.length ? `${opts.out}/checkpoint` : 'not written (the run did not finish)'}`);
      for (const line of r.incomplete) console.log(`incomplete: ${line}`);
    });
}
