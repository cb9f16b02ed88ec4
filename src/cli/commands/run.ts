/** `fracflow run`: the main job on the bundled data. */
import type { Command } from 'commander';
import { dbOption } from '../common.js';
import { openStore } from '../../store/sqlite/diffusion.js';
import { importBundled, type ImportReport } from '../../workflow/import.js';
import { BUNDLED_DATASETS } from '../../io/bundled.js';
import { printImport, printSummary } from '../report.js';

export function register(program: Command): void {
  program
    .command('run')
    .description('the main job on the bundled data: import every bundled fluoride structure into the store and print a summary')
    .addOption(dbOption())
    .option('--datasets <names>', `comma-separated bundled datasets (${BUNDLED_DATASETS.map((d) => d.name).join(', ')})`, BUNDLED_DATASETS.filter((d) => d.default).map((d) => d.name).join(','))
    .action((opts: { db: string; datasets: string }) => {
      const store = openStore(opts.db);
      try {
        const reports: ImportReport[] = [];
        for (const name of opts.datasets.split(',').map((s) => s.trim()).filter(Boolean)) reports.push(importBundled(store, name));
        printImport(reports);
        printSummary(store);
        console.log(`store: ${opts.db}`);
      } finally {
        store.close();
      }
    });
}
