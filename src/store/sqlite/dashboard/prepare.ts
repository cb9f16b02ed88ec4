/**
 * `prepareDashboard`: the indexes that keep the pathways table's pages fast on a large store, created
 * where missing. The descriptors table is a stage table (created by the engine when the screen first
 * runs), so these are not a migration: they are made when a dashboard first opens the store writable.
 */
import { StoreError, type SqlDb } from '../connection.js';
import { PATHWAY_SORT_COLUMNS } from '../../interface.js';
import { tableExists } from './tables.js';
import { stageNames } from '../status.js';

/**
 * Indexes of the descriptors table, by name suffix: one per sort column (ending in the row id, the
 * tie-break of every page), and `search`, covering the text search (structure id and formula) so that
 * it scans the index, not the rows.
 */
export const PATHWAY_INDEXES: Record<string, string> = {
  ...Object.fromEntries(PATHWAY_SORT_COLUMNS.filter((c) => c !== 'images_state').map((c) => [c, `${c}, id`])),
  search: 'structure_id, formula, id',
};

/** Create the missing indexes; a read-only connection creates none (the reads work without, slower). */
export function prepareDashboard(sql: SqlDb): string[] {
  if (!tableExists(sql, 'descriptors')) return [];
  const missing = Object.keys(PATHWAY_INDEXES).filter((c) => !sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'index' AND name = ?", [`descriptors_dash_${c}`]));
  const images = tableExists(sql, 'images') && !sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'index' AND name = 'images_dash_state'");
  const stages = stageNames(sql).filter((t) => tableExists(sql, t) && !sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'index' AND name = ?", [`${t}_dash_finished`]));
  if (missing.length === 0 && !images && stages.length === 0) return [];
  const created: string[] = [];
  try {
    sql.transaction(() => {
      for (const c of missing) {
        sql.exec(`CREATE INDEX descriptors_dash_${c} ON descriptors (${PATHWAY_INDEXES[c]})`);
        created.push(`descriptors_dash_${c}`);
      }
      for (const t of stages) {
        // Finished rows by time with their state: the throughput chart and the rate of the status read only this index.
        sql.exec(`CREATE INDEX ${t}_dash_finished ON ${t} (finished_at, state) WHERE finished_at IS NOT NULL`);
        created.push(`${t}_dash_finished`);
      }
      if (images) {
        // The images state of a pathway, for sorting the table by it.
        sql.exec('CREATE INDEX images_dash_state ON images (state, id)');
        created.push('images_dash_state');
      }
    }, 'immediate');
  } catch (e) {
    if (e instanceof StoreError && e.code.startsWith('SQLITE_READONLY')) return [];
    throw e;
  }
  return created;
}
