/** `throughputHistory`: rows finished per stage per time bucket, from each stage table's finished_at index. */
import type { ThroughputPoint } from '../../interface.js';
import type { SqlDb } from '../connection.js';
import { StageError } from '../../../stage-kit/stage.js';
import { stageNames } from '../status.js';
import { tableExists } from './tables.js';

export function throughputHistory(sql: SqlDb, bucketMs: number, since: number): ThroughputPoint[] {
  if (!Number.isFinite(bucketMs) || bucketMs < 1000) throw new StageError(`throughput history: bucketMs must be at least 1000, got ${JSON.stringify(bucketMs)}`);
  if (!Number.isFinite(since)) throw new StageError(`throughput history: since must be a time in ms, got ${JSON.stringify(since)}`);
  const out: ThroughputPoint[] = [];
  for (const stage of stageNames(sql)) {
    if (!tableExists(sql, stage)) continue;
    const rows = sql.all<{ b: number; done: number; failed: number }>(
      `SELECT CAST((finished_at - ?) / ? AS INTEGER) AS b, SUM(state = 'done') AS done, SUM(state = 'failed') AS failed
         FROM ${stage} WHERE finished_at IS NOT NULL AND finished_at >= ? GROUP BY b ORDER BY b`,
      [since, bucketMs, since],
    );
    for (const r of rows) if (r.done + r.failed > 0) out.push({ at: since + r.b * bucketMs, stage, done: r.done, failed: r.failed });
  }
  return out.sort((a, b) => a.at - b.at || (a.stage < b.stage ? -1 : a.stage > b.stage ? 1 : 0));
}
