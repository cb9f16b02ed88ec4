/**
 * A table read whole (column definitions and column arrays) as the files `export` and `checkpoint`
 * write — CSV, JSON lines, an Arrow IPC file — the same for every backend.
 */
import { encodeFile, makeTable, type ColumnDef } from '../stage-kit/arrow.js';
import type { ColumnType } from '../stage-kit/stage.js';

export interface TableData {
  defs: ColumnDef[];
  columns: unknown[][];
}

/** The column type of values whose SQL type is not declared (view columns computed by expressions). */
export function inferredType(values: readonly unknown[]): ColumnType {
  let kind: ColumnType | null = null;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    const k: ColumnType = typeof v === 'number' || typeof v === 'bigint' ? 'float64' : v instanceof Uint8Array ? 'binary' : 'utf8';
    if (kind !== null && kind !== k) return 'utf8';
    kind = k;
  }
  return kind ?? 'utf8';
}

/** The declared types of a stage table's input and output columns, from its registry spec (JSON). */
export function specColumnTypes(specJson: string | undefined): Map<string, ColumnType> {
  const out = new Map<string, ColumnType>();
  if (specJson === undefined) return out;
  let spec: { input?: { columns?: Record<string, { type?: unknown } | unknown> }; output?: Record<string, unknown> };
  try {
    spec = JSON.parse(specJson) as typeof spec;
  } catch {
    return out;
  }
  const known = (t: unknown): t is ColumnType => t === 'float64' || t === 'int32' || t === 'utf8' || t === 'binary' || t === 'bool';
  for (const [name, c] of Object.entries(spec.input?.columns ?? {})) {
    const t = typeof c === 'object' && c !== null ? (c as { type?: unknown }).type : c;
    if (known(t)) out.set(name, t);
  }
  for (const [name, t] of Object.entries(spec.output ?? {})) if (known(t)) out.set(name, t);
  return out;
}

/**
 * The column definitions of a table from its columns' store types (`byStore`, already mapped to
 * column types; undefined where unknown) and a stage's declared types: a stage's int32 or bool column
 * keeps its type only when every value fits it; unknown types are inferred from the values. Text
 * columns holding other values are written as text (binary as base64).
 */
export function tableData(names: readonly string[], byStore: readonly (ColumnType | undefined)[], declaredByStage: ReadonlyMap<string, ColumnType>, columns: unknown[][], inferUnknown: boolean): TableData {
  const defs = names.map((name, i) => {
    const byStage = declaredByStage.get(name);
    const fits = byStage === 'int32' ? columns[i]!.every((v) => v === null || (Number.isInteger(v) && (v as number) >= -2147483648 && (v as number) <= 2147483647))
      : byStage === 'bool' ? columns[i]!.every((v) => v === null || v === 0 || v === 1)
      : byStage !== undefined;
    const declared = (fits ? byStage : undefined) ?? byStore[i];
    const type = declared ?? (inferUnknown ? inferredType(columns[i]!) : 'utf8');
    if (type === 'utf8') columns[i] = columns[i]!.map((v) => (v === null || v === undefined || typeof v === 'string' ? v : v instanceof Uint8Array ? Buffer.from(v).toString('base64') : String(v)));
    return { name, type };
  });
  return { defs, columns };
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180 CSV (header row; BLOBs as base64; NULL as an empty cell). */
export function csvOf({ defs, columns }: TableData): string {
  const n = columns[0]?.length ?? 0;
  const lines = [defs.map((d) => csvCell(d.name)).join(',')];
  for (let r = 0; r < n; r++) lines.push(columns.map((c) => csvCell(c[r])).join(','));
  return lines.join('\n') + '\n';
}

/** JSON lines, one object per row (BLOBs as base64). */
export function jsonLinesOf({ defs, columns }: TableData): string {
  const n = columns[0]?.length ?? 0;
  const out: string[] = [];
  for (let r = 0; r < n; r++) {
    const o: Record<string, unknown> = {};
    defs.forEach((d, c) => {
      const v = columns[c]![r];
      o[d.name] = v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v;
    });
    out.push(JSON.stringify(o));
  }
  return out.length ? out.join('\n') + '\n' : '';
}

export function arrowOf(t: TableData): Uint8Array {
  return encodeFile(makeTable(t.defs, t.columns));
}

export function fileOf(t: TableData, format: 'csv' | 'arrow' | 'json'): Uint8Array {
  if (format === 'arrow') return arrowOf(t);
  return Buffer.from(format === 'csv' ? csvOf(t) : jsonLinesOf(t), 'utf8');
}
