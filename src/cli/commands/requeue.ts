/** `fracflow requeue STAGE (--failed | --stale)`: put failed or stale rows back in the queue. */
import { InvalidArgumentError, type Command } from 'commander';
import { dbOption } from '../common.js';
import { openQueueStore } from '../../store/index.js';

export function register(program: Command): void {
  program
    .command('requeue')
    .description('back to pending: failed rows (--failed, attempts restart) or running rows whose holder is gone (--stale: lease expired, or a process of this host that no longer runs)')
    .argument('<stage>', 'stage table')
    .option('--failed', 'failed rows')
    .option('--stale', 'running rows whose lease has expired or whose holder (on this host) no longer runs')
    .addOption(dbOption())
    .action(async (stage: string, opts: { failed?: boolean; stale?: boolean; db: string }) => {
      if (opts.failed === opts.stale) throw new InvalidArgumentError('requeue: give exactly one of --failed or --stale');
      const store = openQueueStore(opts.db);
      try {
        const n = await store.requeue(stage, opts.failed ? 'failed' : 'stale');
        console.log(`${stage}: ${n} ${opts.failed ? 'failed' : 'stale'} rows back to pending`);
      } finally {
        await store.close();
      }
    });
}
