/** `fracflow scale STAGE=N ...`: change worker counts; running engines apply it within a tick. */
import { InvalidArgumentError, type Command } from 'commander';
import { dbOption } from '../common.js';
import { openQueueStore } from '../../store/index.js';

export function register(program: Command): void {
  program
    .command('scale')
    .description('set the worker count of stages (STAGE=N); a running engine resizes its pool within a tick')
    .argument('<settings...>', 'STAGE=N pairs')
    .addOption(dbOption())
    .action(async (settings: string[], opts: { db: string }) => {
      const parsed = settings.map((s) => {
        const m = /^([a-z][a-z0-9_]*)=(\d+)$/.exec(s);
        if (!m) throw new InvalidArgumentError(`scale: expected STAGE=N (N a positive integer), got ${JSON.stringify(s)}`);
        return { stage: m[1]!, n: Number(m[2]) };
      });
      const store = openQueueStore(opts.db);
      try {
        for (const p of parsed) {
          const r = await store.scale(p.stage, p.n);
          console.log(`${p.stage}: ${r.from} -> ${r.to} workers`);
        }
      } finally {
        await store.close();
      }
    });
}
