/**
 * `fracflow checkpoint DIR`: a consistent snapshot — SQLite: an online backup + every stage table as
 * CSV and Arrow IPC file; PostgreSQL: every table as CSV and Arrow from one repeatable-read transaction,
 * or (`--format pg_dump`) PostgreSQL's own dump of the database by this host's pg_dump.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { dbOption } from '../common.js';
import { describeLocation, isPostgresLocation, openQueue, pgDump } from '../../store/index.js';

export function register(program: Command): void {
  program
    .command('checkpoint')
    .description('write DIR/<stage>.csv + DIR/<stage>.arrow (Arrow IPC file) for every stage, all of one moment, and DIR/fracflow.db (online backup) of an SQLite store; of a PostgreSQL store every table, from one repeatable-read transaction')
    .argument('<dir>', 'output directory (created)')
    .addOption(new Option('--format <format>', 'csv-arrow: every table as CSV and Arrow (and the SQLite file); pg_dump: a PostgreSQL store as DIR/fracflow.dump (pg_dump custom format, for pg_restore; pg_dump must be on PATH; the password goes to it through its environment, never its arguments)').choices(['csv-arrow', 'pg_dump']).default('csv-arrow'))
    .addOption(dbOption())
    .action(async (dir: string, opts: { db: string; format: 'csv-arrow' | 'pg_dump' }) => {
      if (opts.format === 'pg_dump' && !isPostgresLocation(opts.db)) throw new InvalidArgumentError(`--format pg_dump: the store ${describeLocation(opts.db)} is an SQLite file; pg_dump dumps a PostgreSQL store (the default format backs an SQLite store up as DIR/fracflow.db)`);
      const store = await openQueue(opts.db, { readonly: true });
      try {
        if (opts.format === 'pg_dump') {
          // Opened first: a database that is not a fracflow store is refused with the way out.
          mkdirSync(dir, { recursive: true });
          const file = join(dir, 'fracflow.dump');
          pgDump(opts.db, file);
          console.log(file);
          return;
        }
        const files = await store.checkpoint(dir);
        for (const f of files) console.log(f);
      } finally {
        await store.close();
      }
    });
}
