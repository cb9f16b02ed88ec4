/** Terminal summaries printed by the store commands. */
import type { Store } from '../engine/store.js';
import type { ImportReport } from '../stages/import.js';
import { formatTable } from './table.js';

export function printImport(reports: ImportReport[]): void {
  console.log(formatTable(
    ['dataset', 'inserted', 'updated', 'unchanged', 'failed'],
    reports.map((r) => [r.dataset, String(r.inserted), String(r.updated), String(r.unchanged), String(r.failed)]),
  ));
}

export function printSummary(store: Store): void {
  const rows = store.structureSummary();
  console.log('');
  console.log(formatTable(
    ['dataset', 'structures', 'sites', 'min sites', 'max sites', 'with E_hull'],
    rows.map((r) => [r.dataset, String(r.structures), String(r.sites), String(r.minSites), String(r.maxSites), String(r.withEnergyAboveHull)]),
  ));
  const errors = store.importErrors();
  if (errors.length > 0) {
    console.log('');
    console.log(`${errors.length} records could not be imported:`);
    for (const e of errors.slice(0, 20)) console.log(`  ${e.dataset} ${e.sourceId ?? ''}: ${e.message}`);
    if (errors.length > 20) console.log(`  … and ${errors.length - 20} more (table import_errors)`);
  }
}

