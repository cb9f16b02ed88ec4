/**
 * `exchange` on PostgreSQL: finished batches written (done rows with their outputs, failed attempts,
 * each guarded by the holder), the finished rows admitted downstream, the next batches claimed — one
 * unit of work, with as few round trips as the work allows:
 *
 * - Nothing to admit (no stage of this store is fed by the finished rows, no emitted rows): ONE
 *   statement, run as its own transaction (no BEGIN/COMMIT). Its data-modifying CTEs — each batch's
 *   guarded UPDATE … FROM unnest(…) and its history rows, each claim's UPDATE … WHERE id IN (SELECT …
 *   FOR UPDATE SKIP LOCKED) — commit together or not at all, and its result is their rows tagged by
 *   kind (UNION ALL). The CTEs see one snapshot: the rows a batch ends are `running` in it and the
 *   rows a claim takes `pending`, so no row is touched twice. A worker of the last stage (or of one
 *   stage, `fracflow worker`) pays one round trip per batch instead of four.
 * - Otherwise one transaction: one statement ends every batch; then the emitted rows and the
 *   admissions, which must see the rows just written done; then one statement claims, after the
 *   admissions, so that a stage can claim at once the rows its upstream just finished.
 */
import type { PrioritySpec } from '../../stage-kit/stage.js';
import type { BatchOutcome, Claim, ClaimRequest, ExchangeResult } from '../interface.js';
import { Params, type PgDb, type PgTx } from './connection.js';
import { admit } from './admit.js';
import { claimSql, toClaim } from './claim.js';
import { failCte, finishCte, insertEmitted } from './complete.js';
import { PG_TYPE, type StagePlan } from './plan.js';

/** What an exchange needs of the store: its stages' plans, the priorities in force, who feeds whom. */
export interface ExchangeStages {
  plan(stage: string): StagePlan;
  priority(stage: string): PrioritySpec;
  /** Stages of this store fed by the table (a stage table or an emitted table). */
  downstream(table: string): readonly StagePlan[];
}

/** Result columns before the claimed rows' inputs: kind, id, key, attempts, boost, priority, deaths, state. */
const HEAD = ['kind', 'id', 'key', 'attempts', 'boost', 'priority', 'deaths', 'state'] as const;
const HEAD_TYPE = ['text', 'bigint', 'text', 'integer', 'integer', 'double precision', 'integer', 'text'] as const;

interface Built {
  text: string;
  values: Params['values'];
  /** Per claim request: the offset of its inputs in the result row. */
  slots: number[];
}

/**
 * One statement ending `outcomes` and claiming `requests`; null when there is nothing to do. Result
 * rows: `f<k>` a row of outcome k written done; `e<k>` a failed attempt of outcome k (its new state);
 * `s<j>`/`c<j>` a row claimed for request j (suspect, batches), with its inputs in the request's slot.
 */
function build(stages: ExchangeStages, holder: string, outcomes: readonly BatchOutcome[], requests: readonly ClaimRequest[], now: number): Built | null {
  const p = new Params();
  const ctes: string[] = [];
  const branches: string[] = [];
  // Each claim request gets its own columns for its inputs; other branches fill them with NULLs.
  const slotTypes: string[] = [];
  const slots: number[] = [];
  for (const r of requests) {
    slots.push(HEAD.length + slotTypes.length);
    const plan = stages.plan(r.stage);
    for (const c of plan.inputNames) slotTypes.push(PG_TYPE[plan.stage.input.columns[c]!.type]);
  }
  const nulls = (types: readonly string[]) => types.map((ty) => `NULL::${ty}`);
  /** One branch of the result: the kind, the head columns, and (a claim) its inputs in its slot. */
  const row = (kind: string, head: readonly string[], slot: number | null, inputs: readonly string[]) => {
    const cols = [`'${kind}'::text`, ...head];
    slotTypes.forEach((ty, k) => {
      const i = slot === null ? -1 : HEAD.length + k - slot;
      cols.push(i >= 0 && i < inputs.length ? inputs[i]! : `NULL::${ty}`);
    });
    return `SELECT ${cols.join(', ')}`;
  };
  outcomes.forEach((o, k) => {
    const plan = stages.plan(o.stage);
    if (o.done.ids.length) {
      ctes.push(finishCte(p, plan, holder, o.done.ids, o.done.outputs, now, `fin${k}`));
      branches.push(`${row(`f${k}`, ['id', ...nulls(HEAD_TYPE.slice(2))], null, [])} FROM fin${k}`);
    }
    const done = new Set(o.done.ids);
    // A row both done and failed in one batch is done (its write comes first, as a row is written once).
    const failed = o.failed.filter((f) => !done.has(f.id));
    if (failed.length) {
      ctes.push(failCte(p, plan, holder, failed, now, `err${k}`));
      branches.push(`${row(`e${k}`, ['id', ...nulls(HEAD_TYPE.slice(2, 7)), 'state'], null, [])} FROM err${k}`);
    }
  });
  requests.forEach((r, j) => {
    const plan = stages.plan(r.stage);
    const claimed = ['id', 'key', 'attempts', 'boost', 'priority', 'deaths', 'NULL::text'];
    if (r.suspect) {
      ctes.push(`sus${j} AS (${claimSql(p, plan, holder, 1, now, true)})`);
      branches.push(`${row(`s${j}`, claimed, slots[j]!, plan.inputNames)} FROM sus${j}`);
    }
    if (r.batches > 0) {
      ctes.push(`cl${j} AS (${claimSql(p, plan, holder, r.batchSize * r.batches, now, false)})`);
      branches.push(`${row(`c${j}`, claimed, slots[j]!, plan.inputNames)} FROM cl${j}`);
    }
  });
  if (branches.length === 0) return null;
  return { text: `WITH ${ctes.join(',\n  ')}\n${branches.join('\nUNION ALL ')}`, values: p.values, slots };
}

interface Parsed {
  written: number[][];
  claims: Claim[];
}

function parse(stages: ExchangeStages, outcomes: readonly BatchOutcome[], requests: readonly ClaimRequest[], built: Built | null, rows: unknown[][]): Parsed {
  const byKind = new Map<string, unknown[][]>();
  for (const r of rows) {
    const k = r[0] as string;
    let list = byKind.get(k);
    if (!list) byKind.set(k, (list = []));
    list.push(r);
  }
  const written = outcomes.map((o, k) => {
    const ids = new Set((byKind.get(`f${k}`) ?? []).map((r) => r[1] as number));
    return o.done.ids.filter((id) => ids.has(id));
  });
  const claims: Claim[] = [];
  requests.forEach((r, j) => {
    const plan = stages.plan(r.stage);
    const n = plan.inputNames.length;
    const off = built!.slots[j]!;
    // toClaim's layout: id, key, attempts, boost, priority, deaths, inputs.
    const asClaim = (list: unknown[][]) => toClaim(plan.table, list.map((x) => [...x.slice(1, 7), ...x.slice(off, off + n)]), n);
    const sus = byKind.get(`s${j}`);
    if (sus) claims.push(asClaim(sus));
    const c = asClaim(byKind.get(`c${j}`) ?? []);
    // All batches in one statement, cut into batches in queue order.
    for (let k = 0; k < c.ids.length; k += r.batchSize) {
      const end = Math.min(c.ids.length, k + r.batchSize);
      claims.push({ stage: c.stage, ids: c.ids.slice(k, end), keys: c.keys.slice(k, end), attempts: c.attempts.slice(k, end), deaths: c.deaths.slice(k, end), inputs: c.inputs.map((col) => col.slice(k, end)) });
    }
  });
  return { written, claims };
}

async function run(tx: PgTx, stages: ExchangeStages, holder: string, outcomes: readonly BatchOutcome[], requests: readonly ClaimRequest[], now: number): Promise<Parsed> {
  const b = build(stages, holder, outcomes, requests, now);
  return parse(stages, outcomes, requests, b, b ? await tx.raw(b.text, b.values) : []);
}

/** Does ending these batches admit rows anywhere (a stage of this store fed by them, emitted rows)? */
function admits(stages: ExchangeStages, outcomes: readonly BatchOutcome[]): boolean {
  return outcomes.some((o) => o.done.ids.length > 0 && (stages.downstream(o.stage).length > 0 || (stages.plan(o.stage).stage.emits !== undefined && o.emitted !== undefined && o.emitted.keys.length > 0)));
}

export async function exchange(db: PgDb, stages: ExchangeStages, holder: string, outcomes: readonly BatchOutcome[], requests: readonly ClaimRequest[], now: number): Promise<ExchangeResult> {
  if (!admits(stages, outcomes)) {
    const b = build(stages, holder, outcomes, requests, now);
    const parsed = parse(stages, outcomes, requests, b, b ? await db.statement(b.text, b.values) : []);
    return { ...parsed, admitted: [] };
  }
  return db.transaction(async (tx) => {
    const { written } = await run(tx, stages, holder, outcomes, [], now);
    const admitted: { stage: string; keys: string[] }[] = [];
    for (let k = 0; k < outcomes.length; k++) {
      const o = outcomes[k]!;
      const ids = written[k]!;
      if (ids.length === 0) continue;
      for (const down of stages.downstream(o.stage)) admitted.push({ stage: down.table, keys: await admit(tx, down, stages.priority(down.table), now, ids, undefined, 'stage') });
      const e = stages.plan(o.stage).stage.emits;
      if (e && o.emitted) {
        const keys = new Map(o.emitted.sourceIds.map((id, i) => [id, o.emitted!.sourceKeys[i]!]));
        const rows = await insertEmitted(tx, stages.plan(o.stage).stage, new Set(ids), o.emitted, keys, now);
        if (rows.length) for (const down of stages.downstream(e.table)) admitted.push({ stage: down.table, keys: await admit(tx, down, stages.priority(down.table), now, rows, undefined, 'emitted') });
      }
    }
    const { claims } = await run(tx, stages, holder, [], requests, now);
    return { written, admitted, claims };
  });
}
