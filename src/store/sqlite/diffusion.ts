/**
 * The diffusion workflow's store: its own tables — `structures` (one row per imported structure,
 * dataset-qualified source id, content hash, content duplicates marked) and `import_errors` (inputs
 * that could not be imported) — on the same SQLite file as the engine's tables, which it reaches through
 * {@link Store.queue}; its queries over the screen's stage tables (the ranking); and its migrations
 * (all of them: the engine's and its own).
 */
import { structureHash } from '../../structure/hash.js';
import { openSql, StoreError, type OpenOptions, type SqlDb } from './connection.js';
import type { Structure } from '../../structure/structure.js';
import { createStructure } from '../../structure/structure.js';

export { CODE_VERSION } from '../diffusion.js';
export type { StructureRow, ImportCounts, DuplicatePair, ImportErrorSource, ImportErrorRow, DatasetSummary, RankedPathway, CalcRow } from '../diffusion.js';
import { blobF64, structureColumns, type CalcRow, type DatasetSummary, type DiffusionStore, type DuplicatePair, type ImportCounts, type ImportErrorRow, type ImportErrorSource, type RankedPathway, type RankingParams, type StructureRow } from '../diffusion.js';

export { openSql, StoreError } from './connection.js';
export type { SqlDb, SqlValue, SqlParams, OpenOptions } from './connection.js';

export { migrate, migrateStore, MIGRATIONS, type Migration } from './migrations.js';
import { checkSchema, migrate, missingMigration, MIGRATIONS } from './migrations.js';
import { SqliteQueueStore } from './index.js';
import { errorGroups as stageErrorGroups } from './ops.js';
import { groupImportErrors, IMPORT_ERRORS } from '../error-groups.js';
import type { ErrorGroup } from '../interface.js';

export { structureHash };

export class Store {
  private queueStore: SqliteQueueStore | null = null;
  /** The SQL connection behind the small {@link SqlDb} interface (the only door to the driver). */
  readonly sql: SqlDb;
  readonly path: string;

  /**
   * A read-only store (`readonly: true`: status, errors, export, checkpoint) must exist and be at the
   * current schema: no store is created and nothing is migrated (SQLite may add the `-wal`/`-shm` files
   * of a WAL store beside it), and another process may hold the write lock.
   */
  constructor(path: string, options: OpenOptions = {}) {
    this.path = path;
    const readonly = options.readonly === true && path !== ':memory:';
    this.sql = openSql(path, { ...options, readonly });
    try {
      if (!readonly) migrate(this.sql, MIGRATIONS);
      else checkSchema(path, missingMigration(this.sql, MIGRATIONS));
    } catch (e) {
      this.sql.close();
      throw e;
    }
  }

  /** Applied schema versions, ascending. */
  schemaVersions(): number[] {
    return this.sql.all<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version').map((r) => r.version);
  }

  /**
   * Insert or update structures by source id in one transaction. A row whose content hash is
   * unchanged is left alone; a changed one is updated in place (never duplicated). Content
   * duplicates are kept as rows of their own and marked: within each content hash one row is the
   * original and every other row's `duplicate_of` names it. The original of a content stays the
   * original while it holds that content (its screen results stand for the group); a content that
   * has none — new, or its original was changed — takes its lowest-id row (the first imported).
   * `duplicatePairs` lists the rows of this call that are duplicates.
   */
  upsertStructures(rows: readonly StructureRow[]): ImportCounts & { duplicatePairs: DuplicatePair[] } {
    const counts: ImportCounts = { inserted: 0, updated: 0, unchanged: 0, duplicates: 0 };
    const duplicatePairs: DuplicatePair[] = [];
    const touched = new Set<string>();
    const written: string[] = [];
    const findSql = 'SELECT content_hash FROM structures WHERE source_id = ?';
    const insertSql = `INSERT INTO structures
      (source_id, dataset, formula, reduced_formula, nsites, volume_ang3, density_g_cm3, e_above_hull,
       formation_energy_per_atom, lattice, species, frac_coords, oxidation_states, info_json, content_hash, code_version)
      VALUES (@sourceId, @dataset, @formula, @reducedFormula, @nsites, @volume, @density, @eAboveHull,
       @formationEnergy, @lattice, @species, @frac, @oxi, @info, @hash, @codeVersion)
      ON CONFLICT (source_id) DO UPDATE SET dataset = excluded.dataset, formula = excluded.formula,
       reduced_formula = excluded.reduced_formula, nsites = excluded.nsites, volume_ang3 = excluded.volume_ang3,
       density_g_cm3 = excluded.density_g_cm3, e_above_hull = excluded.e_above_hull,
       formation_energy_per_atom = excluded.formation_energy_per_atom, lattice = excluded.lattice,
       species = excluded.species, frac_coords = excluded.frac_coords, oxidation_states = excluded.oxidation_states,
       info_json = excluded.info_json, content_hash = excluded.content_hash, code_version = excluded.code_version,
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ','now')`;
    this.sql.transaction(() => {
      for (const r of rows) {
        const hash = structureHash(r.structure);
        const prev = this.sql.get<{ content_hash: string }>(findSql, [r.sourceId]);
        touched.add(hash);
        if (prev && prev.content_hash === hash) {
          counts.unchanged++;
          continue;
        }
        if (prev) touched.add(prev.content_hash);
        written.push(r.sourceId);
        this.sql.run(insertSql, structureColumns(r, hash));
        if (prev) counts.updated++;
        else counts.inserted++;
      }
      const writtenJson = JSON.stringify(written);
      for (const h of touched) this.markDuplicates(h, writtenJson);
      const ids = [...new Set(rows.map((r) => r.sourceId))];
      for (let k = 0; k < ids.length; k += 500) {
        const chunk = ids.slice(k, k + 500);
        const found = this.sql.all<{ source_id: string; duplicate_of: string }>(
          `SELECT source_id, duplicate_of FROM structures WHERE duplicate_of IS NOT NULL AND source_id IN (SELECT value FROM json_each(?)) ORDER BY id`,
          [JSON.stringify(chunk)],
        );
        for (const f of found) duplicatePairs.push({ sourceId: f.source_id, duplicateOf: f.duplicate_of });
      }
      counts.duplicates = duplicatePairs.length;
    }, 'immediate');
    return { ...counts, duplicatePairs };
  }

  /**
   * Within one content hash: the row that was the original before this call and was not written by
   * it stays the original, else the lowest id; every other row names it in `duplicate_of`.
   * `writtenJson` is the JSON list of the source ids this call inserted or changed.
   */
  private markDuplicates(hash: string, writtenJson: string): void {
    const first =
      this.sql.get<{ id: number; source_id: string }>(
        'SELECT id, source_id FROM structures WHERE content_hash = ? AND duplicate_of IS NULL AND source_id NOT IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT 1',
        [hash, writtenJson],
      ) ?? this.sql.get<{ id: number; source_id: string }>('SELECT id, source_id FROM structures WHERE content_hash = ? ORDER BY id LIMIT 1', [hash]);
    if (!first) return;
    this.sql.run('UPDATE structures SET duplicate_of = NULL WHERE id = ? AND duplicate_of IS NOT NULL', [first.id]);
    this.sql.run('UPDATE structures SET duplicate_of = ? WHERE content_hash = ? AND id <> ? AND duplicate_of IS NOT ?', [first.source_id, hash, first.id, first.source_id]);
  }

  /** Record an input that could not be imported (the rest of the import goes on). */
  recordImportError(dataset: string, sourceId: string | null, message: string, from: ImportErrorSource = {}): void {
    this.sql.run('INSERT INTO import_errors (dataset, source_id, message, file, record, record_id) VALUES (?, ?, ?, ?, ?, ?)', [
      dataset,
      sourceId,
      message,
      from.file ?? null,
      from.record ?? null,
      from.recordId ?? null,
    ]);
  }

  /** The rows of `import_errors` in the order recorded; `sinceId` leaves out rows up to that id. */
  importErrors(sinceId = 0): ImportErrorRow[] {
    return this.sql
      .all<{ dataset: string; source_id: string | null; message: string; file: string | null; record: number | null; record_id: string | null }>(
        'SELECT dataset, source_id, message, file, record, record_id FROM import_errors WHERE id > ? ORDER BY id',
        [sinceId],
      )
      .map((r) => ({
        dataset: r.dataset,
        sourceId: r.source_id,
        message: r.message,
        ...(r.file !== null ? { file: r.file } : {}),
        ...(r.record !== null ? { record: r.record } : {}),
        ...(r.record_id !== null ? { recordId: r.record_id } : {}),
      }));
  }

  /** Highest id of `import_errors` so far (0 when empty): what an import recorded is above it. */
  lastImportErrorId(): number {
    return this.sql.get<{ n: number | null }>('SELECT MAX(id) AS n FROM import_errors')!.n ?? 0;
  }

  /** Per-dataset counts of the structures table. */
  structureSummary(): DatasetSummary[] {
    return this.sql.all<DatasetSummary>(`SELECT dataset, COUNT(*) AS structures, COUNT(duplicate_of) AS duplicates, SUM(nsites) AS sites, MIN(nsites) AS minSites,
                  MAX(nsites) AS maxSites, COUNT(e_above_hull) AS withEnergyAboveHull
                  FROM structures GROUP BY dataset ORDER BY dataset`);
  }

  structureCount(): number {
    return this.sql.get<{ n: number }>('SELECT COUNT(*) AS n FROM structures')!.n;
  }

  /** One stored structure by source id, or null. */
  getStructure(sourceId: string): Structure | null {
    const r = this.sql.get<{ lattice: Buffer; species: string; frac_coords: Buffer; oxidation_states: Buffer | null; info_json: string }>(
      'SELECT lattice, species, frac_coords, oxidation_states, info_json FROM structures WHERE source_id = ?',
      [sourceId],
    );
    if (!r) return null;
    return createStructure(
      {
        lattice: blobF64(r.lattice),
        species: r.species.split(' '),
        frac: blobF64(r.frac_coords),
        oxidationStates: r.oxidation_states ? blobF64(r.oxidation_states) : null,
        info: JSON.parse(r.info_json) as Record<string, unknown>,
      },
      { checkOverlap: false, allowLeftHanded: true },
    );
  }

  /** The engine's queue verbs on this store's connection (stage tables, status, errors, control). */
  get queue(): SqliteQueueStore {
    this.queueStore ??= new SqliteQueueStore(this.sql);
    return this.queueStore;
  }

  /**
   * Failed rows of the stages and the inputs that could not be imported, grouped by cause (see
   * ErrorGroup.message): stage by stage, then the import errors per dataset. `stage` narrows to one
   * stage, or to the import errors with {@link IMPORT_ERRORS}.
   */
  errorGroups(stage?: string): ErrorGroup[] {
    if (stage === IMPORT_ERRORS) return importErrorGroups(this.sql);
    if (stage !== undefined) return stageErrorGroups(this.sql, stage);
    return [...stageErrorGroups(this.sql), ...importErrorGroups(this.sql)];
  }

  /**
   * The top `n` pathways of a screen by the images stage's priority (ewald_energy ascending, then
   * nsites_777), with their descriptors: those of the parameters (ion, maxLength, limit, hop
   * equivalence) and IDPP mode given. Rows of structures re-imported since with other content are left out (their keys carry the
   * old content hash).
   */
  topPathways(p: RankingParams, n: number): RankedPathway[] {
    if (!this.sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'images'")) return [];
    return this.sql.all<RankedPathway>(
      `SELECT i.key, i.state, d.structure_id, d.formula, d.hop_index, d.length, d.multiplicity, d.nsites, d.nsites_777,
              d.oxidation_state, d.dimensionality, d.dimensionality_cumlengths, d.dimensionality_cumbarriers,
              d.ewald_energy, d.ionic_radii_overlap_cations, d.ionic_radii_overlap_anions, i.out_dir
         FROM images i JOIN descriptors d ON d.key = i.key
         JOIN structures s ON s.source_id = d.structure_id AND s.content_hash = d.content_hash
        WHERE d.ion = ? AND d.max_length = ? AND d.hop_limit = ? AND d.equivalence = ? AND d.idpp = ?
        ORDER BY i.priority DESC, i.id LIMIT ?`,
      [p.ion, p.maxLengthAng, p.limit, p.equivalence, p.idpp, n],
    );
  }

  /**
   * What the calc stages read: the columns of the `images` table (empty when there is none) and, when
   * it is a stage table, how many of its rows are not finished yet.
   */
  calcSource(table: string): { columns: string[]; unfinished: number | null } {
    const columns = this.sql.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', [table]).map((r) => r.name);
    const stage = columns.length > 0 && this.sql.get('SELECT 1 AS x FROM engine_stages WHERE name = ?', [table]) !== undefined;
    return { columns, unfinished: stage ? this.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table} WHERE state IN ('pending', 'running')`)!.n : null };
  }

  /** The rows of a calc stage (`calc_static`, `calc_neb`) with their energies and barrier, in admission order. */
  calcRows(stage: 'calc_static' | 'calc_neb'): CalcRow[] {
    return this.sql.all<CalcRow>(`SELECT key, state, barrier_ev, energy_start_ev, energy_mid_ev, energy_end_ev, exit_code, last_error FROM ${stage} ORDER BY id`);
  }

  close(): void {
    this.sql.close();
  }
}

export { IMPORT_ERRORS } from '../error-groups.js';

/** Import errors grouped by dataset and cause, most frequent first (none in a store without the table). */
export function importErrorGroups(store: SqlDb | SqliteQueueStore): ErrorGroup[] {
  const sql = store instanceof SqliteQueueStore ? store.sql : store;
  if (!sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'import_errors'")) return [];
  const rows = sql.all<{ dataset: string; source_id: string | null; message: string; file: string | null; record: number | null; record_id: string | null }>(
    'SELECT dataset, source_id, message, file, record, record_id FROM import_errors ORDER BY id',
  );
  return groupImportErrors(rows);
}

/** Open (and migrate) the store at `path` (`:memory:` for a throw-away one). */
export function openStore(path: string, options: OpenOptions = {}): Store {
  return new Store(path, options);
}

/**
 * The asynchronous workflow store ({@link DiffusionStore}) over a synchronous {@link Store}: every
 * promise is settled when returned (better-sqlite3 is synchronous).
 */
export class SqliteDiffusionStore implements DiffusionStore {
  readonly store: Store;
  readonly location: string;
  constructor(store: Store) {
    this.store = store;
    this.location = store.path;
  }
  get queue(): SqliteQueueStore {
    return this.store.queue;
  }
  async upsertStructures(rows: readonly StructureRow[]): Promise<ImportCounts & { duplicatePairs: DuplicatePair[] }> {
    return this.store.upsertStructures(rows);
  }
  async recordImportError(dataset: string, sourceId: string | null, message: string, from?: ImportErrorSource): Promise<void> {
    this.store.recordImportError(dataset, sourceId, message, from);
  }
  async importErrors(sinceId?: number): Promise<ImportErrorRow[]> {
    return this.store.importErrors(sinceId);
  }
  async lastImportErrorId(): Promise<number> {
    return this.store.lastImportErrorId();
  }
  async structureSummary(): Promise<DatasetSummary[]> {
    return this.store.structureSummary();
  }
  async structureCount(): Promise<number> {
    return this.store.structureCount();
  }
  async getStructure(sourceId: string): Promise<Structure | null> {
    return this.store.getStructure(sourceId);
  }
  async importErrorGroups(): Promise<ErrorGroup[]> {
    return importErrorGroups(this.store.sql);
  }
  async topPathways(p: RankingParams, n: number): Promise<RankedPathway[]> {
    return this.store.topPathways(p, n);
  }
  async calcSource(table: string): Promise<{ columns: string[]; unfinished: number | null }> {
    return this.store.calcSource(table);
  }
  async calcRows(stage: 'calc_static' | 'calc_neb'): Promise<CalcRow[]> {
    return this.store.calcRows(stage);
  }
  async close(): Promise<void> {
    this.store.close();
  }
}
