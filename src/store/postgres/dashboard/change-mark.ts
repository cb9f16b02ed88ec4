/**
 * `changeMark` on PostgreSQL: the server's current snapshot (`xmin:xmax:in-progress ids`). It changes
 * when a transaction that writes takes its id or ends, so every commit from any connection moves it,
 * and reads (which take no id) leave it alone; it reads no table. It is the server's, not the
 * database's: a commit to another database on the same server moves it too, which costs the
 * dashboard one needless read of its overview.
 */
import type { PgTx } from '../connection.js';

export async function changeMark(tx: PgTx): Promise<string> {
  return (await tx.get<{ s: string }>('SELECT CAST(pg_current_snapshot() AS TEXT) AS s'))!.s;
}
