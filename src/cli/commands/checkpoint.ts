/** `fracflow checkpoint DIR`: online SQLite backup + every stage table as CSV and Arrow IPC file. */
import type { Command } from 'commander';
import { dbOption } from '../common.js';
import { openStore } from '../../store/sqlite/diffusion.js';
import { checkpoint } from '../../store/sqlite/ops.js';

export function register(program: Command): void {
  program
    .command('checkpoint')
    .description('write DIR/fracflow.db (online backup) and DIR/<stage>.csv + DIR/<stage>.arrow (Arrow IPC file) for every stage')
    .argument('<dir>', 'output directory (created)')
    .addOption(dbOption())
    .action(async (dir: string, opts: { db: string }) => {
      const store = openStore(opts.db, { readonly: true });
      try {
        const files = await checkpoint(store.sql, dir);
        for (const f of files) console.log(f);
      } finally {
        store.close();
      }
    });
}
