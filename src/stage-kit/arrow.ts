/**
 * Arrow batch codec: stage rows ↔ Arrow record batches ↔ IPC bytes. Rows travel between the main
 * thread and the workers as raw Arrow buffers (wire.ts), not through this codec; checkpoints and
 * `export --format arrow` write the IPC *file* format (`ARROW1` magic at both ends), which pyarrow's
 * `ipc.open_file` and polars read (test/engine/arrow-readers.test.ts).
 *
 * Values are column arrays (one JS array per column), never per-row objects.
 */
import {
  Binary, Bool, Field, Float64, Int32, RecordBatch, Schema, Struct, Table, Utf8, makeData, makeVector,
  tableFromIPC, tableToIPC, vectorFromArray, type Data, type DataType, type Vector,
} from 'apache-arrow';
import type { ColumnType } from './stage.js';

export interface ColumnDef {
  name: string;
  type: ColumnType;
}

function arrowType(t: ColumnType): DataType {
  switch (t) {
    case 'float64': return new Float64();
    case 'int32': return new Int32();
    case 'utf8': return new Utf8();
    case 'binary': return new Binary();
    case 'bool': return new Bool();
  }
}

function toVector(t: ColumnType, values: readonly unknown[]): Vector {
  const n = values.length;
  if (t === 'float64' || t === 'int32') {
    let dense = true;
    for (let i = 0; i < n; i++) if (typeof values[i] !== 'number') { dense = false; break; }
    if (dense) return makeVector(t === 'float64' ? Float64Array.from(values as number[]) : Int32Array.from(values as number[]));
    return vectorFromArray(values.map((v) => (v === null || v === undefined ? null : Number(v))), arrowType(t));
  }
  if (t === 'bool') return vectorFromArray(values.map((v) => (v === null || v === undefined ? null : Boolean(v))), new Bool());
  if (t === 'binary') {
    return vectorFromArray(values.map((v) => (v === null || v === undefined ? null : v instanceof Uint8Array ? v : new TextEncoder().encode(String(v)))), new Binary());
  }
  return asciiUtf8(values) ?? vectorFromArray(values.map((v) => (v === null || v === undefined ? null : String(v))), new Utf8());
}

/**
 * A Utf8 vector built directly from ASCII strings: one buffer, offsets from string lengths. Keys and
 * most messages are ASCII; Arrow's generic builder costs ~0.5 ms per small batch, which would dominate
 * a trivial stage. Returns null when a value is not an ASCII string (the builder handles it).
 */
function asciiUtf8(values: readonly unknown[]): Vector | null {
  const n = values.length;
  const offsets = new Int32Array(n + 1);
  let nulls = 0;
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v === null || v === undefined) nulls++;
    else if (typeof v === 'string') total += v.length;
    else return null;
    offsets[i + 1] = total;
  }
  const parts: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) parts[i] = typeof values[i] === 'string' ? (values[i] as string) : '';
  const joined = parts.join('');
  if (!/^[\x00-\x7f]*$/.test(joined)) return null;
  const bytes = new Uint8Array(total);
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).write(joined, 'latin1');
  let nullBitmap: Uint8Array | undefined;
  if (nulls > 0) {
    nullBitmap = new Uint8Array((n + 7) >> 3);
    for (let i = 0; i < n; i++) if (values[i] !== null && values[i] !== undefined) nullBitmap[i >> 3]! |= 1 << (i & 7);
  }
  return makeVector(makeData({ type: new Utf8(), length: n, nullCount: nulls, nullBitmap, valueOffsets: offsets, data: bytes }));
}

/** A record batch from column arrays (`columns[c][row]`), in the order of `defs`. */
export function makeBatch(defs: readonly ColumnDef[], columns: readonly (readonly unknown[])[]): RecordBatch {
  const n = columns[0]?.length ?? 0;
  const fields: Field[] = [];
  const children = [];
  for (let c = 0; c < defs.length; c++) {
    const d = defs[c]!;
    const col = columns[c]!;
    if (col.length !== n) throw new RangeError(`column ${d.name} has ${col.length} values, expected ${n}`);
    const v = toVector(d.type, col);
    fields.push(new Field(d.name, v.type, true));
    children.push(v.data[0]!);
  }
  const schema = new Schema(fields);
  return new RecordBatch(schema, makeData({ type: new Struct(fields), length: n, nullCount: 0, children }));
}

/** IPC stream bytes of a batch (or table), in a fresh ArrayBuffer that can be transferred. */
export function encodeStream(data: RecordBatch | Table): Uint8Array {
  const t = data instanceof Table ? data : new Table(data);
  return tableToIPC(t, 'stream');
}

/** IPC file bytes (`ARROW1` … `ARROW1`) of a table. */
export function encodeFile(t: Table): Uint8Array {
  return tableToIPC(t, 'file');
}

export function decode(bytes: Uint8Array): Table {
  return tableFromIPC(bytes);
}

/** A table from column arrays. */
export function makeTable(defs: readonly ColumnDef[], columns: readonly (readonly unknown[])[]): Table {
  return new Table(makeBatch(defs, columns));
}

/** Column `name` of a table as a JS array (numbers, strings, Uint8Arrays, booleans or null). */
export function columnValues(t: Table | RecordBatch, name: string): unknown[] {
  const v = t.getChild(name);
  if (!v) throw new RangeError(`batch has no column ${JSON.stringify(name)} (columns: ${t.schema.fields.map((f) => f.name).join(', ')})`);
  const out = new Array<unknown>(v.length);
  if (v.nullCount === 0 && (v.type instanceof Float64 || v.type instanceof Int32)) {
    const a = v.toArray() as Float64Array | Int32Array;
    for (let i = 0; i < a.length; i++) out[i] = a[i];
    return out;
  }
  if (v.type instanceof Utf8 && v.data.length === 1 && asciiStrings(v.data[0]!, out)) return out;
  for (let i = 0; i < v.length; i++) {
    const x = v.get(i) as unknown;
    out[i] = x === undefined ? null : x;
  }
  return out;
}

/** Fast path for an all-ASCII Utf8 column: decode the value buffer once and slice it. */
function asciiStrings(d: Data, out: unknown[]): boolean {
  const offsets = d.valueOffsets as Int32Array;
  const bytes = d.values as Uint8Array;
  const lo = offsets[0]!;
  const hi = offsets[d.length]!;
  for (let i = lo; i < hi; i++) if (bytes[i]! > 0x7f) return false;
  const text = Buffer.from(bytes.buffer, bytes.byteOffset + lo, hi - lo).toString('latin1');
  for (let i = 0; i < d.length; i++) out[i] = d.getValid(i) ? text.slice(offsets[i]! - lo, offsets[i + 1]! - lo) : null;
  return true;
}
