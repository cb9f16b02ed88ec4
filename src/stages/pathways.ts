/**
 * Stage 2: `find_paths` finds the distinct hops of the migrating ion (default F) up to `maxLength` Å,
 * the `limit` shortest per structure, in the sanitised cell (primitive at symprec 0.1, LLL, wrapped,
 * electronegativity order), with the hop equivalence `equivalence` (`fracflow`, the default, or
 * `pymatgen`, DistinctPathFinder's list), and emits the `pathways` table: one row per pathway.
 *
 * The stage's unit of work is a structure: one `find_paths` row per (structure, ion, maxLength, limit,
 * equivalence, content hash) of every structure that is not a content duplicate of an earlier one, holding the
 * per-structure columns (space group, hop counts, ion fraction, nsites_777/_101010/_121212, dmin); a
 * structure without the ion, or whose symmetry search fails, is a failed row with the reason. The
 * `pathways` rows of a structure are written in the same unit of work as its find_paths row, each
 * with its own key (`<find_paths key>#<hop index>`), and carry the sanitised cell and the hop list, so
 * the descriptors and images stages take them as they are.
 *
 * The key holds the parameters and the content hash, so a changed structure or another
 * ion/length/limit/equivalence is new work, and a rerun with the same inputs finds every key present
 * and recomputes nothing. The default equivalence adds nothing to the key (the keys of stores made
 * before the modes); `pymatgen` adds `|hops-pymatgen` before the content hash, so the rows of the two
 * modes never mix, down to the descriptors and images keys that extend it.
 */
import type { RecordBatch } from 'apache-arrow';
import { columnValues, makeBatch, type ColumnDef } from '../stage-kit/arrow.js';
import { defineStage, StageError, type ColumnType, type FanOut, type Stage, type WorkContext } from '../stage-kit/stage.js';
import { createStructure, type Structure } from '../structure/structure.js';
import { sanitize } from '../structure/sanitize.js';
import { DEFAULT_SYMPREC, primitiveReduction } from '../structure/symmetry.js';
import { minLengthScaling } from '../kernels/supercell.js';
import { DEFAULT_HOP_LIMIT, DEFAULT_MAX_LENGTH_ANG, HOP_EQUIVALENCES, findHops, ionElement, type HopEquivalence, type HopResult } from '../analysis/pathfinder.js';
import { HOP_JSON_FORMAT, hopsFromJson } from '../analysis/hop-images.js';
import { DEFAULT_MAX_SITES, checkSiteCount, maxSitesProblem } from '../analysis/site-limit.js';

/** Parameters shared by the pathway, descriptor and image stages. */
export interface ScreenParams {
  /** Migrating element. Default F. */
  ion: string;
  /** Maximum hop length, Å. Default 5. */
  maxLengthAng: number;
  /** Distinct hops kept per structure (0 = all). Default 5. */
  limit: number;
  /**
   * Which hops are distinct (`findHops`' `equivalence`): `fracflow` (default) merges every member of a
   * symmetry orbit; `pymatgen` lists DistinctPathFinder's hops, the DDI pathway set.
   */
  equivalence: HopEquivalence;
}

export const DEFAULT_SCREEN_PARAMS: Readonly<ScreenParams> = { ion: 'F', maxLengthAng: DEFAULT_MAX_LENGTH_ANG, limit: DEFAULT_HOP_LIMIT, equivalence: 'fracflow' };

/**
 * The part of a find_paths key (and so of its pathways, descriptors and images keys) that names the
 * equivalence mode: empty for the default, whose keys are those of stores made before the modes.
 */
export function equivalenceKeyPart(mode: HopEquivalence): string {
  return mode === 'fracflow' ? '' : `|hops-${mode}`;
}

/** Validate and complete the parameters; the message names the parameter and the value. */
export function screenParams(p: Partial<ScreenParams> = {}): ScreenParams {
  const ion = p.ion ?? DEFAULT_SCREEN_PARAMS.ion;
  if (typeof ion !== 'string' || !/^[A-Z][a-z]?[+-]?$/.test(ion)) throw new StageError(`ion must be an element symbol such as F or Li, got ${JSON.stringify(ion)}`);
  const maxLengthAng = p.maxLengthAng ?? DEFAULT_SCREEN_PARAMS.maxLengthAng;
  if (typeof maxLengthAng !== 'number' || !Number.isFinite(maxLengthAng) || maxLengthAng <= 0) throw new StageError(`maxLengthAng must be a positive number, got ${JSON.stringify(maxLengthAng)}`);
  const limit = p.limit ?? DEFAULT_SCREEN_PARAMS.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) throw new StageError(`limit must be a non-negative integer, got ${JSON.stringify(limit)}`);
  const equivalence = p.equivalence ?? DEFAULT_SCREEN_PARAMS.equivalence;
  if (!HOP_EQUIVALENCES.includes(equivalence)) throw new StageError(`equivalence must be ${HOP_EQUIVALENCES.map((m) => `'${m}'`).join(' or ')}, got ${JSON.stringify(p.equivalence)}`);
  return { ion: ionElement(ion), maxLengthAng, limit, equivalence };
}

/** The sanitised cell of a structure and its distinct hops: the one definition the later stages reuse. */
export function structurePathways(structure: Structure, p: ScreenParams): { structure: Structure; hops: HopResult } {
  const s = sanitize(structure, { symprec: DEFAULT_SYMPREC }).structure;
  const reduction = primitiveReduction(s, { symprec: DEFAULT_SYMPREC });
  // The site limit is find_paths' (pathwaysOfRow checks the stored structure against the stage's
  // maxSites); the stages after it take whatever find_paths took.
  const hops = findHops(s, { ion: p.ion, maxLengthAng: p.maxLengthAng, limit: p.limit, symprec: DEFAULT_SYMPREC, reduction, maxSites: s.species.length, equivalence: p.equivalence });
  return { structure: s, hops };
}

function f64(v: unknown, what: string): Float64Array {
  if (!(v instanceof Uint8Array) || v.byteLength % 8 !== 0) throw new StageError(`${what} must be a binary column of float64 values, got ${v === null ? 'null' : typeof v}`);
  // Copy: Arrow's value buffers need not be 8-byte aligned for a Float64Array view.
  const out = new Float64Array(v.byteLength / 8);
  new Uint8Array(out.buffer).set(v);
  return out;
}

/** The structure stored in the compact binary columns of the `structures` table (as stage inputs). */
export function structureFromColumns(lattice: unknown, species: unknown, frac: unknown, oxidationStates: unknown): Structure {
  if (typeof species !== 'string') throw new StageError(`species must be a space-separated string, got ${JSON.stringify(species)}`);
  return createStructure(
    {
      lattice: f64(lattice, 'lattice'),
      species: species.split(' '),
      frac: f64(frac, 'frac_coords'),
      oxidationStates: oxidationStates === null || oxidationStates === undefined ? null : f64(oxidationStates, 'oxidation_states'),
    },
    { checkOverlap: false, allowLeftHanded: true },
  );
}

/** Input columns of a stage fed (directly or indirectly) from `structures`: the structure itself. */
export const STRUCTURE_INPUTS: Record<string, ColumnType> = { lattice: 'binary', species: 'utf8', frac_coords: 'binary', oxidation_states: 'binary' };

/** Rows of a batch as objects (the stage inputs are few and small next to the work per row). */
export function batchRows(batch: RecordBatch): Record<string, unknown>[] {
  const names = batch.schema.fields.map((f) => f.name);
  const cols = names.map((n) => columnValues(batch, n));
  const rows: Record<string, unknown>[] = [];
  for (let r = 0; r < batch.numRows; r++) {
    const o: Record<string, unknown> = {};
    names.forEach((n, c) => (o[n] = cols[c]![r]));
    rows.push(o);
  }
  return rows;
}

/** A batch of `defs` from row objects (missing fields are null). */
export function rowsBatch(defs: readonly ColumnDef[], rows: readonly Record<string, unknown>[]): RecordBatch {
  return makeBatch(defs, defs.map((d) => rows.map((r) => r[d.name] ?? null)));
}

/**
 * Runs `f` per row and returns the rows. A row that throws makes the whole call throw with its message
 * (prefixed by the structure id; an error of a system call is thrown as it is): the engine then bisects the batch down to that row and records it as
 * failed with the message, while `memo` keeps the rows already computed from being computed again.
 */
export function mapRows<T>(rows: readonly Record<string, unknown>[], memo: Map<string, T>, f: (row: Record<string, unknown>) => T): T[] {
  const out: T[] = [];
  for (const row of rows) {
    const key = String(row['key']);
    let v = memo.get(key);
    if (v === undefined) {
      try {
        v = f(row);
      } catch (e) {
        // An error of the file system (a full disk, a read-only folder) is not the row's: it travels
        // as it is, so that the engine can halt the stage and name the path.
        if (e instanceof Error && typeof (e as NodeJS.ErrnoException).syscall === 'string') throw e;
        throw new Error(`${String(row['structure_id'] ?? key)}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      }
      if (memo.size >= 4096) memo.clear();
      memo.set(key, v);
    }
    out.push(v);
  }
  return out;
}

const OUTPUT = {
  space_group: 'utf8',
  sanitized_nsites: 'int32',
  n_hops: 'int32',
  distinct_hops: 'int32',
  ion_fraction: 'float64',
  nsites_777: 'int32',
  nsites_101010: 'int32',
  nsites_121212: 'int32',
  dmin: 'float64',
} as const satisfies Record<string, ColumnType>;
const OUTPUT_DEFS: ColumnDef[] = [{ name: 'key', type: 'utf8' }, ...Object.entries(OUTPUT).map(([name, type]) => ({ name, type }))];

/**
 * The `pathways` table: one row per pathway, emitted by find_paths — the structure's identity and
 * per-structure columns, the hop (index in canonical order, end sites, start/end fractional
 * coordinates and end image as JSON arrays, length, multiplicity, (length − dmin)/dmin), the sanitised
 * cell itself (so that the stages after it never sanitise again) and the structure's whole hop list
 * (`hops_json`, the pathfinder's result, so that they never search again).
 */
export const PATHWAY_COLUMNS = {
  structure_id: 'utf8',
  content_hash: 'utf8',
  formula: 'utf8',
  ion: 'utf8',
  max_length: 'float64',
  hop_limit: 'int32',
  equivalence: 'utf8',
  space_group: 'utf8',
  nsites: 'int32',
  hop_index: 'int32',
  start_site: 'int32',
  end_site: 'int32',
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
} as const satisfies Record<string, ColumnType>;
const EMIT_DEFS: ColumnDef[] = [{ name: 'key', type: 'utf8' }, { name: 'source', type: 'utf8' }, ...Object.entries(PATHWAY_COLUMNS).map(([name, type]) => ({ name, type }))];

function nsitesFor(s: Structure, lengthAng: number): number {
  const sc = minLengthScaling(s, lengthAng);
  return s.species.length * sc[0] * sc[1] * sc[2];
}

function f64Bytes(a: Float64Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

/** The parameters of find_paths (its stage parameters). */
export interface FindPathsParams extends ScreenParams {
  /** Structures with more sites fail with a SiteLimitError. Default {@link DEFAULT_MAX_SITES}. */
  maxSites: number;
}

/**
 * The per-structure columns of one find_paths row and its pathways rows (inputs: the stored
 * structure and its identity columns). A structure of more than `maxSites` sites is refused
 * (SiteLimitError: a failed row whose message names the count, the limit and the option that raises it).
 */
export function pathwaysOfRow(row: Record<string, unknown>, p: FindPathsParams): { row: Record<string, unknown>; pathways: Record<string, unknown>[] } {
  const input = structureFromColumns(row['lattice'], row['species'], row['frac_coords'], row['oxidation_states']);
  checkSiteCount(input, p.maxSites, 'the find_paths stage', 'then `fracflow requeue find_paths --failed` and screen again');
  const { structure: s, hops } = structurePathways(input, p);
  const dmin = hops.hops.length > 0 ? hops.hops[0]!.lengthAng : null;
  const out = {
    key: row['key'],
    space_group: `${hops.spaceGroup.symbol} (${hops.spaceGroup.number})`,
    sanitized_nsites: s.species.length,
    n_hops: hops.hops.length,
    distinct_hops: hops.distinctCount,
    ion_fraction: s.species.filter((x) => x === p.ion).length / s.species.length,
    nsites_777: nsitesFor(s, 7),
    nsites_101010: nsitesFor(s, 10),
    nsites_121212: nsitesFor(s, 12),
    dmin,
  };
  const structure = {
    lattice: f64Bytes(s.lattice),
    species: s.species.join(' '),
    frac_coords: f64Bytes(s.frac),
    oxidation_states: s.oxidationStates ? f64Bytes(s.oxidationStates) : null,
    hops_json: JSON.stringify({ format: HOP_JSON_FORMAT, ...hops }),
  };
  const pathways = hops.hops.map((h) => ({
    key: `${String(row['key'])}#${h.index}`,
    source: row['key'],
    structure_id: row['structure_id'],
    content_hash: row['content_hash'],
    formula: row['formula'],
    ion: row['ion'],
    max_length: row['max_length'],
    hop_limit: row['hop_limit'],
    equivalence: row['equivalence'],
    space_group: out.space_group,
    nsites: out.sanitized_nsites,
    hop_index: h.index,
    start_site: h.startSite,
    end_site: h.endSite,
    start_frac: JSON.stringify(h.startFrac),
    end_frac: JSON.stringify(h.endFrac),
    end_image: JSON.stringify(h.image),
    length: h.lengthAng,
    multiplicity: h.multiplicity,
    ion_fraction: out.ion_fraction,
    nsites_777: out.nsites_777,
    nsites_101010: out.nsites_101010,
    nsites_121212: out.nsites_121212,
    dmin,
    length_rel_dmin: (h.lengthAng - dmin!) / dmin!,
    ...structure,
  }));
  return { row: out, pathways };
}

const memo = new Map<string, { row: Record<string, unknown>; pathways: Record<string, unknown>[] }>();

/** The parameters of a find_paths stage, validated (the message names the parameter and the value). */
export function findPathsParams(v: Readonly<Record<string, unknown>>): FindPathsParams {
  const p = screenParams(v as Partial<ScreenParams>);
  const maxSites = v['maxSites'] ?? DEFAULT_MAX_SITES;
  const problem = maxSitesProblem(maxSites as number, 'maxSites');
  if (problem) throw new StageError(problem);
  return { ...p, maxSites: maxSites as number };
}

function work(batch: RecordBatch, ctx: WorkContext): FanOut {
  const p = findPathsParams(ctx.params);
  const results = mapRows(batchRows(batch), memo, (row) => pathwaysOfRow(row, p));
  return { rows: rowsBatch(OUTPUT_DEFS, results.map((r) => r.row)), emit: rowsBatch(EMIT_DEFS, results.flatMap((r) => r.pathways)) };
}

/** Run settings of find_paths that do not change its results (so they are not part of the key). */
export interface FindPathsSettings {
  /** Structures with more sites fail with a SiteLimitError. Default {@link DEFAULT_MAX_SITES}. */
  maxSites?: number;
}

/**
 * The find_paths stage for `params` (the key and the constant input columns record them) and
 * `settings`; all of them are its stage parameters.
 */
export function findPathsStage(params: Partial<ScreenParams> = {}, settings: FindPathsSettings = {}): Stage {
  const p = screenParams(params);
  const problem = maxSitesProblem(settings.maxSites, 'maxSites');
  if (problem) throw new StageError(problem);
  return defineStage({
    module: import.meta.url,
    name: 'find_paths',
    input: {
      from: 'structures',
      key: `{source_id}|${p.ion}|${p.maxLengthAng}|${p.limit}${equivalenceKeyPart(p.equivalence)}|{content_hash:12}`,
      columns: {
        structure_id: { type: 'utf8', from: 'source_id' },
        content_hash: 'utf8',
        formula: { type: 'utf8', from: 'reduced_formula' },
        nsites: 'int32',
        ion: { type: 'utf8', value: p.ion },
        max_length: { type: 'float64', value: p.maxLengthAng },
        hop_limit: { type: 'int32', value: p.limit },
        equivalence: { type: 'utf8', value: p.equivalence },
        ...STRUCTURE_INPUTS,
      },
    },
    // A structure whose content equals an earlier-imported one (`duplicate_of`, set by the import) is
    // not screened a second time; its original's rows stand for it.
    filter: { sql: 'duplicate_of IS NULL' },
    // Structures with fewer sites first: the most rows per second reach the later stages early.
    priority: '-nsites',
    output: OUTPUT,
    emits: { table: 'pathways', columns: PATHWAY_COLUMNS },
    work,
    params: { ...p, maxSites: settings.maxSites ?? DEFAULT_MAX_SITES },
    workers: 2,
    batchSize: 16,
    // A missing ion or a failed symmetry search fails the same way every time: no retries.
    retry: { maxAttempts: 1, backoffMs: 0 },
  });
}

/** The stage with the default parameters; workers find the work function under its name. */
export const findPaths: Stage = findPathsStage();

/** The hop list of a pathways row (`hops_json`), as the pathfinder gave it. */
export function rowHops(row: Record<string, unknown>): HopResult {
  return hopsFromJson(String(row['hops_json']));
}
