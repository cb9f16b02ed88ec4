/**
 * The run settings that live in the store and change while stages run: worker counts (`scale`),
 * priorities (`priority`, re-scoring the pending rows), admission cutoffs (broadening), and the event
 * log that records each change.
 */
import { priorityExpression, priorityFunction, type ColumnType, type PrioritySpec, type Stage } from '../../stage-kit/stage.js';
import type { BroadenResult, StageControl } from '../interface.js';
import type { SqlDb } from './connection.js';
import { admit, cutoffs } from './admit.js';
import { prioritySql, type StagePlan } from './plan.js';

/** An entry of the run's event log (`engine_events`). Runs in the caller's transaction when there is one. */
export function recordEvent(sql: SqlDb, stage: string | null, kind: string, detail: unknown, now: number): void {
  sql.run('INSERT INTO engine_events (at, stage, kind, detail) VALUES (?, ?, ?, ?)', [now, stage, kind, JSON.stringify(detail)]);
}

/** Worker counts and priorities of the registered stages (all, or those named). */
export function readControl(sql: SqlDb, names?: readonly string[]): StageControl[] {
  const rows = sql.all<{ name: string; workers: number; priority: string }>('SELECT name, workers, priority FROM engine_stages ORDER BY rowid');
  return rows.filter((r) => !names || names.includes(r.name)).map((r) => ({ stage: r.name, workers: r.workers, priority: JSON.parse(r.priority) as PrioritySpec }));
}

/**
 * Swap the priority at run time: the registry records it (so other processes and later runs use it)
 * and every pending row is re-scored. A registered function needs the stage's plan (its input columns).
 */
export function setPriority(sql: SqlDb, stage: string, p: PrioritySpec, now: number, plan?: StagePlan): { from: PrioritySpec; rescored: number } {
  if (typeof p === 'object') priorityFunction(stage, p.fn);
  return sql.transaction(() => {
    const from = JSON.parse(sql.get<{ priority: string }>('SELECT priority FROM engine_stages WHERE name = ?', [stage])!.priority) as PrioritySpec;
    let rescored = 0;
    if (typeof p === 'string') {
      const expr = prioritySql(priorityExpression(plan?.stage ?? registeredColumns(sql, stage), p));
      rescored = sql.run(`UPDATE ${stage} SET priority = COALESCE((${expr}), 0), updated_at = ? WHERE state = 'pending'`, [now]).changes;
    } else {
      const fn = priorityFunction(stage, p.fn);
      const names = plan?.inputNames ?? [];
      const rows = sql.allRaw(`SELECT id, key${names.map((c) => ', ' + c).join('')} FROM ${stage} WHERE state = 'pending'`);
      for (const r of rows) {
        const obj: Record<string, unknown> = { key: r[1] };
        names.forEach((c, i) => (obj[c] = r[i + 2]));
        rescored += sql.run(`UPDATE ${stage} SET priority = ?, updated_at = ? WHERE id = ?`, [fn(obj), now, r[0] as number]).changes;
      }
    }
    sql.run('UPDATE engine_stages SET priority = ?, updated_at = ? WHERE name = ?', [JSON.stringify(p), now, stage]);
    recordEvent(sql, stage, 'priority', { from, to: p }, now);
    return { from, rescored };
  }, 'immediate');
}

/**
 * Adaptive broadening: raise every cutoff that has room by its step (capped at its max), record the
 * change, and admit what the wider filter lets in. Null when no cutoff can widen any more.
 */
export function broaden(sql: SqlDb, plan: StagePlan, priority: PrioritySpec, now: number): BroadenResult | null {
  const spec = plan.stage.filter?.cutoffs ?? {};
  return sql.transaction(() => {
    const current = cutoffs(sql, plan.table);
    const changes: { name: string; from: number; to: number }[] = [];
    for (const [name, c] of Object.entries(spec)) {
      const v = current[name] ?? c.initial;
      if (c.step <= 0 || v >= c.max) continue;
      const to = Math.min(c.max, v + c.step);
      sql.run('UPDATE engine_cutoffs SET value = ? WHERE stage = ? AND name = ?', [to, plan.table, name]);
      recordEvent(sql, plan.table, 'broaden', { cutoff: name, from: v, to }, now);
      changes.push({ name, from: v, to });
    }
    if (changes.length === 0) return null;
    return { changes, admitted: admit(sql, plan, priority, now) };
  }, 'immediate');
}

/** A registered stage's name and columns, from its registry entry (for a process that has not its module). */
export function registeredColumns(sql: SqlDb, stage: string): Pick<Stage, 'name' | 'input' | 'output'> {
  const row = sql.get<{ spec_json: string }>('SELECT spec_json FROM engine_stages WHERE name = ?', [stage]);
  const spec = row ? (JSON.parse(row.spec_json) as { input?: { columns?: Record<string, unknown> }; output?: Record<string, ColumnType> }) : {};
  return { name: stage, input: { columns: spec.input?.columns ?? {} } as Stage['input'], output: spec.output ?? {} };
}
