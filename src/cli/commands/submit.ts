/** `fracflow submit STAGE KEY`: put one entity at the head of a stage's queue. */
import type { Command } from 'commander';
import { dbOption } from '../common.js';
import { openQueueStore } from '../../store/index.js';

export function register(program: Command): void {
  program
    .command('submit')
    .description("put one entity at the head of a stage's queue (a failed one is re-queued there)")
    .argument('<stage>', 'stage table')
    .argument('<key>', 'entity key')
    .addOption(dbOption())
    .action(async (stage: string, key: string, opts: { db: string }) => {
      const store = openQueueStore(opts.db);
      try {
        await store.submit(stage, key);
        console.log(`${stage}: ${key} is at the head of the queue`);
      } finally {
        await store.close();
      }
    });
}
