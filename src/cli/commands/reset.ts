/** `fracflow reset --yes`: drop every stage table and the engine's run metadata (structures stay). */
import { InvalidArgumentError, type Command } from 'commander';
import { dbOption } from '../common.js';
import { openStore } from '../../store/sqlite/diffusion.js';
import { resetEngine } from '../../store/sqlite/ops.js';

export function register(program: Command): void {
  program
    .command('reset')
    .description('drop every stage table, attempt history, cutoffs and events; imported structures stay')
    .option('--yes', 'confirm')
    .addOption(dbOption())
    .action((opts: { yes?: boolean; db: string }) => {
      if (!opts.yes) throw new InvalidArgumentError('reset drops every stage table and its results; add --yes to confirm');
      const store = openStore(opts.db);
      try {
        const dropped = resetEngine(store.sql);
        console.log(dropped.length ? `dropped ${dropped.length} stage tables: ${dropped.join(', ')}` : 'no stage tables to drop');
      } finally {
        store.close();
      }
    });
}
