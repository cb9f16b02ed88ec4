/** `events` on PostgreSQL: the newest entries of the run's event log (see src/store/sqlite/dashboard/events.ts). */
import type { EngineEventRecord } from '../../interface.js';
import type { PgTx } from '../connection.js';
import { StageError } from '../../../stage-kit/stage.js';

export async function recentEvents(tx: PgTx, limit: number): Promise<EngineEventRecord[]> {
  if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw new StageError(`events: limit must be an integer from 1 to 10000, got ${JSON.stringify(limit)}`);
  return (await tx.all<{ at: number; stage: string | null; kind: string; detail: string }>('SELECT at, stage, kind, detail FROM engine_events ORDER BY id DESC LIMIT @limit', { limit }))
    .map((r) => ({ at: r.at, stage: r.stage, kind: r.kind, detail: JSON.parse(r.detail) as unknown }));
}
