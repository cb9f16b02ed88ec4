/** `fracflow export TABLE --format csv|arrow|json`: one table to stdout or a file. */
import { Option, type Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { dbOption } from '../common.js';
import { openQueueStore } from '../../store/index.js';

type ExportFormat = 'csv' | 'arrow' | 'json';

export function register(program: Command): void {
  program
    .command('export')
    .description('export a table (stage table or store table) as CSV, Arrow IPC file or JSON lines')
    .argument('<table>', 'table name')
    .addOption(new Option('--format <format>', 'output format').choices(['csv', 'arrow', 'json']).default('csv'))
    .option('--out <file>', 'write here instead of stdout')
    .addOption(dbOption())
    .action(async (table: string, opts: { format: ExportFormat; out?: string; db: string }) => {
      const store = openQueueStore(opts.db, { readonly: true });
      try {
        const bytes = await store.exportTable(table, opts.format);
        if (opts.out) writeFileSync(opts.out, bytes);
        else process.stdout.write(bytes);
      } finally {
        await store.close();
      }
    });
}
