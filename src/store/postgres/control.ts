/**
 * Run settings that live in the store and change while stages run, on PostgreSQL: worker counts,
 * priorities (re-scoring pending rows), admission cutoffs (broadening), and the event log.
 *
 * Broadening takes the stage's registry row `FOR UPDATE` first and, given the cutoffs the caller saw
 * (`expected`), widens only while they are still in force: two processes that find the stage drained
 * at the same moment broaden it once — the second waits for the first's commit, then finds other
 * cutoffs and does nothing.
 */
import { priorityExpression, priorityFunction, type ColumnType, type PrioritySpec, type Stage } from '../../stage-kit/stage.js';
import type { BroadenResult, StageControl } from '../interface.js';
import type { PgTx } from './connection.js';
import { admit, cutoffs } from './admit.js';
import { prioritySql, type StagePlan } from './plan.js';

/** An entry of the run's event log (`engine_events`). Runs in the caller's transaction. */
export async function recordEvent(tx: PgTx, stage: string | null, kind: string, detail: unknown, now: number): Promise<void> {
  await tx.run('INSERT INTO engine_events (at, stage, kind, detail) VALUES ($1, $2, $3, $4)', [now, stage, kind, JSON.stringify(detail)]);
}

/** Worker counts and priorities of the registered stages (all, or those named), in registration order. */
export async function readControl(tx: PgTx, names?: readonly string[]): Promise<StageControl[]> {
  const rows = await tx.all<{ name: string; workers: number; priority: string }>('SELECT name, workers, priority FROM engine_stages ORDER BY seq');
  return rows.filter((r) => !names || names.includes(r.name)).map((r) => ({ stage: r.name, workers: r.workers, priority: JSON.parse(r.priority) as PrioritySpec }));
}

/** A registered stage's name and columns, from its registry entry (for a process that has not its module). */
export async function registeredColumns(tx: PgTx, stage: string): Promise<Pick<Stage, 'name' | 'input' | 'output'>> {
  const row = await tx.get<{ spec_json: string }>('SELECT spec_json FROM engine_stages WHERE name = @s', { s: stage });
  const spec = row ? (JSON.parse(row.spec_json) as { input?: { columns?: Record<string, unknown> }; output?: Record<string, ColumnType> }) : {};
  return { name: stage, input: { columns: spec.input?.columns ?? {} } as Stage['input'], output: spec.output ?? {} };
}

/** Swap the priority at run time: recorded, every pending row re-scored, an event. */
export async function setPriority(tx: PgTx, stage: string, p: PrioritySpec, now: number, plan?: StagePlan): Promise<{ from: PrioritySpec; rescored: number }> {
  if (typeof p === 'object') priorityFunction(stage, p.fn);
  const from = JSON.parse((await tx.get<{ priority: string }>('SELECT priority FROM engine_stages WHERE name = @s FOR UPDATE', { s: stage }))!.priority) as PrioritySpec;
  let rescored = 0;
  if (typeof p === 'string') {
    const expr = prioritySql(priorityExpression(plan?.stage ?? (await registeredColumns(tx, stage)), p));
    rescored = await tx.run(`UPDATE ${stage} SET priority = COALESCE((${expr}), 0), updated_at = @now WHERE state = 'pending'`, { now });
  } else {
    const fn = priorityFunction(stage, p.fn);
    const names = plan?.inputNames ?? [];
    const rows = await tx.raw(`SELECT id, key${names.map((c) => ', ' + c).join('')} FROM ${stage} WHERE state = 'pending' ORDER BY id`);
    const ids: number[] = [];
    const prios: number[] = [];
    for (const r of rows) {
      const obj: Record<string, unknown> = { key: r[1] };
      names.forEach((c, i) => (obj[c] = r[i + 2]));
      ids.push(r[0] as number);
      prios.push(fn(obj));
    }
    if (ids.length)
      rescored = await tx.run(`UPDATE ${stage} SET priority = v.p, updated_at = $3 FROM unnest($1::bigint[], $2::double precision[]) AS v(id, p) WHERE ${stage}.id = v.id`, [ids, prios, now]);
  }
  await tx.run('UPDATE engine_stages SET priority = @p, updated_at = @now WHERE name = @s', { p: JSON.stringify(p), now, s: stage });
  await recordEvent(tx, stage, 'priority', { from, to: p }, now);
  return { from, rescored };
}

/**
 * Adaptive broadening under the stage's registry lock (see the module comment): raise every cutoff
 * that has room by its step, record it, and admit what the wider filter lets in. Null when no cutoff
 * can widen, or when the cutoffs in force are no longer `expected` (another process broadened first).
 */
export async function broaden(tx: PgTx, plan: StagePlan, priority: PrioritySpec, now: number, expected?: Readonly<Record<string, number>>): Promise<BroadenResult | null> {
  const spec = plan.stage.filter?.cutoffs ?? {};
  await tx.all('SELECT name FROM engine_stages WHERE name = @s FOR UPDATE', { s: plan.table });
  const current = await cutoffs(tx, plan.table);
  if (expected && Object.entries(expected).some(([n, v]) => (current[n] ?? spec[n]?.initial) !== v)) return null;
  const changes: { name: string; from: number; to: number }[] = [];
  for (const [name, c] of Object.entries(spec)) {
    const v = current[name] ?? c.initial;
    if (c.step <= 0 || v >= c.max) continue;
    const to = Math.min(c.max, v + c.step);
    await tx.run('UPDATE engine_cutoffs SET value = @to WHERE stage = @s AND name = @n', { to, s: plan.table, n: name });
    await recordEvent(tx, plan.table, 'broaden', { cutoff: name, from: v, to }, now);
    changes.push({ name, from: v, to });
  }
  if (changes.length === 0) return null;
  return { changes, admitted: await admit(tx, plan, priority, now) };
}
