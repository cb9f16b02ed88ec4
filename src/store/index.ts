/**
 * Opening a store: an SQLite file or `:memory:` (the embedded default). The engine and the commands
 * take a {@link QueueStore} and know nothing of the backend behind it.
 */
import type { QueueStore } from './interface.js';
import { openSql, type OpenOptions } from './sqlite/connection.js';
import { SqliteQueueStore } from './sqlite/index.js';
import { checkSchema, ENGINE_MIGRATIONS, migrateEngine, missingMigration } from './sqlite/migrations.js';

export type { QueueStore } from './interface.js';
export { SqliteQueueStore } from './sqlite/index.js';

/**
 * Open the engine's store at `location`: an SQLite file path or `:memory:`, migrated to the engine's
 * schema. `readonly`: an existing store at that schema only (status, errors, export, checkpoint),
 * nothing created or migrated.
 */
export function openQueueStore(location: string, options: OpenOptions = {}): SqliteQueueStore {
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
