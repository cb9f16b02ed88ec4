/**
 * Stage 2: `find_paths` finds the distinct hops of the migrating ion (default F) up to `maxLength` Å,
 * the `limit` shortest per structure, in the sanitised cell (primitive at symprec 0.1, LLL, wrapped,
 * electronegativity order); the `pathways` table (a view over it) has one row per pathway.
 *
 * The stage's unit of work is a structure: one `find_paths` row per (structure, ion, maxLength, limit,
 * content hash) of every structure that is not a content duplicate of an earlier one, holding the per-structure columns (space group, ion fraction, nsites_777/_101010/
 * _121212, dmin) and the hops as a JSON array (`hops_json`); a structure without the ion, or whose
 * symmetry search fails, is a failed row with the reason. `pathways` expands the done rows into one row
 * per pathway with the per-pathway columns (hop index in canonical order, start/end fractional
 * coordinates, end image, length, multiplicity, (length − dmin)/dmin) next to the structure's, so it can
 * never disagree with the stage's results; the descriptors stage admits the same rows.
 *
 * The key holds the parameters and the content hash, so a changed structure or another ion/length/limit
 * is new work, and a rerun with the same inputs finds every key present and recomputes nothing.
 */
import type { RecordBatch } from 'apache-arrow';
import { columnValues, makeBatch, type ColumnDef } from '../engine/arrow.js';
import { defineStage, StageError, type ColumnType, type Stage, type WorkContext } from '../engine/stage.js';
import type { SqlDb } from '../engine/store.js';
import { createStructure, type Structure } from '../structure/structure.js';
import { sanitize } from '../structure/sanitize.js';
import { DEFAULT_SYMPREC, primitiveReduction } from '../structure/symmetry.js';
import { minLengthScaling } from '../kernels/supercell.js';
import { DEFAULT_HOP_LIMIT, DEFAULT_MAX_LENGTH_ANG, findHops, ionElement, type HopResult } from '../analysis/pathfinder.js';
import { DEFAULT_MAX_SITES, checkSiteCount, maxSitesProblem } from '../analysis/site-limit.js';

/** Parameters shared by the pathway, descriptor and image stages. */
export interface ScreenParams {
  /** Migrating element. Default F. */
  ion: string;
  /** Maximum hop length, Å. Default 5. */
  maxLengthAng: number;
  /** Distinct hops kept per structure (0 = all). Default 5. */
  limit: number;
}

export const DEFAULT_SCREEN_PARAMS: Readonly<ScreenParams> = { ion: 'F', maxLengthAng: DEFAULT_MAX_LENGTH_ANG, limit: DEFAULT_HOP_LIMIT };

/** Validate and complete the parameters; the message names the parameter and the value. */
export function screenParams(p: Partial<ScreenParams> = {}): ScreenParams {
  const ion = p.ion ?? DEFAULT_SCREEN_PARAMS.ion;
  if (typeof ion !== 'string' || !/^[A-Z][a-z]?[+-]?$/.test(ion)) throw new StageError(`ion must be an element symbol such as F or Li, got ${JSON.stringify(ion)}`);
  const maxLengthAng = p.maxLengthAng ?? DEFAULT_SCREEN_PARAMS.maxLengthAng;
  if (typeof maxLengthAng !== 'number' || !Number.isFinite(maxLengthAng) || maxLengthAng <= 0) throw new StageError(`maxLengthAng must be a positive number, got ${JSON.stringify(maxLengthAng)}`);
  const limit = p.limit ?? DEFAULT_SCREEN_PARAMS.limit;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 0) throw new StageError(`limit must be a non-negative integer, got ${JSON.stringify(limit)}`);
  return { ion: ionElement(ion), maxLengthAng, limit };
}

/** SQL literal of a parameter (validated above: element symbols and finite numbers only). */
function lit(v: string | number): string {
  return typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`;
}

/** One hop of the `hops_json` array. */
export interface PathwayHop {
  hop_index: number;
  start_frac: [number, number, number];
  end_frac: [number, number, number];
  end_image: [number, number, number];
  length: number;
  multiplicity: number;
  length_rel_dmin: number;
}

/** The sanitised cell of a structure and its distinct hops: the one definition the later stages reuse. */
export function structurePathways(structure: Structure, p: ScreenParams): { structure: Structure; hops: HopResult } {
  const s = sanitize(structure, { symprec: DEFAULT_SYMPREC }).structure;
  const reduction = primitiveReduction(s, { symprec: DEFAULT_SYMPREC });
  // The site limit is find_paths' (pathwaysOfRow checks the stored structure against the stage's
  // maxSites); the stages after it take whatever find_paths took.
  const hops = findHops(s, { ion: p.ion, maxLengthAng: p.maxLengthAng, limit: p.limit, symprec: DEFAULT_SYMPREC, reduction, maxSites: s.species.length });
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
  hops_json: 'utf8',
} as const satisfies Record<string, ColumnType>;
const OUTPUT_DEFS: ColumnDef[] = [{ name: 'key', type: 'utf8' }, ...Object.entries(OUTPUT).map(([name, type]) => ({ name, type }))];

const memo = new Map<string, Record<string, unknown>>();

function nsitesFor(s: Structure, lengthAng: number): number {
  const sc = minLengthScaling(s, lengthAng);
  return s.species.length * sc[0] * sc[1] * sc[2];
}

/**
 * The pathways of one row (inputs: structure columns, ion, max_length, hop_limit). A structure of
 * more than `maxSites` sites is refused (SiteLimitError: a failed row whose message names the count,
 * the limit and the option that raises it).
 */
export function pathwaysOfRow(row: Record<string, unknown>, maxSites = DEFAULT_MAX_SITES): Record<string, unknown> {
  const p = screenParams({ ion: row['ion'] as string, maxLengthAng: row['max_length'] as number, limit: row['hop_limit'] as number });
  const input = structureFromColumns(row['lattice'], row['species'], row['frac_coords'], row['oxidation_states']);
  checkSiteCount(input, maxSites, 'the find_paths stage', 'then `fracflow requeue find_paths --failed` and screen again');
  const { structure: s, hops } = structurePathways(input, p);
  const dmin = hops.hops.length > 0 ? hops.hops[0]!.lengthAng : null;
  const list: PathwayHop[] = hops.hops.map((h) => ({
    hop_index: h.index,
    start_frac: [...h.startFrac],
    end_frac: [...h.endFrac],
    end_image: [...h.image],
    length: h.lengthAng,
    multiplicity: h.multiplicity,
    length_rel_dmin: (h.lengthAng - dmin!) / dmin!,
  }));
  return {
    key: row['key'],
    space_group: `${hops.spaceGroup.symbol} (${hops.spaceGroup.number})`,
    sanitized_nsites: s.species.length,
    n_hops: list.length,
    distinct_hops: hops.distinctCount,
    ion_fraction: s.species.filter((x) => x === p.ion).length / s.species.length,
    nsites_777: nsitesFor(s, 7),
    nsites_101010: nsitesFor(s, 10),
    nsites_121212: nsitesFor(s, 12),
    dmin,
    hops_json: JSON.stringify(list),
  };
}

/** Run settings of find_paths that do not change its results (so they are not part of the key). */
export interface FindPathsSettings {
  /** Structures with more sites fail with a SiteLimitError. Default {@link DEFAULT_MAX_SITES}. */
  maxSites?: number;
}

function work(batch: RecordBatch, ctx: WorkContext): RecordBatch {
  const maxSites = (ctx.params as FindPathsSettings).maxSites ?? DEFAULT_MAX_SITES;
  return rowsBatch(OUTPUT_DEFS, mapRows(batchRows(batch), memo, (row) => pathwaysOfRow(row, maxSites)));
}

/**
 * The find_paths stage for `params` (the key and the constant input columns carry them) and
 * `settings` (stage parameters).
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
      key: `u.source_id || '|' || ${lit(p.ion)} || '|' || ${lit(p.maxLengthAng)} || '|' || ${lit(p.limit)} || '|' || substr(u.content_hash, 1, 12)`,
      columns: {
        structure_id: { type: 'utf8', expr: 'u.source_id' },
        content_hash: { type: 'utf8', expr: 'u.content_hash' },
        formula: { type: 'utf8', expr: 'u.reduced_formula' },
        nsites: { type: 'int32', expr: 'u.nsites' },
        ion: { type: 'utf8', expr: lit(p.ion) },
        max_length: { type: 'float64', expr: lit(p.maxLengthAng) },
        hop_limit: { type: 'int32', expr: lit(p.limit) },
        ...STRUCTURE_INPUTS,
      },
    },
    // A structure whose content equals an earlier-imported one (`duplicate_of`, set by the import) is
    // not screened a second time; its original's rows stand for it.
    filter: { sql: 'u.duplicate_of IS NULL' },
    // Structures with fewer sites first: the most rows per second reach the later stages early.
    priority: '-nsites',
    output: OUTPUT,
    work,
    params: { maxSites: settings.maxSites ?? DEFAULT_MAX_SITES },
    workers: 2,
    batchSize: 16,
    // A missing ion or a failed symmetry search fails the same way every time: no retries.
    retry: { maxAttempts: 1, backoffMs: 0 },
  });
}

/** The stage with the default parameters; workers find the work function under its name. */
export const findPaths: Stage = findPathsStage();

const hopField = (path: string) => `json_extract(h.value, '$.${path}')`;

/** The `pathways` view: one row per pathway of every done `find_paths` row, in structure and hop order. */
export const PATHWAYS_VIEW_SQL = `CREATE VIEW IF NOT EXISTS pathways AS
  SELECT u.key || '#' || ${hopField('hop_index')} AS key, u.key AS find_paths_key,
         u.structure_id, u.content_hash, u.formula, u.ion, u.max_length, u.hop_limit, u.space_group,
         u.sanitized_nsites AS nsites,
         ${hopField('hop_index')} AS hop_index, ${hopField('start_frac')} AS start_frac, ${hopField('end_frac')} AS end_frac,
         ${hopField('end_image')} AS end_image, ${hopField('length')} AS length, ${hopField('multiplicity')} AS multiplicity,
         u.ion_fraction, u.nsites_777, u.nsites_101010, u.nsites_121212, u.dmin, ${hopField('length_rel_dmin')} AS length_rel_dmin
    FROM find_paths u JOIN json_each(u.hops_json) h
   WHERE u.state = 'done'
   ORDER BY u.id, h.key`;

/**
 * Create the `pathways` view (once the `find_paths` table exists). A store from before the
 * find_paths stage holds a per-structure `pathways` stage table under that name: refused, naming the
 * way out, rather than exporting the old table as if it were the view.
 */
export function ensurePathwaysView(sql: SqlDb): void {
  if (sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'pathways'")) {
    throw new StageError('this store has a `pathways` table from an earlier fracflow (one row per structure); the pathways are now a view over the find_paths stage: run `fracflow reset --yes` (imported structures stay) and screen again');
  }
  sql.exec(PATHWAYS_VIEW_SQL);
}
