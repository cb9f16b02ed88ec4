/**
 * Schema changes of the PostgreSQL store: the same numbered migrations as the SQLite store
 * (src/store/sqlite/migrations.ts), in PostgreSQL's dialect (src/store/postgres/migrations/NNN_*.sql),
 * each recorded in `schema_migrations` in the transaction that applies it. Two processes that open a
 * new database at once migrate it once: the first takes a transaction-scoped advisory lock, the other
 * waits for it and then finds every migration recorded.
 */
import { readFileSync } from 'node:fs';
import { PgStoreError, type PgDb, type PgTx } from './connection.js';

export interface PgMigration {
  version: number;
  name: string;
  component: 'engine' | 'diffusion';
  file: string;
}

/** Every migration, in order (numbers and names as in the SQLite store). */
export const PG_MIGRATIONS: readonly PgMigration[] = [
  { version: 1, name: 'structures', component: 'diffusion', file: '001_structures.sql' },
  { version: 2, name: 'engine', component: 'engine', file: '002_engine.sql' },
  { version: 3, name: 'deaths apart from attempts', component: 'engine', file: '003_deaths.sql' },
  { version: 4, name: 'structure identity', component: 'diffusion', file: '004_structure_identity.sql' },
  { version: 5, name: 'emitted tables', component: 'engine', file: '005_emitted_tables.sql' },
  { version: 6, name: 'workers and batch jobs', component: 'engine', file: '006_workers.sql' },
];

export const PG_LATEST_MIGRATION = Math.max(...PG_MIGRATIONS.map((m) => m.version));

const text = (name: string) => readFileSync(new URL(`./migrations/${name}`, import.meta.url), 'utf8');

/**
 * How long opening a store retries a server that refuses connections (ms): a command given a wrong
 * host or port says so at once; a worker already running rides out a restart (the store's own retry).
 */
const OPEN_RETRY_MS = 1500;

/** Key of the advisory lock migrations take (any constant; "ffmg"). */
const MIGRATION_LOCK = 0x66666d67;

async function hasTable(tx: PgTx, name: string): Promise<boolean> {
  return (await tx.get<{ t: string | null }>('SELECT to_regclass(@name) AS t', { name }))?.t != null;
}

async function refuseNewer(tx: PgTx, display: string): Promise<void> {
  const unknown = await tx.get<{ version: number; name: string }>('SELECT version, name FROM schema_migrations WHERE version > @v ORDER BY version LIMIT 1', { v: PG_LATEST_MIGRATION });
  if (unknown) throw new PgStoreError(`store ${display}: it has migration ${unknown.version} (${unknown.name}), newer than this fracflow's ${PG_LATEST_MIGRATION}: a newer fracflow wrote it; use that version (upgrade fracflow) to open it`, 'FRACFLOW_NEW_SCHEMA');
}

/** Apply the migrations of these components not applied yet (the engine's store: `engine`; the workflow's: both). */
export async function migratePg(db: PgDb, components: readonly ('engine' | 'diffusion')[]): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.all('SELECT pg_advisory_xact_lock(@k)', { k: MIGRATION_LOCK });
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version INTEGER PRIMARY KEY, name TEXT NOT NULL,
      applied_at TEXT NOT NULL DEFAULT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))`);
    await refuseNewer(tx, db.display);
    const done = new Set((await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    for (const m of PG_MIGRATIONS) {
      if (done.has(m.version) || !components.includes(m.component)) continue;
      await tx.run('INSERT INTO schema_migrations (version, name) VALUES (@v, @n)', { v: m.version, n: m.name });
      await tx.exec(text(m.file));
    }
  }, 'read committed', OPEN_RETRY_MS);
}

/** A store opened for reading only must be a fracflow store at this version's schema: a PgStoreError with the way out. */
export async function checkPgSchema(db: PgDb, components: readonly ('engine' | 'diffusion')[]): Promise<void> {
  await db.transaction(async (tx) => {
    if (!(await hasTable(tx, 'schema_migrations'))) throw new PgStoreError(`store ${db.display}: not a fracflow store (no schema_migrations table)`, 'FRACFLOW_NOT_A_STORE');
    await refuseNewer(tx, db.display);
    const done = new Set((await tx.all<{ version: number }>('SELECT version FROM schema_migrations')).map((r) => r.version));
    const at = Math.max(0, ...done);
    const missing = PG_MIGRATIONS.find((m) => components.includes(m.component) && !done.has(m.version));
    if (missing) throw new PgStoreError(`store ${db.display}: schema version ${at} is older than this fracflow's (it lacks migration ${missing.version}, ${missing.name}); run a command that writes to the store (e.g. \`fracflow engine run\`) to migrate it`, 'FRACFLOW_OLD_SCHEMA');
  }, 'read committed', OPEN_RETRY_MS);
}
