/**
 * The SQLite connection of the embedded store, through better-sqlite3: the only importer of the
 * driver in src/ (the PostgreSQL backend will be the only importer of `pg`). Everything else of the
 * SQLite backend runs its statements through {@link SqlDb}.
 *
 * Connection settings: WAL journal (readers never block the writer), `synchronous=NORMAL` (a commit
 * survives a killed process; only an OS crash may lose the last commits), a busy timeout so that two
 * processes on one file wait for each other's write lock instead of failing.
 */
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** A value SQLite stores: REAL/INTEGER, TEXT, BLOB or NULL. */
export type SqlValue = number | bigint | string | Uint8Array | null;
/** Positional (`?`) or named (`@name`) parameters. */
export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;

/** The whole SQL surface the engine uses; one implementation per backend. */
export interface SqlDb {
  /** File path (or `:memory:`) the connection was opened on. */
  readonly path: string;
  /** Run statements without results (DDL, several statements allowed). */
  exec(sql: string): void;
  run(sql: string, params?: SqlParams): { changes: number; lastInsertRowid: number };
  get<T>(sql: string, params?: SqlParams): T | undefined;
  all<T>(sql: string, params?: SqlParams): T[];
  /** Rows as arrays in column order (no per-row objects). */
  allRaw(sql: string, params?: SqlParams): unknown[][];
  /** Column names of a statement's result. */
  columns(sql: string): string[];
  /**
   * Run `fn` inside one transaction (nested calls become savepoints). `immediate` takes the write lock
   * at BEGIN, so that a read-then-write (a claim) cannot be interleaved with another writer. `fn` must
   * be synchronous: nothing awaits inside a transaction.
   */
  transaction<T>(fn: () => T, mode?: 'deferred' | 'immediate'): T;
  /** A pragma's single value. */
  pragma(text: string): unknown;
  /** Online backup to a new file (readers and the writer go on meanwhile). */
  backup(destination: string): Promise<void>;
  close(): void;
}

/** A store operation that failed for a reason the user can act on (disk full, read-only file, ...). */
export class StoreError extends Error {
  /** SQLite result code name, e.g. `SQLITE_FULL`, `SQLITE_READONLY`. */
  readonly code: string;
  constructor(message: string, code: string) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
  }
}

function storeError(e: unknown, path: string): unknown {
  // Already translated (a statement inside a transaction, both wrapped).
  if (e instanceof StoreError) return e;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return e;
  const msg = (e as Error).message;
  if (code === 'SQLITE_FULL') return new StoreError(`store ${path}: database or disk is full (${code}); the last transaction was rolled back, free space and re-run`, code);
  if (code.startsWith('SQLITE_READONLY')) return new StoreError(`store ${path}: the database file is read-only (${code}); nothing was written`, code);
  if (code.startsWith('SQLITE_CANTOPEN')) return new StoreError(`store ${path}: cannot open the database file (${code}: ${msg})`, code);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) return new StoreError(`store ${path}: not a valid SQLite database (${code})`, code);
  if (code.startsWith('SQLITE_BUSY')) return new StoreError(`store ${path}: database is locked by another process (${code})`, code);
  return new StoreError(`store ${path}: ${msg} (${code})`, code);
}

export interface OpenOptions {
  /** Wait this long (ms) for another connection's write lock. Default 10000. */
  busyTimeoutMs?: number;
  /** Open read-only, an existing file only (status, errors, export, checkpoint). Default false. */
  readonly?: boolean;
  /** Cap the file at this many pages (SQLite `max_page_count`); used to test a full disk. */
  maxPageCount?: number;
}

class SqliteDb implements SqlDb {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly stmts = new Map<string, Database.Statement>();
  private readonly rawStmts = new Map<string, Database.Statement>();

  constructor(path: string, options: OpenOptions) {
    this.path = path;
    try {
      if (path !== ':memory:' && !options.readonly) mkdirSync(dirname(resolve(path)), { recursive: true });
      if (path !== ':memory:' && options.readonly && !existsSync(path)) {
        throw new StoreError(`store ${path}: cannot open the database file: no such file (this command reads an existing store; check --db)`, 'SQLITE_CANTOPEN');
      }
      this.db = new Database(path, { readonly: options.readonly === true, fileMustExist: options.readonly === true });
    } catch (e) {
      throw storeError(e, path);
    }
    try {
      this.db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 10000))}`);
      if (!options.readonly) {
        if (path !== ':memory:') this.db.pragma('journal_mode = WAL');
        this.db.pragma('synchronous = NORMAL');
      }
      this.db.pragma('foreign_keys = ON');
      if (options.maxPageCount !== undefined) this.db.pragma(`max_page_count = ${Math.floor(options.maxPageCount)}`);
    } catch (e) {
      this.db.close();
      throw storeError(e, path);
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.stmts.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      this.stmts.set(sql, s);
    }
    return s;
  }

  private wrap<T>(f: () => T): T {
    try {
      return f();
    } catch (e) {
      throw storeError(e, this.path);
    }
  }

  exec(sql: string): void {
    this.wrap(() => this.db.exec(sql));
  }
  run(sql: string, params?: SqlParams): { changes: number; lastInsertRowid: number } {
    return this.wrap(() => {
      const r = params === undefined ? this.stmt(sql).run() : this.stmt(sql).run(params as never);
      return { changes: r.changes, lastInsertRowid: Number(r.lastInsertRowid) };
    });
  }
  get<T>(sql: string, params?: SqlParams): T | undefined {
    return this.wrap(() => (params === undefined ? this.stmt(sql).get() : this.stmt(sql).get(params as never)) as T | undefined);
  }
  all<T>(sql: string, params?: SqlParams): T[] {
    return this.wrap(() => (params === undefined ? this.stmt(sql).all() : this.stmt(sql).all(params as never)) as T[]);
  }
  allRaw(sql: string, params?: SqlParams): unknown[][] {
    return this.wrap(() => {
      let s = this.rawStmts.get(sql);
      if (!s) {
        s = this.db.prepare(sql).raw(true);
        this.rawStmts.set(sql, s);
      }
      return (params === undefined ? s.all() : s.all(params as never)) as unknown[][];
    });
  }
  columns(sql: string): string[] {
    return this.wrap(() => this.stmt(sql).columns().map((c) => c.name));
  }
  transaction<T>(fn: () => T, mode: 'deferred' | 'immediate' = 'deferred'): T {
    return this.wrap(() => {
      const t = this.db.transaction(fn);
      return mode === 'immediate' ? t.immediate() : t.deferred();
    });
  }
  pragma(text: string): unknown {
    return this.wrap(() => this.db.pragma(text, { simple: true }));
  }
  async backup(destination: string): Promise<void> {
    try {
      await this.db.backup(destination);
    } catch (e) {
      throw storeError(e, destination);
    }
  }
  close(): void {
    if (this.db.open) this.db.close();
  }
}

/** Open an SQL connection on an SQLite file or `:memory:` with the engine's settings. */
export function openSql(path: string, options: OpenOptions = {}): SqlDb {
  return new SqliteDb(path, options);
}

