/**
 * `queueHead`: the rows a claim would take next, in the claim's own order (submitted rows first, then
 * priority, then admission), with their priority values — so a priority swap shows in the order at
 * once — followed by the running rows. Walks the stage's queue index.
 */
import type { QueueEntry } from '../../interface.js';
import type { SqlDb } from '../connection.js';
import { StageError } from '../../../stage-kit/stage.js';
import { isRegisteredStage } from './tables.js';

export function queueHead(sql: SqlDb, stage: string, n: number, now: number): QueueEntry[] {
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new StageError(`queue head: n must be an integer from 1 to 1000, got ${JSON.stringify(n)}`);
  if (!isRegisteredStage(sql, stage)) throw new StageError(`queue head: no stage named ${JSON.stringify(stage)} in this store`);
  type Row = { key: string; state: 'pending' | 'running'; priority: number; boost: number; attempts: number; available_at: number; claimed_by: string | null };
  const cols = 'key, state, priority, boost, attempts, available_at, claimed_by';
  const ready = sql.all<Row>(`SELECT ${cols} FROM ${stage} WHERE state = 'pending' AND available_at <= ? ORDER BY boost DESC, priority DESC, id LIMIT ?`, [now, n]);
  const waiting = ready.length < n ? sql.all<Row>(`SELECT ${cols} FROM ${stage} WHERE state = 'pending' AND available_at > ? ORDER BY boost DESC, priority DESC, id LIMIT ?`, [now, n - ready.length]) : [];
  const running = sql.all<Row>(`SELECT ${cols} FROM ${stage} WHERE state = 'running' ORDER BY boost DESC, priority DESC, id LIMIT ?`, [n]);
  return [...ready, ...waiting, ...running].map((r) => ({
    key: r.key, state: r.state, priority: r.priority, boost: r.boost, attempts: r.attempts, availableAt: r.available_at, claimedBy: r.claimed_by,
  }));
}
