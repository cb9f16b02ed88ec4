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
import Database from 'better-sqlite3';
import { structureHash } from '../structure/hash.js';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Structure } from '../structure/structure.js';
import { createStructure, density, formula, reducedFormula, siteCount, volume } from '../structure/structure.js';

export const CODE_VERSION = '0.1.0';

/** A value SQLite stores: REAL/INTEGER, TEXT, BLOB or NULL. */
export type SqlValue = number | bigint | string | Uint8Array | null;
/** Positional (`?`) or named (`@name`) parameters. */
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;

/** The whole SQL surface the engine uses; one implementation per backend. */
export interface SqlDb {
  /** File path (or `:memory:`) the connection was opened on. */
  readonly path: string;
  /** Run statements without results (DDL, several statements allowed). */
  exec(sql: string): void;
  run(sql: string, params?: SqlParams): { changes: number; lastInsertRowid: number };
  get<T>(sql: string, params?: SqlParams): T | undefined;
  all<T>(sql: string, params?: SqlParams): T[];
  /** Rows as arrays in column order (no per-row objects). */
  allRaw(sql: string, params?: SqlParams): unknown[][];
  /** Column names of a statement's result. */
  columns(sql: string): string[];
  /**
   * Run `fn` inside one transaction (nested calls become savepoints). `immediate` takes the write lock
   * at BEGIN, so that a read-then-write (a claim) cannot be interleaved with another writer. `fn` must
   * be synchronous: nothing awaits inside a transaction.
   */
  transaction<T>(fn: () => T, mode?: 'deferred' | 'immediate'): T;
  /** A pragma's single value. */
  pragma(text: string): unknown;
  /** Online backup to a new file (readers and the writer go on meanwhile). */
  backup(destination: string): Promise<void>;
  close(): void;
}

/** A store operation that failed for a reason the user can act on (disk full, read-only file, ...). */
export class StoreError extends Error {
  /** SQLite result code name, e.g. `SQLITE_FULL`, `SQLITE_READONLY`. */
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}

function storeError(e: unknown, path: string): unknown {
  // Already translated (a statement inside a transaction, both wrapped).
  if (e instanceof StoreError) return e;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return e;
  const msg = (e as Error).message;
  if (code === 'SQLITE_FULL') return new StoreError(`store ${path}: database or disk is full (${code}); the last transaction was rolled back, free space and re-run`, code);
  if (code.startsWith('SQLITE_READONLY')) return new StoreError(`store ${path}: the database file is read-only (${code}); nothing was written`, code);
  if (code.startsWith('SQLITE_CANTOPEN')) return new StoreError(`store ${path}: cannot open the database file (${code}: ${msg})`, code);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return new StoreError(`store ${path}: not a valid SQLite database (${code})`, code);
  if (code.startsWith('SQLITE_BUSY')) return new StoreError(`store ${path}: database is locked by another process (${code})`, code);
  return new StoreError(`store ${path}: ${msg} (${code})`, code);
}

export interface OpenOptions {
  /** Wait this long (ms) for another connection's write lock. Default 10000. */
  busyTimeoutMs?: number;
  /** Open read-only, an existing file only (status, errors, export, checkpoint). Default false. */
  readonly?: boolean;
  /** Cap the file at this many pages (SQLite `max_page_count`); used to test a full disk. */
  maxPageCount?: number;
}

class SqliteDb implements SqlDb {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly rawStmts = new Map<string, Database.Statement>();

  constructor(path: string, options: OpenOptions) {
    this.path = path;
    try {
      if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(resolve(path)), { recursive: true });
      if (path !== ':memory:' && options.readonly && !existsSync(path)) {
        throw new StoreError(`store ${path}: cannot open the database file: no such file (this command reads an existing store; check --db)`, 'SQLITE_CANTOPEN');
      }
      this.db = new Database(path, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
    } catch (e) {
      throw storeError(e, path);
    }
    try {
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 10000))}`);
      if (!options.readonly) {
        if (path !== ':memory:') this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = NORMAL');
      }
      this.db.pragma('foreign_keys = ON');
      if (options.maxPageCount !== undefined) this.db.pragma(`max_page_count = ${Math.floor(options.maxPageCount)}`);
    } catch (e) {
      this.db.close();
      throw storeError(e, path);
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private wrap<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw storeError(e, this.path);
    }
  }

  exec(sql: string): void {
    this.wrap(() => this.db.exec(sql));
  }
  run(sql: string, params?: SqlParams): { changes: number; lastInsertRowid: number } {
    return this.wrap(() => {
      const r = params === undefined ? this.stmt(sql).run() : this.stmt(sql).run(params as never);
      return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
    });
  }
  get<T>(sql: string, params?: SqlParams): T | undefined {
    return this.wrap(() => (params === undefined ? this.stmt(sql).get() : this.stmt(sql).get(params as never)) as T | undefined);
  }
  all<T>(sql: string, params?: SqlParams): T[] {
    return this.wrap(() => (params === undefined ? this.stmt(sql).all() : this.stmt(sql).all(params as never)) as T[]);
  }
  allRaw(sql: string, params?: SqlParams): unknown[][] {
    return this.wrap(() => {
      let s = this.rawStmts.get(sql);
      if (!s) {
        s = this.db.prepare(sql).raw(true);
        this.rawStmts.set(sql, s);
      }
      return (params === undefined ? s.all() : s.all(params as never)) as unknown[][];
    });
  }
  columns(sql: string): string[] {
    return this.wrap(() => this.stmt(sql).columns().map((c) => c.name));
  }
  transaction<T>(fn: () => T, mode: 'deferred' | 'immediate' = 'deferred'): T {
    return this.wrap(() => {
      const t = this.db.transaction(fn);
      return mode === 'immediate' ? t.immediate() : t.deferred();
    });
  }
  pragma(text: string): unknown {
    return this.wrap(() => this.db.pragma(text, { simple: true }));
  }
  async backup(destination: string): Promise<void> {
    try {
      await this.db.backup(destination);
    } catch (e) {
      throw storeError(e, destination);
    }
  }
  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Open an SQL connection on an SQLite file or `:memory:` with the engine's settings. */
export function openSql(path: string, options: OpenOptions = {}): SqlDb {
  return new SqliteDb(path, options);
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
}

/** Apply the migrations not yet recorded in `schema_migrations`, each in its own immediate transaction. */
export function migrate(sql: SqlDb, migrations: readonly Migration[]): void {
  sql.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL,
    applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))`);
  for (const m of migrations) {
    sql.transaction(() => {
      if (sql.get('SELECT 1 AS x FROM schema_migrations WHERE version = ?', [m.version])) return;
      sql.run('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [m.version, m.name]);
      sql.exec(m.sql);
    }, 'immediate');
  }
}

/** The store's schema, in order (exported for tests that build a store of an earlier version). */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'structures',
    sql: `
      CREATE TABLE structures (
        id              INTEGER PRIMARY KEY,
        source_id       TEXT NOT NULL UNIQUE,
        dataset         TEXT NOT NULL,
        formula         TEXT NOT NULL,
        reduced_formula TEXT NOT NULL,
        nsites          INTEGER NOT NULL,
        volume_ang3     REAL NOT NULL,
        density_g_cm3   REAL NOT NULL,
        e_above_hull    REAL,
        formation_energy_per_atom REAL,
        lattice         BLOB NOT NULL,
        species         TEXT NOT NULL,
        frac_coords     BLOB NOT NULL,
        oxidation_states BLOB,
        info_json       TEXT NOT NULL,
        content_hash    TEXT NOT NULL,
        code_version    TEXT NOT NULL,
        created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
        updated_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
      );
      CREATE INDEX structures_dataset ON structures (dataset);
      CREATE TABLE import_errors (
        id         INTEGER PRIMARY KEY,
        dataset    TEXT NOT NULL,
        source_id  TEXT,
        message    TEXT NOT NULL,
        created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
      );
    `,
  },
  {
    version: 2,
    name: 'engine',
    sql: `
      CREATE TABLE engine_stages (
        name        TEXT PRIMARY KEY,
        work        TEXT NOT NULL,
        module      TEXT NOT NULL,
        spec_json   TEXT NOT NULL,
        workers     INTEGER NOT NULL,
        batch_size  INTEGER NOT NULL,
        priority    TEXT NOT NULL,
        created_at  REAL NOT NULL,
        updated_at  REAL NOT NULL
      );
      CREATE TABLE engine_cutoffs (
        stage TEXT NOT NULL,
        name  TEXT NOT NULL,
        value REAL NOT NULL,
        PRIMARY KEY (stage, name)
      );
      CREATE TABLE engine_events (
        id     INTEGER PRIMARY KEY,
        at     REAL NOT NULL,
        stage  TEXT,
        kind   TEXT NOT NULL,
        detail TEXT NOT NULL
      );
      CREATE TABLE engine_attempts (
        id          INTEGER PRIMARY KEY,
        stage       TEXT NOT NULL,
        row_id      INTEGER NOT NULL,
        key         TEXT NOT NULL,
        attempt     INTEGER NOT NULL,
        claimed_by  TEXT,
        started_at  REAL,
        finished_at REAL NOT NULL,
        outcome     TEXT NOT NULL CHECK (outcome IN ('done', 'error', 'expired', 'released')),
        error       TEXT
      );
      CREATE INDEX engine_attempts_stage_row ON engine_attempts (stage, row_id);
    `,
  },
  {
    version: 3,
    name: 'structure identity',
    // Source ids are dataset-qualified from this version on; rows of earlier imports keep their ids.
    // `duplicate_of` names the first-imported structure of the same content (NULL for that one):
    // existing stores get it for their rows here, so a re-import under the new ids is recognised.
    sql: `
      ALTER TABLE structures ADD COLUMN duplicate_of TEXT;
      CREATE INDEX structures_content_hash ON structures (content_hash, id);
      UPDATE structures SET duplicate_of = (
        SELECT f.source_id FROM structures f WHERE f.content_hash = structures.content_hash AND f.id < structures.id ORDER BY f.id LIMIT 1);
      ALTER TABLE import_errors ADD COLUMN file TEXT;
      ALTER TABLE import_errors ADD COLUMN record INTEGER;
      ALTER TABLE import_errors ADD COLUMN record_id TEXT;
    `,
  },
];

/** Apply every store migration (structures, engine tables) not applied yet. */
export function migrateStore(sql: SqlDb): void {
  migrate(sql, MIGRATIONS);
}

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
