/**
 * Opening a store by location: an SQLite file or `:memory:` (the embedded default), or a PostgreSQL
 * database (`postgres://user@host:port/db`, the PG* variables filling in what the URL leaves out).
 * The engine, the workflow and the commands take a {@link QueueStore} or a {@link DiffusionStore} and
 * know nothing of the backend behind it.
 */
import type { DashboardStore, ErrorGroup, QueueStore } from './interface.js';
import type { DiffusionStore } from './diffusion.js';
import { openSql, type OpenOptions } from './sqlite/connection.js';
import { SqliteQueueStore } from './sqlite/index.js';
import { checkSchema, ENGINE_MIGRATIONS, migrateEngine, missingMigration } from './sqlite/migrations.js';
import { importErrorGroups as sqliteImportErrorGroups, SqliteDiffusionStore, Store } from './sqlite/diffusion.js';
import { openPg } from './postgres/connection.js';
import { checkPgSchema, migratePg } from './postgres/migrations.js';
import { PgQueueStore } from './postgres/index.js';
import { PgDiffusionStore } from './postgres/diffusion.js';
import { importErrorGroups as pgImportErrorGroups } from './postgres/ops.js';
import { parseLocation } from './location.js';

export type { QueueStore } from './interface.js';
export type { DiffusionStore } from './diffusion.js';
export { SqliteQueueStore } from './sqlite/index.js';
export { PgQueueStore } from './postgres/index.js';
export { describeLocation, isPostgresLocation, resolveDb, DEFAULT_DB } from './location.js';

export interface StoreOpenOptions extends OpenOptions {
  /** PostgreSQL: connections in this process's pool. Default 3. */
  maxConnections?: number;
  /** PostgreSQL: how long a dropped connection is retried before a call fails (ms). Default 60000. */
  retryMs?: number;
}

function openPgDb(url: string, display: string, options: StoreOpenOptions) {
  return openPg({ url, display, maxConnections: options.maxConnections, retryMs: options.retryMs });
}

/**
 * Open the engine's store at `location`: an SQLite file path or `:memory:` (synchronously, migrated
 * to the engine's schema). `readonly`: an existing store at that schema only (status, errors,
 * export, checkpoint), nothing created or migrated. PostgreSQL locations are opened by {@link openQueue}.
 */
export function openQueueStore(location: string, options: OpenOptions = {}): SqliteQueueStore {
  const l = parseLocation(location);
  if (l.kind === 'postgres') throw new Error(`store ${l.display}: a PostgreSQL database, and this opens SQLite stores only (open either backend with openQueue or openDashboardStore)`);
  const readonly = options.readonly === true && location !== ':memory:';
  const sql = openSql(location, { ...options, readonly });
  try {
    if (!readonly) migrateEngine(sql);
    else checkSchema(sql.path, missingMigration(sql, ENGINE_MIGRATIONS));
  } catch (e) {
    sql.close();
    throw e;
  }
  return new SqliteQueueStore(sql);
}

/** The engine's store at `location`, either backend (see {@link openQueueStore} for `readonly`). */
export async function openQueue(location: string, options: StoreOpenOptions = {}): Promise<QueueStore> {
  const l = parseLocation(location);
  if (l.kind === 'sqlite') return openQueueStore(l.path, options);
  const db = openPgDb(l.url, l.display, options);
  try {
    if (options.readonly) await checkPgSchema(db, ['engine']);
    else await migratePg(db, ['engine']);
  } catch (e) {
    await db.close();
    throw e;
  }
  return new PgQueueStore(db);
}

/** A store the dashboard reads: the queue verbs and the dashboard's reads on one backend. */
export type DashboardBackendStore = QueueStore & DashboardStore;

/**
 * The store at `location` for the dashboard (`serve`, `plot`), either backend, at the engine's schema
 * (nothing migrated). `readonly`: SQLite opens the file read-only; PostgreSQL runs every transaction
 * read-only, so the server refuses any write.
 */
export async function openDashboardStore(location: string, options: StoreOpenOptions = {}): Promise<DashboardBackendStore> {
  const l = parseLocation(location);
  if (l.kind === 'sqlite') return openQueueStore(l.path, options);
  const db = openPg({ url: l.url, display: l.display, maxConnections: options.maxConnections, retryMs: options.retryMs, readonly: options.readonly === true, applicationName: 'fracflow serve' });
  try {
    await checkPgSchema(db, ['engine']);
  } catch (e) {
    await db.close();
    throw e;
  }
  return new PgQueueStore(db);
}

/**
 * The diffusion workflow's store at `location` (its tables and the engine's, migrated), either
 * backend: what `screen`, `import`, `run` and `calc` open.
 */
export async function openStores(location: string, options: StoreOpenOptions = {}): Promise<DiffusionStore> {
  const l = parseLocation(location);
  if (l.kind === 'sqlite') return new SqliteDiffusionStore(new Store(l.path, options));
  const db = openPgDb(l.url, l.display, options);
  try {
    if (options.readonly) await checkPgSchema(db, ['engine', 'diffusion']);
    else await migratePg(db, ['engine', 'diffusion']);
  } catch (e) {
    await db.close();
    throw e;
  }
  return new PgDiffusionStore(db);
}

/** Import errors of the workflow's `import_errors` table as `errors` lists them (none in a store without it). */
export async function importErrorGroupsOf(store: QueueStore): Promise<ErrorGroup[]> {
  if (store instanceof SqliteQueueStore) return sqliteImportErrorGroups(store);
  if (store instanceof PgQueueStore) return store.db.transaction((tx) => pgImportErrorGroups(tx));
  return [];
}
