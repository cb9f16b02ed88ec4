/**
 * Stage 3, `descriptors`: the DDI descriptors of every pathway (src/analysis/descriptors.ts), one row
 * per row of the `pathways` table (emitted by find_paths) of the screen's parameters (ion, length,
 * limit and hop equivalence).
 *
 * `dimensionality_cumbarriers` needs the ewald_energy of every hop class of the structure, so the
 * descriptors are computed per structure (`pathwayDescriptors` on the sanitised cell and the hop list
 * the pathways row carries: nothing is sanitised or searched again) and each row takes its hop; the
 * rows of one structure share a priority and are adjacent in the queue, so they usually share a batch,
 * and a per-thread memo of recent structures covers the rest.
 *
 * The IDPP mode (`exact`, pymatgen's IDPPSolver and the DDI numbers, or `fast`) is a stage parameter
 * ({@link descriptorsStage}); a fast row's key ends in `@idpp-fast`, so the two modes are different
 * rows and switching mode is new work, never a silent mix.
 *
 * A missing radius or a failed bond-valence assignment leaves that column null with its `*_reason`;
 * the row is still done. Default priority: nsites_777, structure nsites, then length, all ascending —
 * the length of the structure's shortest hop (dmin) across structures, then each hop's own length
 * within a structure, so that a structure's pathways stay adjacent in the queue.
 */
import type { RecordBatch } from 'apache-arrow';
import type { ColumnDef } from '../stage-kit/arrow.js';
import { defineStage, StageError, type ColumnType, type Stage, type WorkContext } from '../stage-kit/stage.js';
import { pathwayDescriptors, type PathwayDescriptors } from '../analysis/descriptors.js';
import { IDPP_MODES, type IdppMode } from '../kernels/idpp.js';
import { STRUCTURE_INPUTS, batchRows, mapRows, rowHops, rowsBatch, screenParams, structureFromColumns, type ScreenParams } from './pathways.js';

const OUTPUT = {
  oxidation_state: 'float64',
  oxidation_method: 'utf8',
  oxidation_reason: 'utf8',
  dimensionality: 'int32',
  dimensionality_cumlengths: 'int32',
  dimensionality_cumbarriers: 'int32',
  dimensionality_cumbarriers_reason: 'utf8',
  percolation_1d: 'float64',
  percolation_2d: 'float64',
  percolation_3d: 'float64',
  supercell_scaling: 'utf8',
  n_sites_per_image: 'int32',
  idpp_iterations: 'int32',
  idpp_converged: 'bool',
  ewald_energy: 'float64',
  ewald_reason: 'utf8',
  ionic_radii_overlap_cations: 'float64',
  ionic_radii_overlap_cations_reason: 'utf8',
  ionic_radii_overlap_anions: 'float64',
  ionic_radii_overlap_anions_reason: 'utf8',
} as const satisfies Record<string, ColumnType>;
const OUTPUT_DEFS: ColumnDef[] = [{ name: 'key', type: 'utf8' }, ...Object.entries(OUTPUT).map(([name, type]) => ({ name, type }))];

/**
 * IDPP mode of the screen's descriptors and images stages unless told otherwise: `fast`, whose
 * descriptors do not depend on the file format, cell setting or last-bit rounding (the ranking sorts
 * on ewald_energy), ranking as the exact mode does (Spearman ≥ 0.995 on the bundled set; BENCHMARKS.md,
 * "IDPP modes"). `exact` reproduces the DDI numbers. The library's pathwayDescriptors and the
 * `descriptors` command keep exact as their default.
 */
export const DEFAULT_SCREEN_IDPP: IdppMode = 'fast';

/** The IDPP mode parameter, validated; the message names the parameter and the value. */
export function idppModeParam(v: unknown): IdppMode {
  const mode = v ?? DEFAULT_SCREEN_IDPP;
  if (!IDPP_MODES.includes(mode as IdppMode)) throw new StageError(`idpp must be 'exact' or 'fast', got ${JSON.stringify(v)}`);
  return mode as IdppMode;
}

/** Suffix of a descriptors (and so images) row key per IDPP mode: the exact keys are those of earlier stores. */
export function idppKeySuffix(mode: IdppMode): string {
  return mode === 'exact' ? '' : `@idpp-${mode}`;
}

/** The parameters of a descriptors stage (its stage parameters). */
export interface DescriptorsParams extends ScreenParams {
  idpp: IdppMode;
}

/** Per-thread memo: find_paths key and mode → descriptor rows of its structure. */
const byStructure = new Map<string, PathwayDescriptors[]>();
const byRow = new Map<string, Record<string, unknown>>();

/**
 * The descriptors of every pathway of the row's structure: computed once per structure (the rows of
 * one structure are adjacent in the queue and mostly share a batch; a per-thread memo covers the rest)
 * on the sanitised cell and the hop list the pathways row carries, so nothing is sanitised or searched
 * again.
 */
function structureRows(row: Record<string, unknown>, p: DescriptorsParams): PathwayDescriptors[] {
  const k = `${String(row['find_paths_key'])}${idppKeySuffix(p.idpp)}`;
  let rows = byStructure.get(k);
  if (!rows) {
    const s = structureFromColumns(row['lattice'], row['species'], row['frac_coords'], row['oxidation_states']);
    // The site limit is find_paths' (this row passed it); not checked again with the default.
    rows = pathwayDescriptors(s, { ion: p.ion, maxLengthAng: p.maxLengthAng, limit: p.limit, equivalence: p.equivalence, idpp: p.idpp, sanitize: false, hops: rowHops(row), maxSites: s.species.length });
    if (byStructure.size >= 256) byStructure.clear();
    byStructure.set(k, rows);
  }
  return rows;
}

/** The descriptor columns of one pathway row. */
export function descriptorsOfRow(row: Record<string, unknown>, p: DescriptorsParams): Record<string, unknown> {
  const index = row['hop_index'] as number;
  const d = structureRows(row, p).find((r) => r.hop_index === index);
  if (!d) throw new Error(`hop ${index} is not among the hops of its pathways row (${String(row['find_paths_key'])})`);
  const out: Record<string, unknown> = { key: row['key'] };
  for (const c of Object.keys(OUTPUT)) out[c] = (d as unknown as Record<string, unknown>)[c] ?? null;
  out['supercell_scaling'] = d.supercell_scaling.join('x');
  return out;
}

/** The parameters of a descriptors stage, validated. */
export function descriptorsParams(v: Readonly<Record<string, unknown>>): DescriptorsParams {
  return { ...screenParams(v as Partial<ScreenParams>), idpp: idppModeParam(v['idpp']) };
}

function work(batch: RecordBatch, ctx: WorkContext): RecordBatch {
  const p = descriptorsParams(ctx.params);
  // Row keys carry the mode, so one memo serves both.
  return rowsBatch(OUTPUT_DEFS, mapRows(batchRows(batch), byRow, (row) => descriptorsOfRow(row, p)));
}

/**
 * The descriptors stage (fed by `pathways`) for the screen's parameters and IDPP mode `idpp`: it admits
 * the pathways of those parameters, and its rows are keyed by mode (the exact keys are the pathway keys,
 * those of earlier stores; the fast keys end in `@idpp-fast`), so switching mode is new work, never a mix.
 */
export function descriptorsStage(idpp: IdppMode = DEFAULT_SCREEN_IDPP, params: Partial<ScreenParams> = {}): Stage {
  const mode = idppModeParam(idpp);
  const p = screenParams(params);
  return defineStage({
    module: import.meta.url,
    name: 'descriptors',
    input: {
      from: 'pathways',
      key: `{key}${idppKeySuffix(mode)}`,
      columns: {
        find_paths_key: { type: 'utf8', from: 'source_key' },
        structure_id: 'utf8',
        content_hash: 'utf8',
        formula: 'utf8',
        // Sites of the sanitised cell the pathways and descriptors are computed in.
        nsites: 'int32',
        ion: 'utf8',
        max_length: 'float64',
        hop_limit: 'int32',
        equivalence: 'utf8',
        space_group: 'utf8',
        hop_index: 'int32',
        start_frac: 'utf8',
        end_frac: 'utf8',
        end_image: 'utf8',
        length: 'float64',
        multiplicity: 'int32',
        ion_fraction: 'float64',
        nsites_777: 'int32',
        nsites_101010: 'int32',
        nsites_121212: 'int32',
        dmin: 'float64',
        length_rel_dmin: 'float64',
        ...STRUCTURE_INPUTS,
        hops_json: 'utf8',
        idpp: { type: 'utf8', value: mode },
      },
    },
    // The pathways of this screen's parameters (a store may hold those of other runs too), the hop
    // equivalence included: the two modes' pathways of one structure are different pathway sets.
    filter: { sql: `ion = '${p.ion}' AND max_length = ${p.maxLengthAng} AND hop_limit = ${p.limit} AND equivalence = '${p.equivalence}'` },
    // Ascending nsites_777, then nsites, then dmin, as one number (higher runs first; nsites exact while
    // below 10^6; dmin resolved to ~1e-4 Å at nsites_777 ≈ 5000, finer for smaller cells), then the row
    // id: a structure's pathways are admitted
    // together in hop order (ascending length), so they stay adjacent in the queue and mostly share a
    // batch. Ranking by each hop's own length across structures interleaved structures of equal size,
    // so each batch recomputed the descriptors of several structures for one hop each (descriptors are
    // computed per structure: dimensionality_cumbarriers needs every hop's ewald_energy): the whole
    // bundled set ran at 5.4 pathways/s that way, against 17.9 pathways/s with structures kept together.
    priority: '-(nsites_777 * 1e6 + nsites + min(dmin, 99.999999) / 100)',
    output: OUTPUT,
    work,
    workers: 2,
    // At most 5 pathways per structure by default: 10 rows are about two whole structures.
    batchSize: 10,
    // A structure's descriptors are computed together: a structure cut between two batches was
    // computed by both threads (385 batches of the bundled screen cut ~190 structures so; descriptors
    // work 60.9 s fractured against 43.6 s fixed, where a workflow keeps a structure on one thread).
    batchGroup: 'find_paths_key',
    retry: { maxAttempts: 1, backoffMs: 0 },
    params: { ...p, idpp: mode },
  });
}

/** The descriptors stage in the default IDPP mode; workers find the work function under its name. */
export const descriptors: Stage = descriptorsStage();
