/**
 * `queueHead` on PostgreSQL: the rows a claim would take next, in the claim's order (submitted rows
 * first, then priority, then admission), then the running rows; each read walks the stage's queue
 * index (state, boost DESC, priority DESC, id). See src/store/sqlite/dashboard/queue-head.ts.
 */
import type { QueueEntry } from '../../interface.js';
import type { PgTx } from '../connection.js';
import { StageError } from '../../../stage-kit/stage.js';
import { isRegisteredStage } from './tables.js';

export async function queueHead(tx: PgTx, stage: string, n: number, now: number): Promise<QueueEntry[]> {
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new StageError(`queue head: n must be an integer from 1 to 1000, got ${JSON.stringify(n)}`);
  if (!(await isRegisteredStage(tx, stage))) throw new StageError(`queue head: no stage named ${JSON.stringify(stage)} in this store`);
  type Row = { key: string; state: 'pending' | 'running'; priority: number; boost: number; attempts: number; available_at: number; claimed_by: string | null };
  const cols = 'key, state, priority, boost, attempts, available_at, claimed_by';
  const order = 'ORDER BY boost DESC, priority DESC, id LIMIT @n';
  const ready = await tx.all<Row>(`SELECT ${cols} FROM ${stage} WHERE state = 'pending' AND available_at <= @now ${order}`, { now, n });
  const waiting = ready.length < n ? await tx.all<Row>(`SELECT ${cols} FROM ${stage} WHERE state = 'pending' AND available_at > @now ${order}`, { now, n: n - ready.length }) : [];
  const running = await tx.all<Row>(`SELECT ${cols} FROM ${stage} WHERE state = 'running' ${order}`, { n });
  return [...ready, ...waiting, ...running].map((r) => ({
    key: r.key, state: r.state, priority: r.priority, boost: r.boost, attempts: r.attempts, availableAt: r.available_at, claimedBy: r.claimed_by,
  }));
}
