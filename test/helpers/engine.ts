/** The SQLite connection behind an engine's store, for tests that look at the tables directly. */
import type { Engine } from '../../src/engine/engine.js';
import type { SqlDb } from '../../src/store/sqlite/connection.js';
import { SqliteQueueStore } from '../../src/store/sqlite/index.js';

export function sqlOf(e: Engine): SqlDb {
  if (!(e.store instanceof SqliteQueueStore)) throw new Error('the engine does not run on the SQLite store');
  return e.store.sql;
}
