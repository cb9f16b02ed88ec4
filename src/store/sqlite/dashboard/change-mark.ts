/**
 * `changeMark`: SQLite's data_version (changes when another connection commits to the file) and this
 * connection's own change count: together they change on every commit from anywhere, and reading them
 * touches no table.
 */
import type { SqlDb } from '../connection.js';

export function changeMark(sql: SqlDb): string {
  const other = sql.pragma('data_version');
  const own = sql.get<{ n: number }>('SELECT total_changes() AS n')!.n;
  return `${String(other)}:${own}`;
}
