/**
 * The thread wire format: a record batch as its raw Arrow buffers (values, offsets, validity) in a
 * plain message, the buffers moved, not copied. Measured on a 64-row (key, x) batch, warm, quiet
 * machine: IPC stream encode ~190 µs and decode + column read ~70–150 µs per hop, against ~30 µs for
 * toWire and ~30 µs for fromWire + column read (the message's structured clone adds ~15 µs). Under
 * load and before the JIT warms up the IPC path costs several times more (~0.7 ms per claim in the
 * engine profile). The receiver rebuilds the same `Data` over the same buffers with `makeData`, so the
 * work function still sees an ordinary Arrow `RecordBatch`.
 *
 * Only the five engine column types travel (float64, int32, utf8, binary, bool): both ends build their
 * batches with `makeBatch` from declared columns. Checkpoints and exports keep the IPC file format
 * (arrow.ts).
 */
import { Binary, Bool, Field, Float64, Int32, RecordBatch, Schema, Struct, Utf8, makeData, type Data, type DataType } from 'apache-arrow';
import type { ColumnType } from './stage.js';
import { columnValues, makeBatch, type ColumnDef } from './arrow.js';

export interface WireColumn {
  name: string;
  type: ColumnType;
  length: number;
  nullCount: number;
  /** Offset of the first value in `values` / `valueOffsets` / `nullBitmap` (a sliced batch). */
  offset: number;
  values: Float64Array | Int32Array | Uint8Array;
  valueOffsets: Int32Array | null;
  nullBitmap: Uint8Array | null;
}

export interface WireBatch {
  length: number;
  columns: WireColumn[];
}

function columnType(t: DataType, name: string): ColumnType {
  if (t instanceof Float64) return 'float64';
  if (t instanceof Int32) return 'int32';
  if (t instanceof Utf8) return 'utf8';
  if (t instanceof Binary) return 'binary';
  if (t instanceof Bool) return 'bool';
  throw new TypeError(`column ${name}: Arrow type ${String(t)} cannot travel between threads (float64, int32, utf8, binary, bool only)`);
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

/**
 * Moving a buffer detaches it everywhere, and a structured clone of a view copies its whole buffer:
 * a view that does not own exactly its buffer, or whose buffer is already being moved, is copied first.
 */
function movable<T extends Float64Array | Int32Array | Uint8Array>(a: T, moved: Set<ArrayBufferLike>): T {
  const own = a.byteOffset === 0 && a.byteLength === a.buffer.byteLength && !moved.has(a.buffer) && !(a.buffer instanceof SharedArrayBuffer);
  const out = own ? a : (a.slice() as T);
  moved.add(out.buffer);
  return out;
}

/** A batch as raw buffers, and the buffers to move with it (pass as the transfer list). */
export function toWire(batch: RecordBatch): { wire: WireBatch; transfer: ArrayBuffer[] } {
  const moved = new Set<ArrayBufferLike>();
  const columns: WireColumn[] = [];
  batch.schema.fields.forEach((f, c) => {
    const d = batch.getChildAt(c)!.data[0]! as Data;
    const type = columnType(d.type, f.name);
    const nullCount = d.nullCount;
    columns.push({
      name: f.name,
      type,
      length: d.length,
      nullCount,
      offset: d.offset,
      values: movable(d.values as Float64Array | Int32Array | Uint8Array, moved),
      valueOffsets: type === 'utf8' || type === 'binary' ? movable(d.valueOffsets as Int32Array, moved) : null,
      nullBitmap: nullCount > 0 && d.nullBitmap && d.nullBitmap.byteLength > 0 ? movable(d.nullBitmap, moved) : null,
    });
  });
  return { wire: { length: batch.numRows, columns }, transfer: [...moved] as ArrayBuffer[] };
}

/** The record batch over a received message's buffers (no copy). */
export function fromWire(w: WireBatch): RecordBatch {
  const fields: Field[] = [];
  const children: Data[] = [];
  for (const c of w.columns) {
    const type = arrowType(c.type);
    fields.push(new Field(c.name, type, true));
    children.push(makeData({
      type, length: c.length, nullCount: c.nullCount, offset: c.offset,
      nullBitmap: c.nullBitmap ?? undefined, valueOffsets: c.valueOffsets ?? undefined, data: c.values,
    } as never) as Data);
  }
  return new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: w.length, nullCount: 0, children }));
}

function plain(name: string, type: ColumnType, length: number, values: Float64Array | Int32Array | Uint8Array, valueOffsets: Int32Array | null): WireColumn {
  return { name, type, length, nullCount: 0, offset: 0, values, valueOffsets, nullBitmap: null };
}

/** Dense numbers, or ASCII strings without nulls, straight into fresh buffers; null for anything else. */
function direct(d: ColumnDef, col: readonly unknown[]): WireColumn | null {
  const n = col.length;
  if (d.type === 'float64' || d.type === 'int32') {
    const a = d.type === 'float64' ? new Float64Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (typeof v !== 'number') return null;
      a[i] = v;
    }
    return plain(d.name, d.type, n, a, null);
  }
  if (d.type !== 'utf8') return null;
  const offsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (typeof v !== 'string') return null;
    total += v.length;
    offsets[i + 1] = total;
  }
  const joined = (col as string[]).join('');
  if (!/^[\x00-\x7f]*$/.test(joined)) return null;
  const bytes = new Uint8Array(total);
  Buffer.from(bytes.buffer, 0, total).write(joined, 'latin1');
  return plain(d.name, 'utf8', n, bytes, offsets);
}

/**
 * The wire form of `makeBatch(defs, columns)` without building Arrow objects for the common columns
 * (dense numbers, ASCII keys): the claim and the result of every task take this path, and the Arrow
 * vector, field and schema objects cost more than the copy itself. Other columns go through makeBatch.
 */
export function wireFromColumns(defs: readonly ColumnDef[], columns: readonly (readonly unknown[])[]): { wire: WireBatch; transfer: ArrayBuffer[] } {
  const n = columns[0]?.length ?? 0;
  const out: WireColumn[] = [];
  const transfer: ArrayBuffer[] = [];
  for (let c = 0; c < defs.length; c++) {
    const d = defs[c]!;
    const col = columns[c]!;
    if (col.length !== n) throw new RangeError(`column ${d.name} has ${col.length} values, expected ${n}`);
    const w = direct(d, col);
    if (w) {
      out.push(w);
      transfer.push(w.values.buffer as ArrayBuffer);
      if (w.valueOffsets) transfer.push(w.valueOffsets.buffer as ArrayBuffer);
    } else {
      const one = toWire(makeBatch([d], [col]));
      out.push(one.wire.columns[0]!);
      transfer.push(...one.transfer);
    }
  }
  return { wire: { length: n, columns: out }, transfer };
}

/** Column `name` of a wire batch as a JS array: the values columnValues() gives for fromWire(w). */
export function wireValues(w: WireBatch, name: string): unknown[] {
  const c = w.columns.find((x) => x.name === name);
  if (!c) throw new RangeError(`batch has no column ${JSON.stringify(name)} (columns: ${w.columns.map((x) => x.name).join(', ')})`);
  const n = c.length;
  if (c.nullCount === n) return new Array<unknown>(n).fill(null);
  if (c.nullCount === 0 && c.offset === 0) {
    if (c.type === 'float64' || c.type === 'int32') return Array.from(c.values.subarray(0, n));
    if (c.type === 'utf8') {
      const offsets = c.valueOffsets!;
      const lo = offsets[0]!;
      const hi = offsets[n]!;
      const bytes = c.values as Uint8Array;
      let ascii = true;
      for (let i = lo; i < hi; i++) if (bytes[i]! > 0x7f) { ascii = false; break; }
      if (ascii) {
        const text = Buffer.from(bytes.buffer, bytes.byteOffset + lo, hi - lo).toString('latin1');
        const out = new Array<unknown>(n);
        for (let i = 0; i < n; i++) out[i] = text.slice(offsets[i]! - lo, offsets[i + 1]! - lo);
        return out;
      }
    }
  }
  return columnValues(fromWire({ length: w.length, columns: [c] }), name);
}
