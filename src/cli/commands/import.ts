/** `fracflow import`: import structure files into the store. */
import type { Command } from 'commander';
import { dbOption, formatOption } from '../common.js';
import type { StructureFormat } from '../../structure/io.js';
import { openStore } from '../../engine/store.js';
import { importFiles } from '../../stages/import.js';
import { printImport } from '../report.js';

export function register(program: Command): void {
  program
    .command('import')
    .description('import structure files (CIF, POSCAR, pymatgen JSON, MP documents, extxyz) into the store')
    .argument('<files...>', 'structure files')
    .addOption(dbOption())
    .option('--dataset <name>', 'dataset name recorded with each structure', 'user')
    .addOption(formatOption())
    .action((files: string[], opts: { db: string; dataset: string; format?: StructureFormat }) => {
      const store = openStore(opts.db);
      try {
        const r = importFiles(store, files, opts.dataset, opts.format);
        printImport([r]);
        if (r.failed > 0) {
          for (const e of store.importErrors().slice(-r.failed)) console.error(`failed: ${e.message}`);
          process.exitCode = 1;
        }
      } finally {
        store.close();
      }
    });
}
