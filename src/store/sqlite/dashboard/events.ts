/** `events`: the newest entries of the run's event log (priority swaps, broadened cutoffs, scale changes, halts). */
import type { EngineEventRecord } from '../../interface.js';
import type { SqlDb } from '../connection.js';
import { StageError } from '../../../stage-kit/stage.js';

export function recentEvents(sql: SqlDb, limit: number): EngineEventRecord[] {
  if (!Number.isInteger(limit) || limit < 1 || limit > 10000) throw new StageError(`events: limit must be an integer from 1 to 10000, got ${JSON.stringify(limit)}`);
  return sql
    .all<{ at: number; stage: string | null; kind: string; detail: string }>('SELECT at, stage, kind, detail FROM engine_events ORDER BY id DESC LIMIT ?', [limit])
    .map((r) => ({ at: r.at, stage: r.stage, kind: r.kind, detail: JSON.parse(r.detail) as unknown }));
}
