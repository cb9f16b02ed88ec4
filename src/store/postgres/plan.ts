/**
 * A stage as the PostgreSQL backend sees it: its table, its input and output column names, the SQL
 * types of its columns, and the portable expressions (src/stage-kit/expressions.ts) in PostgreSQL's
 * dialect: `min`/`max` of two or more values are LEAST/GREATEST, `round` rounds as SQLite does (half
 * away from zero, on numeric), cutoffs are bound parameters cast to double precision.
 */
import type { ColumnType, InputValue, KeyPart, Stage } from '../../stage-kit/stage.js';
import { renderExpression, type Dialect, type PortableExpression } from '../../stage-kit/expressions.js';
import type { PgValue } from './connection.js';

/** Column types; bool as 0/1 INTEGER, as the SQLite store keeps it, so both export the same values. */
export const PG_TYPE: Record<ColumnType, string> = { float64: 'DOUBLE PRECISION', int32: 'INTEGER', utf8: 'TEXT', binary: 'BYTEA', bool: 'INTEGER' };

export interface StagePlan {
  readonly stage: Stage;
  readonly table: string;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}

export function planOf(stage: Stage): StagePlan {
  return { stage, table: stage.name, inputNames: Object.keys(stage.input.columns), outputNames: Object.keys(stage.output) };
}

/** A JS value as the store keeps it (booleans as 0/1). */
export function toPg(v: unknown): PgValue {
  if (v === undefined || v === null) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' || typeof v === 'string' || v instanceof Uint8Array) return v;
  throw new TypeError(`cannot store a ${typeof v} in a stage column`);
}

const FN: Record<string, string> = { min: 'LEAST', max: 'GREATEST', round: 'fracflow_round' };
const fn = (n: string) => FN[n] ?? n;

/** Upstream columns as `u."name"`, cutoffs as parameters `@c_name` (see {@link cutoffParams}). */
export const UPSTREAM: Dialect = { column: (n) => `u."${n}"`, cutoff: (n) => `CAST(@c_${n} AS DOUBLE PRECISION)`, fn };
/** A stage's own columns (a priority), unqualified. */
export const OWN: Dialect = { column: (n) => `"${n}"`, cutoff: (n) => `CAST(@c_${n} AS DOUBLE PRECISION)`, fn };

/** The bound values of an expression's cutoffs, named as {@link UPSTREAM} renders them. */
export function cutoffParams(values: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(values)) out[`c_${k}`] = v;
  return out;
}

/** A constant as an SQL literal (numbers with a cast, so that a whole number stays double precision). */
export function literal(v: InputValue): string {
  if (v === null) return 'NULL';
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : `CAST(${String(v)} AS DOUBLE PRECISION)`;
  return `'${v.replace(/'/g, "''")}'`;
}

/** The key template as an expression over the upstream row `u` (text throughout). */
export function keySql(parts: readonly KeyPart[]): string {
  return parts.map((p) => ('text' in p ? literal(p.text) : p.chars === null ? `CAST(u."${p.column}" AS TEXT)` : `substr(CAST(u."${p.column}" AS TEXT), 1, ${p.chars})`)).join(' || ');
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

/** A priority expression (validated) in PostgreSQL's dialect. */
export function prioritySql(e: PortableExpression): string {
  return renderExpression(e, OWN);
}

/** A filter expression (validated) over the upstream row `u`. */
export function filterSql(e: PortableExpression): string {
  return renderExpression(e, UPSTREAM);
}
