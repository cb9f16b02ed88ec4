/**
 * `prepareDashboard` on PostgreSQL: the indexes that keep the pathways table's pages fast on a large
 * store, created where missing (see src/store/sqlite/dashboard/prepare.ts). Text sort columns are
 * indexed in byte order (`COLLATE "C"`), the order the page sorts them in. Each index is built in a
 * transaction of its own: the build holds writers of the table back until it commits (a second or
 * so at 50,000 rows), and workers running meanwhile wait for one index at a time, not for all. The
 * tables are vacuumed and analysed afterwards (VACUUM holds no writer back). A store opened
 * read-only, or a user who does not own the tables, creates nothing (the reads work without, slower).
 */
import { PATHWAY_SORT_COLUMNS } from '../../interface.js';
import type { PgDb } from '../connection.js';
import { BYTE_ORDERED } from './pathways-page.js';
import { tableExists } from './tables.js';
import { stageNames } from '../status.js';

/** Indexes of the descriptors table, by name suffix: one per sort column, ending in the row id (the tie-break of every page). */
export const PG_PATHWAY_INDEXES: Record<string, string> = {
  ...Object.fromEntries(PATHWAY_SORT_COLUMNS.filter((c) => c !== 'images_state').map((c) => [c, `${c}${BYTE_ORDERED.has(c) ? ' COLLATE "C"' : ''}, id`])),
  // The text search's columns: its count is an index-only scan of this index, not a scan of the rows.
  search: 'structure_id, formula, id',
  // Row ids with their keys: the rows without an images row (the images-state sort's null rows) found from this index alone.
  key: 'id, key',
};

/** SQLSTATEs of a refusal to create: a read-only transaction, not the table's owner. */
const REFUSED = new Set(['25006', '42501']);

export async function prepareDashboard(db: PgDb, readonly: boolean): Promise<string[]> {
  if (readonly) return [];
  const wanted = await db.transaction(async (tx) => {
    const out: { name: string; ddl: string }[] = [];
    const have = new Set((await tx.all<{ name: string }>('SELECT indexname AS name FROM pg_indexes WHERE schemaname = current_schema()')).map((r) => r.name));
    if (await tableExists(tx, 'descriptors')) {
      for (const [c, cols] of Object.entries(PG_PATHWAY_INDEXES)) {
        if (!have.has(`descriptors_dash_${c}`)) out.push({ name: `descriptors_dash_${c}`, ddl: `CREATE INDEX IF NOT EXISTS descriptors_dash_${c} ON descriptors (${cols})` });
      }
    }
    // The images state of a pathway, for sorting the table by it, with the key the page joins on.
    if ((await tableExists(tx, 'images')) && !have.has('images_dash_state')) out.push({ name: 'images_dash_state', ddl: 'CREATE INDEX IF NOT EXISTS images_dash_state ON images (state, id) INCLUDE (key)' });
    for (const t of await stageNames(tx)) {
      // Finished rows by time with their state: the throughput chart reads only this index.
      if ((await tableExists(tx, t)) && !have.has(`${t}_dash_finished`)) out.push({ name: `${t}_dash_finished`, ddl: `CREATE INDEX IF NOT EXISTS ${t}_dash_finished ON ${t} (finished_at, state) WHERE finished_at IS NOT NULL` });
    }
    return out;
  });
  const created: string[] = [];
  for (const w of wanted) {
    try {
      await db.transaction((tx) => tx.exec(w.ddl));
    } catch (e) {
      if (REFUSED.has((e as { code?: string }).code ?? '')) return created;
      throw e;
    }
    created.push(w.name);
  }
  if (created.length) {
    // Vacuumed once, with the new indexes: the visibility map it sets lets the counts of the pages,
    // the status and the chart scan an index alone (autovacuum keeps it up while rows change); analysed for the planner.
    const tables = [...new Set(created.map((n) => n.slice(0, n.indexOf('_dash_'))))];
    await db.outsideTransaction(`VACUUM (ANALYZE) ${tables.join(', ')}`);
  }
  return created;
}
