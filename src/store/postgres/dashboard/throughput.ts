/** `throughputHistory` on PostgreSQL: rows finished per stage per time bucket, from each stage table's finished_at index (see src/store/sqlite/dashboard/throughput.ts). */
import type { ThroughputPoint } from '../../interface.js';
import type { PgTx } from '../connection.js';
import { StageError } from '../../../stage-kit/stage.js';
import { stageNames } from '../status.js';
import { tableExists } from './tables.js';

export async function throughputHistory(tx: PgTx, bucketMs: number, since: number): Promise<ThroughputPoint[]> {
  if (!Number.isFinite(bucketMs) || bucketMs < 1000) throw new StageError(`throughput history: bucketMs must be at least 1000, got ${JSON.stringify(bucketMs)}`);
  if (!Number.isFinite(since)) throw new StageError(`throughput history: since must be a time in ms, got ${JSON.stringify(since)}`);
  const out: ThroughputPoint[] = [];
  for (const stage of await stageNames(tx)) {
    if (!(await tableExists(tx, stage))) continue;
    // floor of a non-negative quotient: SQLite's integer cast of the same.
    const rows = await tx.all<{ b: number; done: number; failed: number }>(
      `SELECT CAST(floor((finished_at - @since) / @bucket) AS BIGINT) AS b, COUNT(*) FILTER (WHERE state = 'done') AS done, COUNT(*) FILTER (WHERE state = 'failed') AS failed
         FROM ${stage} WHERE finished_at IS NOT NULL AND finished_at >= @since GROUP BY 1 ORDER BY 1`,
      { since, bucket: bucketMs },
    );
    for (const r of rows) if (r.done + r.failed > 0) out.push({ at: since + r.b * bucketMs, stage, done: r.done, failed: r.failed });
  }
  return out.sort((a, b) => a.at - b.at || (a.stage < b.stage ? -1 : a.stage > b.stage ? 1 : 0));
}
