/**
 * The PostgreSQL connection of the store, through `pg`: the only importer of the driver in src/.
 * Everything else of the PostgreSQL backend runs its statements through {@link PgDb} and {@link PgTx}.
 *
 * - A small pool (one process runs one store call at a time, see src/engine/core.ts `serial`, plus a
 *   read for `status` or an export): connections are opened lazily and re-opened after a server
 *   restart.
 * - Every store call is one transaction ({@link PgDb.transaction}); a transaction that failed because
 *   the connection dropped (server restart, network) or because PostgreSQL chose it as a victim
 *   (serialization failure, deadlock) is rolled back by the server and run again from the start, for
 *   up to `retryMs`. A transaction whose COMMIT was sent when the connection dropped may have
 *   committed: every verb of the store is written so that running it again is harmless (completions
 *   are guarded by the holder and the row's state, admissions skip keys present, claims of a lost
 *   answer are held under a lease that expires).
 * - `LISTEN` runs on a connection of its own that reconnects.
 * - Passwords never leave this module: messages name the URL without its password
 *   (src/store/location.ts) and every driver message is scrubbed of the password in force.
 */
import pg from 'pg';
import { scrub } from '../location.js';

// BIGINT (ids, COUNT) and NUMERIC (SUM of integers) as numbers: ids stay far below 2^53.
pg.types.setTypeParser(20, (v: string) => Number(v));
pg.types.setTypeParser(1700, (v: string) => Number(v));

export type PgValue = number | string | boolean | Uint8Array | null | readonly number[] | readonly string[];
export type PgParams = readonly PgValue[] | Readonly<Record<string, PgValue | undefined>>;

/** A store operation that failed for a reason the user can act on. */
export class PgStoreError extends Error {
  /** PostgreSQL SQLSTATE (e.g. `28P01`), a Node error code (`ECONNREFUSED`), or a fracflow code. */
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}

/** Errors after which the same transaction is run again: the connection went, or the server chose it as a victim. */
export function isTransient(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (code === '40001' || code === '40P01') return true; // serialization failure, deadlock
    if (code.startsWith('08')) return true; // connection exception
    if (code === '57P01' || code === '57P02' || code === '57P03') return true; // admin shutdown, crash shutdown, cannot connect now
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTCONN', 'EHOSTUNREACH', 'ENOENT'].includes(code)) return true;
  }
  const m = e instanceof Error ? e.message : String(e);
  return /Connection terminated|connection ended|terminating connection|Client has encountered a connection error|the database system is (starting up|shutting down|in recovery mode)|Client was closed/i.test(m);
}

export interface PgOpenOptions {
  /** The URL (may hold a password; PG* variables fill in what it leaves out). */
  url: string;
  /** The URL without its password (messages). */
  display: string;
  /** Connections in the pool. Default 3. */
  maxConnections?: number;
  /** How long transient failures are retried before the error is thrown (ms). Default 60000. */
  retryMs?: number;
  /** `application_name` the server shows in pg_stat_activity. Default `fracflow`. */
  applicationName?: string;
  /** Every transaction read-only (the server refuses a write): what the dashboard opens without its controls. */
  readonly?: boolean;
}

/** Rows as objects or as arrays; `run` returns the rows affected. */
export interface PgTx {
  all<T>(text: string, params?: PgParams): Promise<T[]>;
  get<T>(text: string, params?: PgParams): Promise<T | undefined>;
  raw(text: string, params?: PgParams): Promise<unknown[][]>;
  run(text: string, params?: PgParams): Promise<number>;
  /** Statements without parameters (DDL; several allowed). */
  exec(text: string): Promise<void>;
}

/**
 * Named parameters `@name` to PostgreSQL's positional `$n` (each name once, in order of first use).
 * Positional arrays pass as they are. Text inside string literals and quoted identifiers is left as it
 * is: a key template such as `{key}@idpp-fast` becomes the literal '@idpp-fast', not a parameter.
 */
export function bind(text: string, params?: PgParams): { text: string; values: unknown[] } {
  if (params === undefined) return { text, values: [] };
  if (Array.isArray(params)) return { text, values: params as unknown[] };
  const named = params as Record<string, PgValue | undefined>;
  const order = new Map<string, number>();
  const values: unknown[] = [];
  const out = text.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|@([A-Za-z_][A-Za-z0-9_]*)/g, (m, name: string | undefined) => {
    if (name === undefined) return m;
    let k = order.get(name);
    if (k === undefined) {
      if (!(name in named)) throw new Error(`statement names @${name}, which no parameter gives`);
      values.push(named[name] ?? null);
      order.set(name, (k = values.length));
    }
    return `$${k}`;
  });
  return { text: out, values };
}

/**
 * Positional parameters of a statement assembled from parts (several CTEs in one statement): each
 * value added once, referenced as `$n` with its type cast, so that one parameter used in several
 * places never gets two deduced types.
 */
export class Params {
  readonly values: PgValue[] = [];
  /** `$n::type` for a new parameter holding `v`. */
  add(v: PgValue, type: string): string {
    this.values.push(v);
    return `$${this.values.length}::${type}`;
  }
}

function passwordsOf(url: string): string[] {
  const out: string[] = [];
  try {
    const u = new URL(url);
    if (u.password) out.push(u.password, decodeURIComponent(u.password));
    const q = u.searchParams.get('password');
    if (q) out.push(q);
  } catch {
    // not a URL: nothing to take out of it
  }
  const env = process.env['PGPASSWORD'];
  if (env) out.push(env);
  return out.filter((p) => p.length >= 3);
}

class Tx implements PgTx {
  constructor(private readonly client: pg.PoolClient | pg.Client) {}
  async all<T>(text: string, params?: PgParams): Promise<T[]> {
    const b = bind(text, params);
    return (await this.client.query(b.text, b.values)).rows as T[];
  }
  async get<T>(text: string, params?: PgParams): Promise<T | undefined> {
    return (await this.all<T>(text, params))[0];
  }
  async raw(text: string, params?: PgParams): Promise<unknown[][]> {
    const b = bind(text, params);
    return (await this.client.query({ text: b.text, values: b.values, rowMode: 'array' })).rows as unknown[][];
  }
  async run(text: string, params?: PgParams): Promise<number> {
    const b = bind(text, params);
    return (await this.client.query(b.text, b.values)).rowCount ?? 0;
  }
  async exec(text: string): Promise<void> {
    await this.client.query(text);
  }
}

export type Isolation = 'read committed' | 'repeatable read' | 'serializable';

export class PgDb {
  /** The URL without its password. */
  readonly display: string;
  private readonly pool: pg.Pool;
  private readonly secrets: string[];
  private readonly retryMs: number;
  private listener: pg.Client | null = null;
  private listening = new Map<string, Set<(payload: string) => void>>();
  private listenerRetry: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly url: string;
  private readonly applicationName: string;
  /** Opened read-only (see {@link PgOpenOptions.readonly}). */
  readonly readonly: boolean;

  constructor(o: PgOpenOptions) {
    this.display = o.display;
    this.url = o.url;
    this.secrets = passwordsOf(o.url);
    this.retryMs = o.retryMs ?? 60000;
    this.applicationName = o.applicationName ?? 'fracflow';
    this.readonly = o.readonly === true;
    this.pool = new pg.Pool({
      connectionString: o.url, max: o.maxConnections ?? 3, application_name: this.applicationName, idleTimeoutMillis: 30000,
      ...(this.readonly ? { options: '-c default_transaction_read_only=on' } : {}),
    });
    // An idle connection the server closed (a restart): the pool drops it and opens another when
    // needed. Without a listener the 'error' event would end the process.
    this.pool.on('error', () => undefined);
    // A connection that drops while checked out (a restart during a query) also emits 'error' on its
    // client; the query's own rejection is what the transaction handles (and retries).
    this.pool.on('connect', (client) => client.on('error', () => undefined));
  }

  /** The error as the user sees it: the store named without its password, the password scrubbed from every text. */
  translate(e: unknown): Error {
    if (e instanceof PgStoreError) return e;
    const err = e as { code?: unknown; message?: unknown; detail?: unknown };
    const code = typeof err.code === 'string' ? err.code : 'EPG';
    const raw = scrub(typeof err.message === 'string' ? err.message : String(e), this.secrets);
    const detail = typeof err.detail === 'string' && err.detail !== '' ? ` (${scrub(err.detail, this.secrets)})` : '';
    let msg: string;
    if (code === '28P01' || code === '28000') msg = `store ${this.display}: authentication failed (${raw}); check the password in PGPASSWORD, PGPASSFILE (~/.pgpass) or the URL`;
    else if (code === '3D000') msg = `store ${this.display}: ${raw}; create it first (\`createdb\`)`;
    else if (code === 'ECONNREFUSED') msg = `store ${this.display}: cannot connect (connection refused): is the PostgreSQL server running on that host and port?`;
    else if (code === '53100') msg = `store ${this.display}: the database server's disk is full (${raw}); the last transaction was rolled back, free space and re-run`;
    else msg = `store ${this.display}: ${raw}${detail} (${code})`;
    return new PgStoreError(msg, code);
  }

  /**
   * Run `fn` in one transaction on one connection; transient failures (see {@link isTransient}) run it
   * again from the start until `retryMs` (default: the store's) has passed.
   */
  async transaction<T>(fn: (tx: PgTx) => Promise<T>, isolation: Isolation = 'read committed', retryMs = this.retryMs): Promise<T> {
    const t0 = Date.now();
    let wait = 50;
    for (;;) {
      let client: pg.PoolClient | null = null;
      try {
        client = await this.pool.connect();
        await client.query(isolation === 'read committed' ? 'BEGIN' : `BEGIN ISOLATION LEVEL ${isolation.toUpperCase()}`);
        const out = await fn(new Tx(client));
        await client.query('COMMIT');
        client.release();
        return out;
      } catch (e) {
        if (client) {
          try {
            await client.query('ROLLBACK');
            client.release();
          } catch {
            // The connection is gone: drop it from the pool.
            client.release(true);
          }
        }
        if (this.closed || !isTransient(e) || Date.now() - t0 > retryMs) throw this.translate(e);
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(2000, wait * 2);
      }
    }
  }

  /**
   * One maintenance statement outside any transaction (VACUUM refuses to run in one), on a pooled
   * connection; not retried (the caller may run it again).
   */
  async outsideTransaction(text: string): Promise<void> {
    const client = await this.pool.connect().catch((e: unknown) => {
      throw this.translate(e);
    });
    try {
      await client.query(text);
      client.release();
    } catch (e) {
      client.release(true);
      throw this.translate(e);
    }
  }

  /** One statement outside an explicit transaction (its own), retried like a transaction. */
  async all<T>(text: string, params?: PgParams): Promise<T[]> {
    return this.transaction((tx) => tx.all<T>(text, params));
  }

  /**
   * One statement as its own transaction (autocommit: no BEGIN and COMMIT around it, one round trip
   * instead of three), rows as arrays; retried like a transaction. A single statement is atomic: its
   * data-modifying CTEs commit together or not at all.
   */
  async statement(text: string, params?: PgParams, retryMs = this.retryMs): Promise<unknown[][]> {
    const t0 = Date.now();
    let wait = 50;
    const b = bind(text, params);
    for (;;) {
      try {
        return (await this.pool.query({ text: b.text, values: b.values, rowMode: 'array' })).rows as unknown[][];
      } catch (e) {
        if (this.closed || !isTransient(e) || Date.now() - t0 > retryMs) throw this.translate(e);
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(2000, wait * 2);
      }
    }
  }

  /**
   * Call `onNotify` for each NOTIFY on `channel` (a connection of its own, re-opened after a drop;
   * notifications sent while it was down are lost, so waiters also time out and look).
   */
  async listen(channel: string, onNotify: (payload: string) => void): Promise<() => void> {
    let set = this.listening.get(channel);
    if (!set) {
      set = new Set();
      this.listening.set(channel, set);
    }
    set.add(onNotify);
    try {
      await this.ensureListener();
      await this.listener?.query(`LISTEN ${channel}`);
    } catch {
      this.scheduleListener();
    }
    return () => {
      set!.delete(onNotify);
    };
  }

  private async ensureListener(): Promise<void> {
    if (this.listener || this.closed) return;
    const c = new pg.Client({ connectionString: this.url, application_name: `${this.applicationName} listen` });
    c.on('error', () => {
      if (this.listener === c) this.listener = null;
      this.scheduleListener();
    });
    c.on('end', () => {
      if (this.listener === c) this.listener = null;
      this.scheduleListener();
    });
    c.on('notification', (n) => {
      for (const f of this.listening.get(n.channel) ?? []) f(n.payload ?? '');
    });
    await c.connect();
    this.listener = c;
    for (const ch of this.listening.keys()) await c.query(`LISTEN ${ch}`);
  }

  private scheduleListener(): void {
    if (this.closed || this.listenerRetry) return;
    this.listenerRetry = setTimeout(() => {
      this.listenerRetry = null;
      this.ensureListener().catch(() => this.scheduleListener());
    }, 500);
    this.listenerRetry.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.listenerRetry) clearTimeout(this.listenerRetry);
    const l = this.listener;
    this.listener = null;
    if (l) await l.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}

/** Open a pool on the database (nothing is connected until the first call). */
export function openPg(o: PgOpenOptions): PgDb {
  return new PgDb(o);
}
