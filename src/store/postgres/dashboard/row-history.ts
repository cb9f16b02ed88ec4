/** `rowHistory` on PostgreSQL: a row's state, last error, output tail and attempt history (see src/store/sqlite/dashboard/row-history.ts). */
import type { AttemptRecord, RowHistory, RowState } from '../../interface.js';
import type { PgTx } from '../connection.js';
import { StageError } from '../../../stage-kit/stage.js';
import { outputTailOfError } from '../../../stages/calc.js';
import { isRegisteredStage, tableColumns } from './tables.js';

export async function rowHistory(tx: PgTx, stage: string, key: string): Promise<RowHistory | null> {
  if (!(await isRegisteredStage(tx, stage))) throw new StageError(`row history: no stage named ${JSON.stringify(stage)} in this store`);
  const keepsTail = (await tableColumns(tx, stage)).includes('output_tail');
  const row = await tx.get<{ id: number; state: RowState; attempts: number; deaths: number; last_error: string | null; output_tail: string | null }>(
    `SELECT id, state, attempts, deaths, last_error, ${keepsTail ? 'output_tail' : 'NULL AS output_tail'} FROM ${stage} WHERE key = @key`,
    { key },
  );
  if (!row) return null;
  const history = (await tx.all<{ attempt: number; claimed_by: string | null; started_at: number | null; finished_at: number; outcome: AttemptRecord['outcome']; error: string | null }>(
    'SELECT attempt, claimed_by, started_at, finished_at, outcome, error FROM engine_attempts WHERE stage = @stage AND row_id = @id ORDER BY id',
    { stage, id: row.id },
  )).map((a) => ({ attempt: a.attempt, claimedBy: a.claimed_by, startedAt: a.started_at, finishedAt: a.finished_at, outcome: a.outcome, error: a.error }));
  const outputTail = row.output_tail ?? (keepsTail ? outputTailOfError(row.last_error) : null);
  return { stage, key, state: row.state, attempts: row.attempts, deaths: row.deaths, lastError: row.last_error, outputTail, history };
}
