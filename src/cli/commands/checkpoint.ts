/** `fracflow checkpoint DIR`: online SQLite backup + every stage table as CSV and Arrow IPC file. */
import type { Command } from 'commander';
import { dbOption } from '../common.js';
import { openQueueStore } from '../../store/index.js';

export function register(program: Command): void {
  program
    .command('checkpoint')
    .description('write DIR/fracflow.db (online backup) and DIR/<stage>.csv + DIR/<stage>.arrow (Arrow IPC file) for every stage')
    .argument('<dir>', 'output directory (created)')
    .addOption(dbOption())
    .action(async (dir: string, opts: { db: string }) => {
      const store = openQueueStore(opts.db, { readonly: true });
      try {
        const files = await store.checkpoint(dir);
        for (const f of files) console.log(f);
      } finally {
        await store.close();
      }
    });
}
