/**
 * The embedded store: one SQLite file (or `:memory:`) through better-sqlite3. This module is the only
 * importer of the database driver; everything else talks to the small {@link SqlDb} interface
 * (positional or named parameters, synchronous transactions), so a PostgreSQL backend can implement
 * the same interface later.
 *
 * Connection settings: WAL journal (readers never block the writer), `synchronous=NORMAL` (a commit
 * survives a killed process; only an OS crash may lose the last commits), a busy timeout so that two
 * processes on one file wait for each other's write lock instead of failing.
 *
 * Schema changes are numbered migrations, each recorded in `schema_migrations` in the same immediate
 * transaction that applies it (recorded first, so a failing migration rolls its record back too).
 */
import { structureHash } from '../../structure/hash.js';
import { openSql, StoreError, type OpenOptions, type SqlDb } from './connection.js';
import type { Structure } from '../../structure/structure.js';
import { createStructure, density, formula, reducedFormula, siteCount, volume } from '../../structure/structure.js';

export const CODE_VERSION = '0.1.0';

export { openSql, StoreError } from './connection.js';
export type { SqlDb, SqlValue, SqlParams, OpenOptions } from './connection.js';

export { migrate, migrateStore, MIGRATIONS, type Migration } from './migrations.js';
import { migrate, MIGRATIONS } from './migrations.js';

export interface StructureRow {
  sourceId: string;
  dataset: string;
  structure: Structure;
}

export interface ImportCounts {
  inserted: number;
  updated: number;
  unchanged: number;
  /**
   * Of the rows written or found unchanged, those whose content equals a structure imported
   * earlier under another source id (`duplicate_of` set): kept, and not screened again.
   */
  duplicates: number;
}

/** A structure whose content equals an earlier one's. */
export interface DuplicatePair {
  sourceId: string;
  duplicateOf: string;
}

/** Where an import error comes from (columns of `import_errors`). */
export interface ImportErrorSource {
  /** The file, as given or found in a folder. */
  file?: string;
  /** 0-based record, data block or frame within the file; absent when the whole file failed. */
  record?: number;
  /** The record's own id (material_id, block name) when known. */
  recordId?: string;
}

export interface ImportErrorRow extends ImportErrorSource {
  dataset: string;
  sourceId: string | null;
  message: string;
}

export interface DatasetSummary {
  dataset: string;
  structures: number;
  /** Structures whose content equals an earlier-imported one's. */
  duplicates: number;
  sites: number;
  minSites: number;
  maxSites: number;
  withEnergyAboveHull: number;
}

export { structureHash };

function f64Blob(a: Float64Array): Buffer {
  return Buffer.from(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}

function blobF64(b: Buffer): Float64Array {
  // Copy: a Buffer from SQLite need not be 8-byte aligned for a Float64Array view.
  const out = new Float64Array(b.byteLength / 8);
  new Uint8Array(out.buffer).set(b);
  return out;
}

export class Store {
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
      else {
        const has = this.sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
        const latest = MIGRATIONS[MIGRATIONS.length - 1]!.version;
        const at = has ? (this.sql.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations')!.v ?? 0) : null;
        if (at === null) throw new StoreError(`store ${path}: not a fracflow store (no schema_migrations table)`, 'FRACFLOW_NOT_A_STORE');
        if (at < latest) throw new StoreError(`store ${path}: schema version ${at} is older than this fracflow's ${latest}; run a command that writes to the store (e.g. \`fracflow engine run\`) to migrate it`, 'FRACFLOW_OLD_SCHEMA');
      }
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
        const s = r.structure;
        const hash = structureHash(s);
        const prev = this.sql.get<{ content_hash: string }>(findSql, [r.sourceId]);
        touched.add(hash);
        if (prev && prev.content_hash === hash) {
          counts.unchanged++;
          continue;
        }
        if (prev) touched.add(prev.content_hash);
        written.push(r.sourceId);
        const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
        this.sql.run(insertSql, {
          sourceId: r.sourceId,
          dataset: r.dataset,
          formula: formula(s),
          reducedFormula: reducedFormula(s),
          nsites: siteCount(s),
          volume: volume(s),
          density: density(s),
          eAboveHull: num(s.info['e_above_hull'] ?? s.info['energy_above_hull']),
          formationEnergy: num(s.info['formation_energy_per_atom']),
          lattice: f64Blob(s.lattice),
          species: s.species.join(' '),
          frac: f64Blob(s.frac),
          oxi: s.oxidationStates ? f64Blob(s.oxidationStates) : null,
          info: JSON.stringify(s.info),
          hash,
          codeVersion: CODE_VERSION,
        });
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

  close(): void {
    this.sql.close();
  }
}

/** Open (and migrate) the store at `path` (`:memory:` for a throw-away one). */
export function openStore(path: string, options: OpenOptions = {}): Store {
  return new Store(path, options);
}
