/** What the dashboard reads need to know of a PostgreSQL store's tables: which exist, and their columns. */
import type { PgTx } from '../connection.js';
import { tableColumns } from '../ensure.js';

export { tableColumns };

/** Is there a table `name` in the store's schema (the search path's first)? */
export async function tableExists(tx: PgTx, name: string): Promise<boolean> {
  return (await tx.get("SELECT 1 AS x FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = @n", { n: name })) !== undefined;
}

/** Is `name` a registered stage table (so its name may stand in SQL text)? */
export async function isRegisteredStage(tx: PgTx, name: string): Promise<boolean> {
  return (await tx.get('SELECT 1 AS x FROM engine_stages WHERE name = @n', { n: name })) !== undefined && (await tableExists(tx, name));
}
