/** `fracflow cleanup --older-than 7d`: purge run metadata of finished rows; results stay. */
import { InvalidArgumentError, type Command } from 'commander';
import { dbOption } from '../common.js';
import { openQueueStore } from '../../store/index.js';
import { parseDuration } from '../../store/sqlite/ops.js';

export function register(program: Command): void {
  program
    .command('cleanup')
    .description('purge attempt history, events and lease bookkeeping of rows finished before the given age; results are kept')
    .requiredOption('--older-than <age>', 'age such as 7d, 12h, 30m, 45s', (v: string) => {
      try {
        return parseDuration(v);
      } catch (e) {
        throw new InvalidArgumentError(`--older-than: ${(e as Error).message}`);
      }
    })
    .addOption(dbOption())
    .action(async (opts: { olderThan: number; db: string }) => {
      const store = openQueueStore(opts.db);
      try {
        const r = await store.cleanup(opts.olderThan);
        console.log(`purged ${r.attempts} attempt records, ${r.events} events, bookkeeping of ${r.rows} rows`);
      } finally {
        await store.close();
      }
    });
}
