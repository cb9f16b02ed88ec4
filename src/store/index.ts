/**
 * Opening a store: an SQLite file or `:memory:` (the embedded default). The engine and the commands
 * take a {@link QueueStore} and know nothing of the backend behind it.
 */
import type { QueueStore } from './interface.js';
import { openSql, type OpenOptions } from './sqlite/connection.js';
import { SqliteQueueStore } from './sqlite/index.js';
import { migrateStore } from './sqlite/migrations.js';

export type { QueueStore } from './interface.js';
export { SqliteQueueStore } from './sqlite/index.js';

/** Open (and migrate) the store at `location`: an SQLite file path or `:memory:`. */
export function openQueueStore(location: string, options: OpenOptions = {}): QueueStore {
  const sql = openSql(location, options);
  try {
    migrateStore(sql);
  } catch (e) {
    sql.close();
    throw e;
  }
  return new SqliteQueueStore(sql);
}
