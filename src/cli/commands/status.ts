/** `fracflow status`: per stage pending/running/done/failed, rows/s, ETA and worker count. */
import type { Command } from 'commander';
import { dbOption } from '../common.js';
import { openQueueStore } from '../../store/index.js';
import { formatTable } from '../table.js';

function eta(s: number | null): string {
  if (s === null) return '-';
  return s < 60 ? `${s.toFixed(0)}s` : s < 3600 ? `${(s / 60).toFixed(1)}m` : `${(s / 3600).toFixed(1)}h`;
}

export function register(program: Command): void {
  program
    .command('status')
    .description('per stage: pending, running, done, failed, rows/s over the last minute, ETA, workers')
    .option('--json', 'JSON instead of a table')
    .addOption(dbOption())
    .action(async (opts: { json?: boolean; db: string }) => {
      const store = openQueueStore(opts.db, { readonly: true });
      try {
        const rows = await store.status();
        if (opts.json) {
          console.log(JSON.stringify(rows));
          return;
        }
        if (rows.length === 0) {
          console.log('no stages yet (run `fracflow engine run`)');
          return;
        }
        console.log(formatTable(
          ['stage', 'pending', 'running', 'done', 'failed', 'rows/s', 'ETA', 'workers'],
          rows.map((r) => [r.stage, String(r.pending), String(r.running), String(r.done), String(r.failed), r.rowsPerSec.toFixed(1), eta(r.etaSec), String(r.workers)]),
        ));
      } finally {
        await store.close();
      }
    });
}
