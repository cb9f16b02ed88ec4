/**
 * `rowHistory`: a row's state, last error, output tail (calc stages keep one: the column of a done row,
 * or the tail the last error carries when the last run failed) and its attempt history.
 */
import type { AttemptRecord, RowHistory, RowState } from '../../interface.js';
import type { SqlDb } from '../connection.js';
import { StageError } from '../../../stage-kit/stage.js';
import { outputTailOfError } from '../../../stages/calc.js';
import { isRegisteredStage, tableColumns } from './tables.js';

export function rowHistory(sql: SqlDb, stage: string, key: string): RowHistory | null {
  if (!isRegisteredStage(sql, stage)) throw new StageError(`row history: no stage named ${JSON.stringify(stage)} in this store`);
  const keepsTail = tableColumns(sql, stage).includes('output_tail');
  const row = sql.get<{ id: number; state: RowState; attempts: number; deaths: number; last_error: string | null; output_tail: string | null }>(
    `SELECT id, state, attempts, deaths, last_error, ${keepsTail ? 'output_tail' : 'NULL AS output_tail'} FROM ${stage} WHERE key = ?`,
    [key],
  );
  if (!row) return null;
  const history = sql
    .all<{ attempt: number; claimed_by: string | null; started_at: number | null; finished_at: number; outcome: AttemptRecord['outcome']; error: string | null }>(
      'SELECT attempt, claimed_by, started_at, finished_at, outcome, error FROM engine_attempts WHERE stage = ? AND row_id = ? ORDER BY id',
      [stage, row.id],
    )
    .map((a) => ({ attempt: a.attempt, claimedBy: a.claimed_by, startedAt: a.started_at, finishedAt: a.finished_at, outcome: a.outcome, error: a.error }));
  const outputTail = row.output_tail ?? (keepsTail ? outputTailOfError(row.last_error) : null);
  return { stage, key, state: row.state, attempts: row.attempts, deaths: row.deaths, lastError: row.last_error, outputTail, history };
}
