/**
 * One stage table and its queue: admission (feed), claims, leases, finishing, failing, sweeping.
 *
 * Row lifecycle: `pending → running (claimed_by, lease_until, attempts+1) → done | failed`, back to
 * `pending` after a failed attempt (with back-off) while attempts remain. A run that ends without a
 * result because its holder died (its lease expired: a killed or crashed process, a lost worker
 * thread, a batch past its lease) is a death, not an attempt: the row goes back to `pending` with its
 * attempt given back and `deaths + 1`, and ends `failed` (`fail_kind = 'died'`) only after the
 * stage's `maxDeaths`. A row whose work function threw its last attempt is `failed` with
 * `fail_kind = 'error'`: a result of the work, not of the run.
 * Every statement that moves a running row names its holder (`claimed_by = @by AND state = 'running'`),
 * so only the lease holder can finish or fail it; a holder whose lease was swept and re-claimed
 * elsewhere changes nothing. Each ended attempt is a row in `engine_attempts` (never overwritten).
 *
 * Queue order: `boost DESC, priority DESC, id` (higher priority first; `submit` raises `boost` to put
 * one entity at the head), served by the index on (state, boost, priority, id).
 * Times are milliseconds since the Unix epoch (REAL), so leases and back-off compare as numbers.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import type { SqlDb, SqlValue } from './store.js';
import { StageError, priorityFunction, type ColumnType, type PrioritySpec, type Stage } from './stage.js';

export type RowState = 'pending' | 'running' | 'done' | 'failed';

/**
 * Deaths from which a row is in quarantine: claimed alone and one at a time per stage and claimer
 * ({@link StageTable.claimSuspect}). A row with one death runs alone in its batch but beside others.
 */
export const QUARANTINE_DEATHS = 2;

const SQL_TYPE: Record<ColumnType, string> = { float64: 'REAL', int32: 'INTEGER', utf8: 'TEXT', binary: 'BLOB', bool: 'INTEGER' };

export interface Claim {
  ids: number[];
  keys: string[];
  attempts: number[];
  /** Deaths of each row so far (a row that died before runs alone: see Engine). */
  deaths: number[];
  /** Input columns, `inputs[c][row]`, in the order of the stage's input columns. */
  inputs: unknown[][];
}

export interface StateCounts {
  pending: number;
  running: number;
  done: number;
  failed: number;
}

/** Is `name` a stage table registered in this store? */
export function isStageTable(sql: SqlDb, name: string): boolean {
  return sql.get('SELECT 1 AS x FROM engine_stages WHERE name = ?', [name]) !== undefined;
}

function toSql(v: unknown): SqlValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'bigint' || v instanceof Uint8Array) return v;
  throw new TypeError(`cannot store a ${typeof v} in a stage column`);
}

function hashInputs(values: readonly unknown[]): string {
  const h = createHash('sha256');
  for (const v of values) {
    if (v instanceof Uint8Array) h.update(v);
    else h.update(JSON.stringify(v ?? null));
    h.update('\u0000');
  }
  return h.digest('hex').slice(0, 32);
}

/** RETURNING order is unspecified: put claimed rows back in queue order (boost, priority, id). */
function toClaim(rows: unknown[][], nInputs: number): Claim {
  rows.sort((a, b) => (b[3] as number) - (a[3] as number) || (b[4] as number) - (a[4] as number) || (a[0] as number) - (b[0] as number));
  const inputs: unknown[][] = [];
  for (let c = 0; c < nInputs; c++) inputs.push(rows.map((r) => r[c + 6]));
  return { ids: rows.map((r) => r[0] as number), keys: rows.map((r) => r[1] as string), attempts: rows.map((r) => r[2] as number), deaths: rows.map((r) => r[5] as number), inputs };
}

/** The rows `idx` of a claim, as a claim of their own. */
export function subClaim(c: Claim, idx: readonly number[]): Claim {
  return {
    ids: idx.map((i) => c.ids[i]!),
    keys: idx.map((i) => c.keys[i]!),
    attempts: idx.map((i) => c.attempts[i]!),
    deaths: idx.map((i) => c.deaths[i]!),
    inputs: c.inputs.map((col) => idx.map((i) => col[i])),
  };
}

export class StageTable {
  readonly stage: Stage;
  readonly sql: SqlDb;
  readonly table: string;
  private readonly inputNames: string[];
  private readonly outputNames: string[];
  private priority: PrioritySpec;

  constructor(sql: SqlDb, stage: Stage) {
    this.sql = sql;
    this.stage = stage;
    this.table = stage.name;
    this.inputNames = Object.keys(stage.input.columns);
    this.outputNames = Object.keys(stage.output);
    this.priority = stage.priority;
  }

  /**
   * Create the table and its registry entries if missing. A registered table whose columns differ from
   * the declaration is an error (the results would not match their code).
   */
  ensure(now = Date.now()): void {
    const t = this.table;
    const cols = [
      ...this.inputNames.map((c) => `${c} ${SQL_TYPE[this.stage.input.columns[c]!.type]}`),
      ...this.outputNames.map((c) => `${c} ${SQL_TYPE[this.stage.output[c]!]}`),
    ];
    this.sql.transaction(() => {
      const existing = this.sql.all<{ name: string }>(`SELECT name FROM pragma_table_info(?)`, [t]).map((r) => r.name);
      if (existing.length > 0) {
        const missing = [...this.inputNames, ...this.outputNames].filter((c) => !existing.includes(c));
        if (missing.length > 0 || !existing.includes('lease_until'))
          throw new StageError(`stage ${t}: table ${t} exists with other columns (missing ${missing.join(', ') || 'engine columns'}); run \`fracflow reset --yes\` or rename the stage`);
      } else {
        this.sql.exec(`CREATE TABLE ${t} (
          id           INTEGER PRIMARY KEY,
          key          TEXT NOT NULL UNIQUE,
          state        TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'running', 'done', 'failed')),
          priority     REAL NOT NULL DEFAULT 0,
          boost        INTEGER NOT NULL DEFAULT 0,
          claimed_by   TEXT,
          lease_until  REAL,
          attempts     INTEGER NOT NULL DEFAULT 0,
          deaths       INTEGER NOT NULL DEFAULT 0,
          fail_kind    TEXT,
          available_at REAL NOT NULL DEFAULT 0,
          last_error   TEXT,
          created_at   REAL NOT NULL,
          started_at   REAL,
          finished_at  REAL,
          updated_at   REAL NOT NULL,
          input_hash   TEXT NOT NULL,
          params       TEXT NOT NULL,
          code_version TEXT NOT NULL${cols.length ? ',\n          ' + cols.join(',\n          ') : ''}
        );
        CREATE INDEX ${t}_queue ON ${t} (state, boost DESC, priority DESC, id);
        CREATE INDEX ${t}_suspects ON ${t} (state) WHERE deaths > 0;
        CREATE INDEX ${t}_finished ON ${t} (finished_at) WHERE finished_at IS NOT NULL;`);
      }
      const spec = JSON.stringify({ input: this.stage.input, filter: this.stage.filter, output: this.stage.output, retry: this.stage.retry, leaseMs: this.stage.leaseMs });
      const row = this.sql.get<{ priority: string }>('SELECT priority FROM engine_stages WHERE name = ?', [t]);
      if (!row) {
        this.sql.run(
          `INSERT INTO engine_stages (name, work, module, spec_json, workers, batch_size, priority, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
          [t, this.stage.workName, this.stage.module, spec, this.stage.workers, this.stage.batchSize, JSON.stringify(this.stage.priority), now, now],
        );
      } else {
        this.sql.run('UPDATE engine_stages SET work = ?, module = ?, spec_json = ?, batch_size = ?, updated_at = ? WHERE name = ?', [this.stage.workName, this.stage.module, spec, this.stage.batchSize, now, t]);
        this.priority = JSON.parse(row.priority) as PrioritySpec;
      }
      for (const [c, v] of Object.entries(this.stage.filter?.cutoffs ?? {}))
        this.sql.run('INSERT OR IGNORE INTO engine_cutoffs (stage, name, value) VALUES (?, ?, ?)', [t, c, v.initial]);
    }, 'immediate');
  }

  /** The priority in force (the declaration's, or the one swapped in at run time). */
  currentPriority(): PrioritySpec {
    return this.priority;
  }

  /** Current admission cutoffs by name. */
  cutoffs(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.sql.all<{ name: string; value: number }>('SELECT name, value FROM engine_cutoffs WHERE stage = ?', [this.table])) out[r.name] = r.value;
    return out;
  }

  private paramsJson(cutoffs: Record<string, number>): string {
    return JSON.stringify({ ...this.stage.params, ...(Object.keys(cutoffs).length ? { cutoffs } : {}) });
  }

  private insertRows(keys: readonly string[], inputs: readonly (readonly unknown[])[], cutoffs: Record<string, number>, now: number): string[] {
    const names = this.inputNames;
    const insert = `INSERT OR IGNORE INTO ${this.table} (key, priority, created_at, updated_at, input_hash, params, code_version${names.map((c) => ', ' + c).join('')})
      VALUES (?, ?, ?, ?, ?, ?, ?${names.map(() => ', ?').join('')})`;
    const params = this.paramsJson(cutoffs);
    const p = this.priority;
    const fn = typeof p === 'object' ? priorityFunction(this.table, p.fn) : null;
    const before = this.sql.get<{ m: number | null }>(`SELECT MAX(id) AS m FROM ${this.table}`)!.m ?? 0;
    const added: string[] = [];
    const row = new Array<unknown>(names.length);
    for (let r = 0; r < keys.length; r++) {
      const values: SqlValue[] = [];
      for (let c = 0; c < names.length; c++) {
        row[c] = inputs[c]![r];
        values.push(toSql(row[c]));
      }
      let prio = 0;
      if (fn) {
        const obj: Record<string, unknown> = { key: keys[r] };
        for (let c = 0; c < names.length; c++) obj[names[c]!] = row[c];
        prio = fn(obj);
        if (!Number.isFinite(prio)) throw new StageError(`stage ${this.table}: priority function ${JSON.stringify((p as { fn: string }).fn)} returned ${prio} for key ${keys[r]}`);
      }
      const res = this.sql.run(insert, [keys[r]!, prio, now, now, hashInputs(row), params, this.stage.version, ...values]);
      if (res.changes > 0) added.push(keys[r]!);
    }
    if (!fn && added.length > 0 && p !== '0') this.sql.run(`UPDATE ${this.table} SET priority = COALESCE((${p}), 0) WHERE id > ?`, [before]);
    return added;
  }

  /** Put entities into a source stage (rows whose key exists already are left alone). Returns the keys added. */
  enqueue(rows: readonly Record<string, unknown>[], now = Date.now()): string[] {
    const keys: string[] = [];
    const inputs = this.inputNames.map(() => [] as unknown[]);
    for (const r of rows) {
      const k = r['key'];
      if (typeof k !== 'string' || k === '') throw new StageError(`stage ${this.table}: enqueue: every row needs a non-empty string key, got ${JSON.stringify(k)}`);
      keys.push(k);
      this.inputNames.forEach((c, i) => inputs[i]!.push(r[c] ?? null));
    }
    return this.sql.transaction(() => this.insertRows(keys, inputs, this.cutoffs(), now), 'immediate');
  }

  /**
   * Admit upstream rows that pass the filter and are not in the table yet. With `upstreamIds`, only
   * those upstream rows are considered (the ones just finished); without, the whole upstream table,
   * or with `finishedSince` (a stage-table upstream) its rows finished at or after that time.
   * Call inside the caller's transaction when it must be atomic with the upstream write.
   */
  feed(upstreamIds?: readonly number[], now = Date.now(), finishedSince?: number): string[] {
    const q = this.feedQuery(upstreamIds, finishedSince);
    if (!q) return [];
    // Upstream order (u.id, the first column). A time-bounded feed sorts its few rows here: in SQL,
    // ORDER BY u.id makes the planner walk the whole upstream table in rowid order instead of its
    // finished_at index.
    const rows = q.bounded
      ? this.sql.allRaw(q.select, q.params).sort((a, b) => (a[0] as number) - (b[0] as number))
      : this.sql.allRaw(`${q.select} ORDER BY u.id`, q.params);
    if (rows.length === 0) return [];
    const keys = rows.map((r) => String(r[1]));
    const inputs = this.inputNames.map((_, c) => rows.map((r) => r[c + 2]));
    return this.insertRows(keys, inputs, q.cutoffs, now);
  }

  /** Would {@link feed} admit anything? A read alone (no write lock): one row is enough to say. */
  canFeed(finishedSince?: number): boolean {
    const q = this.feedQuery(undefined, finishedSince);
    return q !== null && this.sql.allRaw(`${q.select} LIMIT 1`, q.params).length > 0;
  }

  private feedQuery(upstreamIds?: readonly number[], finishedSince?: number): { select: string; params: Record<string, SqlValue>; cutoffs: Record<string, number>; bounded: boolean } | null {
    const from = this.stage.input.from;
    if (from === null) return null;
    const keyExpr = this.stage.input.key;
    const where: string[] = [];
    const stageUpstream = isStageTable(this.sql, from);
    const since = stageUpstream && finishedSince !== undefined;
    // With a time bound the rows come from the upstream's finished_at index (`+` keeps the planner
    // off the queue index, which would walk every done row).
    if (stageUpstream) where.push(since ? `+u.state = 'done'` : `u.state = 'done'`);
    if (since) where.push('u.finished_at >= @since');
    if (this.stage.filter) where.push(`(${this.stage.filter.sql})`);
    if (upstreamIds) where.push('u.id IN (SELECT value FROM json_each(@ids))');
    where.push(`NOT EXISTS (SELECT 1 FROM ${this.table} x WHERE x.key = (${keyExpr}))`);
    const select = `SELECT u.id AS _uid, (${keyExpr}) AS key${this.inputNames.map((c) => `, (${this.stage.input.columns[c]!.expr}) AS ${c}`).join('')}
      FROM ${from} u ${this.stage.input.join} WHERE ${where.join(' AND ')}`;
    const cutoffs = this.cutoffs();
    const params: Record<string, SqlValue> = { ...cutoffs };
    if (upstreamIds) params['ids'] = JSON.stringify(upstreamIds);
    if (since) params['since'] = finishedSince;
    return { select, params, cutoffs, bounded: since };
  }

  /**
   * Claim up to `n` ready pending rows, top of the queue first: one UPDATE … WHERE id IN (SELECT …
   * ORDER BY … LIMIT n) RETURNING … inside an immediate transaction, so two claimers (threads or
   * processes) never take the same row. Rows in quarantine (see {@link claimSuspect}) are left out.
   */
  claim(by: string, n: number, now = Date.now(), leaseMs = this.stage.leaseMs): Claim {
    const names = this.inputNames;
    const sql = `UPDATE ${this.table} SET state = 'running', claimed_by = @by, lease_until = @lease, attempts = attempts + 1,
        started_at = @now, updated_at = @now
      WHERE id IN (SELECT id FROM ${this.table} WHERE state = 'pending' AND available_at <= @now AND deaths < ${QUARANTINE_DEATHS}
                   ORDER BY boost DESC, priority DESC, id LIMIT @n)
      RETURNING id, key, attempts, boost, priority, deaths${names.map((c) => ', ' + c).join('')}`;
    const rows = this.sql.transaction(() => this.sql.allRaw(sql, { by, lease: now + leaseMs, now, n }), 'immediate');
    return toClaim(rows, names.length);
  }

  /**
   * Claim the top ready row in quarantine — one that died {@link QUARANTINE_DEATHS} times or more —
   * alone. A claimer runs one such row at a time per stage, so a row that kills its whole process
   * takes no other row of its stage with it (every row a dead process held dies with it). Found
   * through the partial index of rows with deaths, so an empty quarantine costs one index probe.
   */
  claimSuspect(by: string, now = Date.now(), leaseMs = this.stage.leaseMs): Claim {
    const names = this.inputNames;
    const sql = `UPDATE ${this.table} SET state = 'running', claimed_by = @by, lease_until = @lease, attempts = attempts + 1,
        started_at = @now, updated_at = @now
      WHERE id = (SELECT id FROM ${this.table} WHERE deaths > 0 AND state = 'pending' AND deaths >= ${QUARANTINE_DEATHS} AND available_at <= @now
                  ORDER BY boost DESC, priority DESC, id LIMIT 1)
      RETURNING id, key, attempts, boost, priority, deaths${names.map((c) => ', ' + c).join('')}`;
    const rows = this.sql.transaction(() => this.sql.allRaw(sql, { by, lease: now + leaseMs, now }), 'immediate');
    return toClaim(rows, names.length);
  }

  /** Claim the given keys (pending and ready) for `by`: the fixed-workflow runner takes one entity at a time. */
  claimKeys(by: string, keys: readonly string[], now = Date.now(), leaseMs = this.stage.leaseMs): Claim {
    const names = this.inputNames;
    const sql = `UPDATE ${this.table} SET state = 'running', claimed_by = @by, lease_until = @lease, attempts = attempts + 1,
        started_at = @now, updated_at = @now
      WHERE key IN (SELECT value FROM json_each(@keys)) AND state = 'pending' AND available_at <= @now
      RETURNING id, key, attempts, boost, priority, deaths${names.map((c) => ', ' + c).join('')}`;
    const rows = this.sql.transaction(() => this.sql.allRaw(sql, { by, lease: now + leaseMs, now, keys: JSON.stringify(keys) }), 'immediate');
    return toClaim(rows, names.length);
  }

  private history(id: number, key: string, attempt: number, by: string | null, startedAt: number | null, now: number, outcome: string, error: string | null): void {
    recordAttempt(this.sql, this.table, id, key, attempt, by, startedAt, now, outcome, error);
  }

  /**
   * Write results of rows held by `by` (`outputs[c][k]` for row `ids[k]`). Rows no longer held (lease
   * swept) are skipped. Returns the ids written. Call inside a transaction to batch several writes.
   */
  finish(by: string, ids: readonly number[], outputs: readonly (readonly unknown[])[], now = Date.now()): number[] {
    const outs = this.outputNames;
    const sql = `UPDATE ${this.table} SET state = 'done', ${outs.map((c) => `${c} = ?`).join(', ')}, finished_at = ?, updated_at = ?,
        lease_until = NULL, last_error = NULL
      WHERE id = ? AND claimed_by = ? AND state = 'running'`;
    // One UPDATE per row, measured against set-based forms on 64-row batches (file store, 20k rows):
    // the per-row statements cost ~0.28 ms per batch, of which statement dispatch is ~0.02 ms (the
    // rest is the B-tree work any form must do); `UPDATE … FROM (SELECT … FROM json_each(?))` took
    // 1.7–2.1 ms, because SQLite's planner scans the stage table instead of probing it by id.
    const written: number[] = [];
    const values: SqlValue[] = new Array<SqlValue>(outs.length + 4);
    for (let k = 0; k < ids.length; k++) {
      for (let c = 0; c < outs.length; c++) values[c] = toSql(outputs[c]![k]);
      values[outs.length] = now;
      values[outs.length + 1] = now;
      values[outs.length + 2] = ids[k]!;
      values[outs.length + 3] = by;
      if (this.sql.run(sql, values).changes > 0) written.push(ids[k]!);
    }
    // One statement writes the history of the whole batch (a per-row insert costs a native call each).
    if (written.length > 0)
      this.sql.run(
        `INSERT INTO engine_attempts (stage, row_id, key, attempt, claimed_by, started_at, finished_at, outcome, error)
         SELECT ?, id, key, attempts, claimed_by, started_at, ?, 'done', NULL FROM ${this.table} WHERE id IN (SELECT value FROM json_each(?))`,
        [this.table, now, JSON.stringify(written)],
      );
    return written;
  }

  /**
   * A failed attempt of rows held by `by`: back to `pending` after a back-off while attempts remain,
   * otherwise `failed`; the message is kept in `last_error` and in the attempt history.
   */
  fail(by: string, items: readonly { id: number; error: string }[], now = Date.now()): { retried: number; failed: number } {
    const { maxAttempts, backoffMs, maxBackoffMs } = this.stage.retry;
    const sql = `UPDATE ${this.table} SET
        state = CASE WHEN attempts >= @max THEN 'failed' ELSE 'pending' END,
        available_at = @now + MIN(@cap, @base * (1 << MIN(attempts - 1, 30))),
        finished_at = CASE WHEN attempts >= @max THEN @now ELSE NULL END,
        fail_kind = CASE WHEN attempts >= @max THEN 'error' ELSE NULL END,
        last_error = @error, claimed_by = NULL, lease_until = NULL, updated_at = @now
      WHERE id = @id AND claimed_by = @by AND state = 'running' RETURNING key, attempts, started_at, state`;
    let retried = 0;
    let failed = 0;
    for (const it of items) {
      const r = this.sql.allRaw(sql, { max: maxAttempts, now, cap: maxBackoffMs, base: backoffMs, error: it.error, id: it.id, by })[0];
      if (!r) continue;
      this.history(it.id, r[0] as string, r[1] as number, by, r[2] as number | null, now, 'error', it.error);
      if (r[3] === 'failed') failed++;
      else retried++;
    }
    return { retried, failed };
  }

  /** Give rows back unrun (shutdown): pending again, the attempt not counted, history says `released`. */
  release(by: string, ids: readonly number[], now = Date.now()): number {
    let n = 0;
    const sql = `UPDATE ${this.table} SET state = 'pending', attempts = attempts - 1, claimed_by = NULL, lease_until = NULL, updated_at = @now
      WHERE id = @id AND claimed_by = @by AND state = 'running' RETURNING key, attempts, started_at`;
    for (const id of ids) {
      const r = this.sql.allRaw(sql, { now, id, by })[0];
      if (!r) continue;
      this.history(id, r[0] as string, (r[1] as number) + 1, by, r[2] as number | null, now, 'released', null);
      n++;
    }
    return n;
  }

  /** Move the lease of running rows this holder still holds to `until` (epoch ms); returns rows renewed. */
  renew(by: string, ids: readonly number[], until: number): number {
    return this.sql.transaction(() => {
      let n = 0;
      for (const id of ids) n += this.sql.run(`UPDATE ${this.table} SET lease_until = ? WHERE id = ? AND claimed_by = ? AND state = 'running'`, [until, id, by]).changes;
      return n;
    }, 'immediate');
  }

  /** End the lease of running rows this holder holds now (a lost batch), so the sweep returns them. */
  expire(by: string, ids: readonly number[], now = Date.now()): void {
    for (const id of ids) this.sql.run(`UPDATE ${this.table} SET lease_until = ? WHERE id = ? AND claimed_by = ? AND state = 'running'`, [now - 1, id, by]);
  }

  /**
   * Take back rows whose lease has expired (their holder died, hung or lost its thread): a death each,
   * not an attempt; `pending` while deaths remain, else `failed` (`fail_kind = 'died'`) with the
   * reason. `ids` limits the sweep to those rows (a batch this process lost, with its own reason).
   */
  sweep(now = Date.now(), reason = 'lease expired', ids?: readonly number[]): { returned: number; failed: number } {
    return sweepRows(this.sql, this.table, this.stage.retry.maxDeaths, now, reason, ids);
  }

  counts(): StateCounts & { ready: number } {
    const c: StateCounts & { ready: number } = { pending: 0, running: 0, done: 0, failed: 0, ready: 0 };
    for (const r of this.sql.all<{ state: RowState; n: number }>(`SELECT state, COUNT(*) AS n FROM ${this.table} GROUP BY state`)) c[r.state] = r.n;
    if (c.pending > 0) c.ready = this.sql.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${this.table} WHERE state = 'pending' AND available_at <= ?`, [Date.now()])!.n;
    return c;
  }

  /** Take over a priority another connection swapped in (it re-scored the pending rows already). */
  adoptPriority(p: PrioritySpec): void {
    this.priority = p;
  }

  /**
   * Swap the priority at run time: the registry records it (so other processes and later runs use it)
   * and every pending row is re-scored.
   */
  setPriority(p: PrioritySpec, now = Date.now()): void {
    if (typeof p === 'object') priorityFunction(this.table, p.fn);
    this.sql.transaction(() => {
      if (typeof p === 'string') {
        this.sql.run(`UPDATE ${this.table} SET priority = COALESCE((${p}), 0), updated_at = ? WHERE state = 'pending'`, [now]);
      } else {
        const fn = priorityFunction(this.table, p.fn);
        const names = this.inputNames;
        const rows = this.sql.allRaw(`SELECT id, key${names.map((c) => ', ' + c).join('')} FROM ${this.table} WHERE state = 'pending'`);
        for (const r of rows) {
          const obj: Record<string, unknown> = { key: r[1] };
          names.forEach((c, i) => (obj[c] = r[i + 2]));
          this.sql.run(`UPDATE ${this.table} SET priority = ?, updated_at = ? WHERE id = ?`, [fn(obj), now, r[0] as number]);
        }
      }
      this.sql.run('UPDATE engine_stages SET priority = ?, updated_at = ? WHERE name = ?', [JSON.stringify(p), now, this.table]);
      this.sql.run('INSERT INTO engine_events (at, stage, kind, detail) VALUES (?, ?, ?, ?)', [now, this.table, 'priority', JSON.stringify({ from: this.priority, to: p })]);
    }, 'immediate');
    this.priority = p;
  }

  /**
   * Adaptive broadening: raise every cutoff that has room by its step (capped at its max), record the
   * change, and admit what the wider filter lets in. Returns the keys admitted, or null when no cutoff
   * can widen any more.
   */
  broaden(now = Date.now()): { changes: { name: string; from: number; to: number }[]; admitted: string[] } | null {
    const spec = this.stage.filter?.cutoffs ?? {};
    return this.sql.transaction(() => {
      const current = this.cutoffs();
      const changes: { name: string; from: number; to: number }[] = [];
      for (const [name, c] of Object.entries(spec)) {
        const v = current[name] ?? c.initial;
        if (c.step <= 0 || v >= c.max) continue;
        const to = Math.min(c.max, v + c.step);
        this.sql.run('UPDATE engine_cutoffs SET value = ? WHERE stage = ? AND name = ?', [to, this.table, name]);
        this.sql.run('INSERT INTO engine_events (at, stage, kind, detail) VALUES (?, ?, ?, ?)', [now, this.table, 'broaden', JSON.stringify({ cutoff: name, from: v, to })]);
        changes.push({ name, from: v, to });
      }
      if (changes.length === 0) return null;
      return { changes, admitted: this.feed(undefined, now) };
    }, 'immediate');
  }

  /** Can the admission filter still widen? */
  canBroaden(): boolean {
    const cur = this.cutoffs();
    return Object.entries(this.stage.filter?.cutoffs ?? {}).some(([n, c]) => c.step > 0 && (cur[n] ?? c.initial) < c.max);
  }
}

/** An entry of the run's event log (`engine_events`): a control change, a broadening, a halt. */
export function recordEvent(sql: SqlDb, stage: string | null, kind: string, detail: unknown, now = Date.now()): void {
  sql.run('INSERT INTO engine_events (at, stage, kind, detail) VALUES (?, ?, ?, ?)', [now, stage, kind, JSON.stringify(detail)]);
}

/** One ended attempt of a stage row, in the attempt history (never overwritten). */
export function recordAttempt(sql: SqlDb, table: string, id: number, key: string, attempt: number, by: string | null, startedAt: number | null, now: number, outcome: string, error: string | null): void {
  sql.run(
    'INSERT INTO engine_attempts (stage, row_id, key, attempt, claimed_by, started_at, finished_at, outcome, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    [table, id, key, attempt, by, startedAt, now, outcome, error],
  );
}

/**
 * Running rows of `table` whose lease ended before `now` (all of them, or those of `ids`): their holder
 * died, so each run is a death, recorded as an `expired` entry in the attempt history, and not an
 * attempt (the attempt is given back). Back to `pending` while fewer than `maxDeaths` deaths (null: no
 * limit, an operator's requeue), otherwise `failed` with `fail_kind = 'died'`. `reason`, the holder
 * and the death count go to `last_error`.
 */
export function sweepRows(sql: SqlDb, table: string, maxDeaths: number | null, now: number, reason: string, ids?: readonly number[]): { returned: number; failed: number } {
  const last = '@max IS NOT NULL AND deaths + 1 >= @max';
  const text = `UPDATE ${table} SET
      state = CASE WHEN ${last} THEN 'failed' ELSE 'pending' END,
      fail_kind = CASE WHEN ${last} THEN 'died' ELSE NULL END,
      finished_at = CASE WHEN ${last} THEN @now ELSE NULL END,
      last_error = @reason || ' (holder ' || COALESCE(claimed_by, '?') || ', death ' || (deaths + 1) || COALESCE(' of ' || CAST(@max AS INTEGER), '') || ')',
      attempts = MAX(attempts - 1, 0), deaths = deaths + 1,
      claimed_by = NULL, lease_until = NULL, updated_at = @now
    WHERE state = 'running' AND lease_until < @now${ids ? ' AND id IN (SELECT value FROM json_each(@ids))' : ''}
    RETURNING id, key, attempts, started_at, state, last_error`;
  return sql.transaction(() => {
    const params = { max: maxDeaths, now, reason, ...(ids ? { ids: JSON.stringify(ids) } : {}) };
    const rows = sql.allRaw(text, params);
    let failed = 0;
    for (const r of rows) {
      // The attempt that died: the one given back.
      recordAttempt(sql, table, r[0] as number, r[1] as string, (r[2] as number) + 1, null, r[3] as number | null, now, 'expired', r[5] as string);
      if (r[4] === 'failed') failed++;
    }
    return { returned: rows.length - failed, failed };
  }, 'immediate');
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as { code?: string }).code === 'EPERM';
  }
}

/**
 * End now the leases of `table` held by a process of this host that no longer exists (killed,
 * crashed; holder ids are `host:pid:tag`), so they need not wait out their expiry. A reused pid looks
 * alive and waits for the normal expiry. Returns the number of rows whose lease ended.
 */
export function expireDeadLocalLeases(sql: SqlDb, table: string, now = Date.now(), self = process.pid): number {
  const host = hostname();
  let n = 0;
  for (const { claimed_by: by } of sql.all<{ claimed_by: string }>(`SELECT DISTINCT claimed_by FROM ${table} WHERE state = 'running' AND lease_until >= ?`, [now])) {
    const m = /^(.*):(\d+):[a-z0-9]+$/.exec(by);
    if (!m || m[1] !== host || Number(m[2]) === self || processAlive(Number(m[2]))) continue;
    n += sql.run(`UPDATE ${table} SET lease_until = ? WHERE state = 'running' AND claimed_by = ?`, [now - 1, by]).changes;
  }
  return n;
}
