/**
 * A stage as the SQLite backend sees it: its table, its input and output column names in declaration
 * order, and the SQL types of its columns. Built once per stage by `ensure` and kept by the store.
 */
import type { ColumnType, InputValue, KeyPart, Stage } from '../../stage-kit/stage.js';
import { renderExpression, type Dialect, type PortableExpression } from '../../stage-kit/expressions.js';
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

/** The portable expressions in SQLite's dialect: upstream columns as `u."name"`, cutoffs as `@name`. */
export const UPSTREAM: Dialect = { column: (n) => `u."${n}"`, cutoff: (n) => `@${n}`, fn: (n) => n };
/** A stage's own columns (a priority), unqualified. */
export const OWN: Dialect = { column: (n) => `"${n}"`, cutoff: (n) => `@${n}`, fn: (n) => n };

/** A constant as an SQL literal. */
export function literal(v: InputValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') return String(v);
  return `'${v.replace(/'/g, "''")}'`;
}

/** The key template as an expression over the upstream row `u`. */
export function keySql(parts: readonly KeyPart[]): string {
  return parts.map((p) => ('text' in p ? literal(p.text) : p.chars === null ? `u."${p.column}"` : `substr(u."${p.column}", 1, ${p.chars})`)).join(' || ');
}

/** An input column's value for a new row: the upstream column copied, or the constant. */
export function inputSql(c: Stage['input']['columns'][string]): string {
  return c.from !== null ? `u."${c.from}"` : literal(c.value);
}

/** The upstream columns a stage's admission reads (key template, copied columns, filter). */
export function upstreamColumnsUsed(stage: Stage): string[] {
  const out = new Set<string>();
  for (const p of stage.input.keyParts) if ('column' in p) out.add(p.column);
  for (const c of Object.values(stage.input.columns)) if (c.from !== null) out.add(c.from);
  for (const c of stage.filter?.expr.columns ?? []) out.add(c);
  return [...out];
}

/** A priority expression (validated) in SQLite's dialect. */
export function prioritySql(e: PortableExpression): string {
  return renderExpression(e, OWN);
}
