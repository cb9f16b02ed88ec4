/**
 * `fracflow checkpoint DIR`: a consistent snapshot — SQLite: an online backup + every stage table as
 * CSV and Arrow IPC file; PostgreSQL: every table as CSV and Arrow from one repeatable-read transaction.
 */
import type { Command } from 'commander';
import { dbOption } from '../common.js';
import { openQueue } from '../../store/index.js';

export function register(program: Command): void {
  program
    .command('checkpoint')
    .description('write DIR/<stage>.csv + DIR/<stage>.arrow (Arrow IPC file) for every stage, all of one moment, and DIR/fracflow.db (online backup) of an SQLite store; of a PostgreSQL store every table, from one repeatable-read transaction')
    .argument('<dir>', 'output directory (created)')
    .addOption(dbOption())
    .action(async (dir: string, opts: { db: string }) => {
      const store = await openQueue(opts.db, { readonly: true });
      try {
        const files = await store.checkpoint(dir);
        for (const f of files) console.log(f);
      } finally {
        await store.close();
      }
    });
}
