/** What the dashboard reads need to know of a store's tables: which exist, and their columns. */
import type { SqlDb } from '../connection.js';

export function tableExists(sql: SqlDb, name: string): boolean {
  return sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?", [name]) !== undefined;
}

export function tableColumns(sql: SqlDb, name: string): string[] {
  return sql.all<{ name: string }>('SELECT name FROM pragma_table_info(?)', [name]).map((r) => r.name);
}

/** Is `name` a registered stage table (so its name may stand in SQL text)? */
export function isRegisteredStage(sql: SqlDb, name: string): boolean {
  return sql.get('SELECT 1 AS x FROM engine_stages WHERE name = ?', [name]) !== undefined && tableExists(sql, name);
}
