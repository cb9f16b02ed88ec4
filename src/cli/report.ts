/** Terminal summaries printed by the store commands. */
import type { Store } from '../store/sqlite/diffusion.js';
import type { ImportReport } from '../workflow/import.js';
import { formatTable } from './table.js';

/**
 * Per dataset: rows inserted, updated, unchanged; how many of them are content duplicates of an
 * earlier structure (kept, not screened again), with examples; records that failed.
 */
export function printImport(reports: ImportReport[]): void {
  console.log(formatTable(
    ['dataset', 'inserted', 'updated', 'unchanged', 'duplicates', 'failed'],
    reports.map((r) => [r.dataset, String(r.inserted), String(r.updated), String(r.unchanged), String(r.duplicates), String(r.failed)]),
  ));
  for (const r of reports) {
    if (r.duplicates === 0) continue;
    const e = r.duplicateExamples.map((p) => `${p.sourceId} = ${p.duplicateOf}`).join(', ');
    console.log(`${r.dataset}: ${r.duplicates} ${r.duplicates === 1 ? 'structure has' : 'structures have'} the content of an earlier one (kept, not screened again), e.g. ${e}`);
  }
}

export function printSummary(store: Store): void {
  const rows = store.structureSummary();
  console.log('');
  console.log(formatTable(
    ['dataset', 'structures', 'duplicates', 'sites', 'min sites', 'max sites', 'with E_hull'],
    rows.map((r) => [r.dataset, String(r.structures), String(r.duplicates), String(r.sites), String(r.minSites), String(r.maxSites), String(r.withEnergyAboveHull)]),
  ));
  const errors = store.importErrors();
  if (errors.length > 0) {
    console.log('');
    console.log(`${errors.length} records could not be imported:`);
    for (const e of errors.slice(0, 20)) console.log(`  ${e.dataset} ${e.sourceId ?? ''}: ${e.message}`);
    if (errors.length > 20) console.log(`  … and ${errors.length - 20} more (table import_errors)`);
  }
}

