/**
 * Schema changes of the SQLite store: numbered migrations (src/store/sqlite/migrations/NNN_*.sql, or
 * code where a change touches the tables the store creates at run time), each recorded in
 * `schema_migrations` in the same immediate transaction that applies it (recorded first, so a failing
 * migration rolls its record back too).
 *
 * Two components share the numbering: the engine's tables (its registry, events, attempt history,
 * emitted tables) and the diffusion workflow's (structures, import errors). The engine's store applies
 * its own ({@link ENGINE_MIGRATIONS}); the workflow's store applies both ({@link MIGRATIONS}).
 */
import { readFileSync } from 'node:fs';
import { StoreError, type SqlDb } from './connection.js';

export interface Migration {
  version: number;
  name: string;
  component: 'engine' | 'diffusion';
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
  refuseNewer(sql.path, sql);
  for (const m of migrations) {
    sql.transaction(() => {
      if (sql.get('SELECT 1 AS x FROM schema_migrations WHERE version = ?', [m.version])) return;
      sql.run('INSERT INTO schema_migrations (version, name) VALUES (?, ?)', [m.version, m.name]);
      if (m.sql) sql.exec(m.sql);
      m.run?.(sql);
    }, 'immediate');
  }
}

const file = (name: string) => readFileSync(new URL(`./migrations/${name}`, import.meta.url), 'utf8');

/** Every migration of the store, in order. */
export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'structures', component: 'diffusion', sql: file('001_structures.sql') },
  { version: 2, name: 'engine', component: 'engine', sql: file('002_engine.sql') },
  {
    version: 3,
    name: 'deaths apart from attempts',
    component: 'engine',
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
  { version: 4, name: 'structure identity', component: 'diffusion', sql: file('004_structure_identity.sql') },
  { version: 5, name: 'emitted tables', component: 'engine', sql: file('005_emitted_tables.sql') },
];

/** The engine's migrations (no domain tables). */
export const ENGINE_MIGRATIONS: readonly Migration[] = MIGRATIONS.filter((m) => m.component === 'engine');

/** Apply every migration not applied yet (the workflow's store: engine and domain tables). */
export function migrateStore(sql: SqlDb): void {
  migrate(sql, MIGRATIONS);
}

/** Apply the engine's migrations not applied yet. */
export function migrateEngine(sql: SqlDb): void {
  migrate(sql, ENGINE_MIGRATIONS);
}

/**
 * Check a store opened read-only: a fracflow store with every migration of `migrations` applied (a
 * read-only command creates and migrates nothing). Throws a StoreError naming the way out.
 */
export function missingMigration(sql: SqlDb, migrations: readonly Migration[]): { at: number | null; missing: Migration | null } {
  const has = sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'");
  if (!has) return { at: null, missing: migrations[0] ?? null };
  const at = sql.get<{ v: number | null }>('SELECT MAX(version) AS v FROM schema_migrations')!.v ?? 0;
  const missing = migrations.find((m) => !sql.get('SELECT 1 AS x FROM schema_migrations WHERE version = ?', [m.version])) ?? null;
  return { at, missing };
}

/** The newest migration this code knows. */
export const LATEST_MIGRATION = Math.max(...MIGRATIONS.map((m) => m.version));

/**
 * A store migrated by a newer fracflow (a migration this code does not know) is refused before
 * anything reads or writes it: its tables may mean what this code cannot tell.
 */
function refuseNewer(path: string, sql: SqlDb): void {
  const unknown = sql.get<{ version: number; name: string }>('SELECT version, name FROM schema_migrations WHERE version > ? ORDER BY version LIMIT 1', [LATEST_MIGRATION]);
  if (unknown) throw new StoreError(`store ${path}: it has migration ${unknown.version} (${unknown.name}), newer than this fracflow's ${LATEST_MIGRATION}: a newer fracflow wrote it; use that version (upgrade fracflow) to open it`, 'FRACFLOW_NEW_SCHEMA');
}

/** A read-only store that is not a fracflow store, or one older than this fracflow: a StoreError with the way out. */
export function checkSchema(path: string, m: ReturnType<typeof missingMigration>): void {
  if (m.at === null) throw new StoreError(`store ${path}: not a fracflow store (no schema_migrations table)`, 'FRACFLOW_NOT_A_STORE');
  if (m.at > LATEST_MIGRATION) throw new StoreError(`store ${path}: schema version ${m.at} is newer than this fracflow's ${LATEST_MIGRATION}: a newer fracflow wrote it; use that version (upgrade fracflow) to open it`, 'FRACFLOW_NEW_SCHEMA');
  if (m.missing) throw new StoreError(`store ${path}: schema version ${m.at} is older than this fracflow's (it lacks migration ${m.missing.version}, ${m.missing.name}); run a command that writes to the store (e.g. \`fracflow engine run\`) to migrate it`, 'FRACFLOW_OLD_SCHEMA');
}
