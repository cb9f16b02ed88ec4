/**
 * `prepareDashboard`: the indexes that keep the pathways table's pages fast on a large store, created
 * where missing. The descriptors table is a stage table (created by the engine when the screen first
 * runs), so these are not a migration: they are made when a dashboard first opens the store writable.
 */
import { StoreError, type SqlDb } from '../connection.js';
import { tableExists } from './tables.js';

/** Indexed sort and filter columns of the descriptors table: each index ends in the row id, the tie-break of every page. */
export const PATHWAY_INDEXES = [
  'ewald_energy', 'length', 'dimensionality', 'ionic_radii_overlap_cations', 'ionic_radii_overlap_anions', 'nsites_777', 'structure_id', 'formula',
] as const;

/** Create the missing indexes; a read-only connection creates none (the reads work without, slower). */
export function prepareDashboard(sql: SqlDb): string[] {
  if (!tableExists(sql, 'descriptors')) return [];
  const missing = PATHWAY_INDEXES.filter((c) => !sql.get("SELECT 1 AS x FROM sqlite_master WHERE type = 'index' AND name = ?", [`descriptors_dash_${c}`]));
  if (missing.length === 0) return [];
  const created: string[] = [];
  try {
    sql.transaction(() => {
      for (const c of missing) {
        sql.exec(`CREATE INDEX descriptors_dash_${c} ON descriptors (${c}, id)`);
        created.push(`descriptors_dash_${c}`);
      }
    }, 'immediate');
  } catch (e) {
    if (e instanceof StoreError && e.code.startsWith('SQLITE_READONLY')) return [];
    throw e;
  }
  return created;
}
