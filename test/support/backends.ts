/**
 * The store backends the conformance suites run against: SQLite (a file in a temporary folder) and
 * PostgreSQL (a database of its own per store on one server the suite starts; see ./postgres.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { skipWithoutPostgres, startPostgres, type PgServer } from './postgres.js';

export interface Backend {
  readonly name: 'sqlite' | 'postgres';
  /** A reason to skip this backend's tests, or false. */
  readonly skip: string | false;
  /** Start what the backend needs (the PostgreSQL server). */
  start(): Promise<void>;
  /** A new empty store's location (an SQLite path, a PostgreSQL URL with its password). */
  fresh(): Promise<string>;
  /** Stop and remove everything started. */
  stop(): void;
  /** The server, for the PostgreSQL backend once started. */
  server(): PgServer | null;
}

export function sqliteBackend(): Backend {
  let dir: string | null = null;
  let n = 0;
  return {
    name: 'sqlite',
    skip: false,
    async start() {
      dir = mkdtempSync(join(tmpdir(), 'fracflow-store-'));
    },
    async fresh() {
      return join(dir!, `s${++n}.db`);
    },
    stop() {
      if (dir) rmSync(dir, { recursive: true, force: true });
      dir = null;
    },
    server: () => null,
  };
}

export function postgresBackend(): Backend {
  let pg: PgServer | null = null;
  let n = 0;
  return {
    name: 'postgres',
    skip: skipWithoutPostgres(),
    async start() {
      pg = await startPostgres();
    },
    async fresh() {
      return pg!.createDatabase(`s${process.pid}_${++n}`);
    },
    stop() {
      pg?.stop();
      pg = null;
    },
    server: () => pg,
  };
}

export const BACKENDS = [sqliteBackend, postgresBackend];
