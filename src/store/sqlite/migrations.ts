/**
 * Schema changes of the SQLite store: numbered migrations, each recorded in `schema_migrations` in
 * the same immediate transaction that applies it (recorded first, so a failing migration rolls its
 * record back too).
 */
import type { SqlDb } from './connection.js';

export interface Migration {
  version: number;
  name: string;
  /** Statements to run. */
  sql: string;
  /** Or code, for changes to tables the store creates at run time (stage tables); same transaction. */
  run?: (sql: SqlDb) => void;
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
      if (m.sql) sql.exec(m.sql);
      m.run?.(sql);
    }, 'immediate');
  }
}

export const MIGRATIONS: Migration[] = [
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
    name: 'deaths apart from attempts',
    sql: '',
    // Every stage table gets `deaths` (runs that ended because their holder died, counted apart from
    // attempts) with a partial index over the rows that have some, and `fail_kind` ('error': the work
    // threw its last attempt; 'died': too many deaths).
    run: (sql) => {
      for (const { name } of sql.all<{ name: string }>('SELECT name FROM engine_stages')) {
        const cols = sql.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', [name]).map((c) => c.name);
        if (cols.length === 0) continue;
        if (!cols.includes('deaths')) sql.exec(`ALTER TABLE ${name} ADD COLUMN deaths INTEGER NOT NULL DEFAULT 0`);
        sql.exec(`CREATE INDEX IF NOT EXISTS ${name}_suspects ON ${name} (state) WHERE deaths > 0`);
        if (!cols.includes('fail_kind')) {
          sql.exec(`ALTER TABLE ${name} ADD COLUMN fail_kind TEXT`);
          // Earlier versions failed a row whose lease ran out at its last attempt: a death.
          sql.exec(`UPDATE ${name} SET fail_kind = CASE WHEN last_error LIKE 'lease expired%' OR last_error LIKE 'batch lost%' THEN 'died' ELSE 'error' END WHERE state = 'failed'`);
        }
      }
    },
  },
  {
    version: 4,
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
  {
    version: 5,
    name: 'emitted tables',
    // The tables fan-out stages emit rows into (one structure -> its pathways): name, the emitting
    // stage and the declared columns.
    sql: `
      CREATE TABLE IF NOT EXISTS engine_emits (
        name      TEXT PRIMARY KEY,
        stage     TEXT NOT NULL,
        spec_json TEXT NOT NULL
      );
    `,
  },
];

/** Apply every store migration (structures, engine tables) not applied yet. */
export function migrateStore(sql: SqlDb): void {
  migrate(sql, MIGRATIONS);
}

