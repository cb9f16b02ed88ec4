/** `fracflow reset --yes`: drop every stage table and the engine's run metadata (structures stay). */
import { InvalidArgumentError, type Command } from 'commander';
import { dbOption } from '../common.js';
import { openQueueStore } from '../../store/index.js';

export function register(program: Command): void {
  program
    .command('reset')
    .description('drop every stage table, attempt history, cutoffs and events; imported structures stay')
    .option('--yes', 'confirm')
    .addOption(dbOption())
    .action(async (opts: { yes?: boolean; db: string }) => {
      if (!opts.yes) throw new InvalidArgumentError('reset drops every stage table and its results; add --yes to confirm');
      const store = openQueueStore(opts.db);
      try {
        const dropped = await store.reset();
        console.log(dropped.length ? `dropped ${dropped.length} stage tables: ${dropped.join(', ')}` : 'no stage tables to drop');
      } finally {
        await store.close();
      }
    });
}
