/** `fracflow errors [STAGE]`: failed rows grouped by message, with example keys. */
import type { Command } from 'commander';
import { dbOption } from '../common.js';
import { openStore } from '../../engine/store.js';
import { errorGroups } from '../../engine/ops.js';

export function register(program: Command): void {
  program
    .command('errors')
    .description('failed rows grouped by error message, with up to three example keys each')
    .argument('[stage]', 'one stage (default: all)')
    .option('--json', 'JSON instead of text')
    .addOption(dbOption())
    .action((stage: string | undefined, opts: { json?: boolean; db: string }) => {
      const store = openStore(opts.db, { readonly: true });
      try {
        const groups = errorGroups(store.sql, stage);
        if (opts.json) console.log(JSON.stringify(groups));
        else if (groups.length === 0) console.log('no failed rows');
        else for (const g of groups) console.log(`${g.stage}: ${g.rows} rows (up to ${g.attempts} attempts): ${g.message}\n  e.g. ${g.examples.join(', ')}`);
      } finally {
        store.close();
      }
    });
}
