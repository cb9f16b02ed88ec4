/**
 * A stage as the SQLite backend sees it: its table, its input and output column names in declaration
 * order, and the SQL types of its columns. Built once per stage by `ensure` and kept by the store.
 */
import type { ColumnType, Stage } from '../../engine/stage.js';
import type { SqlValue } from './connection.js';

export const SQL_TYPE: Record<ColumnType, string> = { float64: 'REAL', int32: 'INTEGER', utf8: 'TEXT', binary: 'BLOB', bool: 'INTEGER' };

export interface StagePlan {
  readonly stage: Stage;
  readonly table: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}

export function planOf(stage: Stage): StagePlan {
  return { stage, table: stage.name, inputNames: Object.keys(stage.input.columns), outputNames: Object.keys(stage.output) };
}

/** A JS value as SQLite stores it (booleans as 0/1). */
export function toSql(v: unknown): SqlValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number' || typeof v === 'string' || typeof v === 'bigint' || v instanceof Uint8Array) return v;
  throw new TypeError(`cannot store a ${typeof v} in a stage column`);
}
