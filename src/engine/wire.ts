/**
 * The thread wire format: a record batch as its raw Arrow buffers (values, offsets, validity) in a
 * plain message, the buffers moved, not copied. Measured on a 64-row (key, x) batch, warm, quiet
 * machine: IPC stream encode ~190 µs and decode + column read ~70–150 µs per hop, against ~30 µs for
 * toWire and ~30 µs for fromWire + column read (the message's structured clone adds ~15 µs). Under
 * load and before the JIT warms up the IPC path costs several times more (~0.7 ms per claim in the
 * engine profile). The receiver rebuilds the same `Data` over the same buffers with Arrow's `Data`
 * constructor, so the work function still sees an ordinary Arrow `RecordBatch`.
 *
 * Only the five engine column types travel (float64, int32, utf8, binary, bool): both ends build their
 * batches with `makeBatch` from declared columns. Checkpoints and exports keep the IPC file format
 * (arrow.ts).
 */
import { Binary, Bool, Data, Field, Float64, Int32, RecordBatch, Schema, Struct, Utf8, type DataType } from 'apache-arrow';
import type { ColumnType } from '../stage-kit/stage.js';
import { columnValues, makeBatch, type ColumnDef } from '../stage-kit/arrow.js';

export interface WireColumn {
  name: string;
  type: ColumnType;
  length: number;
  nullCount: number;
  /**
   * Arrow's slice offset (a sliced batch): where the column starts in the bitmaps (`nullBitmap`, and
   * `values` of a bool column). Arrow's slices trim `valueOffsets` and fixed-width `values` themselves.
   */
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
    // Arrow reads a column without a validity bitmap as all valid, whatever its null count says.
    const nullCount = d.nullBitmap && d.nullBitmap.byteLength > 0 ? d.nullCount : 0;
    columns.push({
      name: f.name,
      type,
      length: d.length,
      nullCount,
      offset: d.offset,
      values: movable(d.values as Float64Array | Int32Array | Uint8Array, moved),
      valueOffsets: type === 'utf8' || type === 'binary' ? movable(d.valueOffsets as Int32Array, moved) : null,
      nullBitmap: nullCount > 0 ? movable(d.nullBitmap!, moved) : null,
    });
  });
  return { wire: { length: batch.numRows, columns }, transfer: [...moved] as ArrayBuffer[] };
}

/**
 * Schema and struct type per column signature (names and types): a thread receives batches of the
 * same few shapes over and over, and the Arrow field, schema and type objects are immutable.
 */
const shapes = new Map<string, { fields: Field[]; schema: Schema; struct: Struct; types: DataType[] }>();

function shapeOf(w: WireBatch): { fields: Field[]; schema: Schema; struct: Struct; types: DataType[] } {
  let sig = '';
  for (const c of w.columns) sig += `${c.name}\u0000${c.type}\u0000`;
  let hit = shapes.get(sig);
  if (!hit) {
    const types = w.columns.map((c) => arrowType(c.type));
    const fields = w.columns.map((c, i) => new Field(c.name, types[i]!, true));
    hit = { fields, schema: new Schema(fields), struct: new Struct(fields), types };
    if (shapes.size >= 256) shapes.clear();
    shapes.set(sig, hit);
  }
  return hit;
}

/**
 * The record batch over a received message's buffers (no copy). The column data are built with
 * Arrow's `Data` constructor, which takes the buffers as they are: the message carries exactly the
 * typed arrays each type stores (makeData's per-type conversion visitor costs more than the batch's
 * own values when a thread's caches are cold, as they are after every batch of work).
 */
export function fromWire(w: WireBatch): RecordBatch {
  const shape = shapeOf(w);
  const children: Data[] = [];
  for (let i = 0; i < w.columns.length; i++) {
    const c = w.columns[i]!;
    children.push(new Data(shape.types[i]!, c.offset, c.length, c.nullCount, [c.valueOffsets ?? undefined, c.values, c.nullBitmap ?? undefined] as never));
  }
  return new RecordBatch(shape.schema, new Data(shape.struct, 0, w.length, 0, [undefined, undefined, undefined] as never, children));
}

/**
 * Does column `out` (of a result batch) hold the same UTF-8 values, row for row, as wire column `w`?
 * Compares offsets and bytes without decoding a string. Any null in either column answers false.
 */
export function sameUtf8(out: Data, w: WireColumn): boolean {
  if (w.type !== 'utf8' || !(out.type instanceof Utf8) || out.length !== w.length || out.nullCount !== 0 || w.nullCount !== 0) return false;
  const ao = out.valueOffsets as Int32Array;
  const bo = w.valueOffsets!;
  const ab = out.values as Uint8Array;
  const bb = w.values as Uint8Array;
  // Offsets are trimmed by Arrow's slices: row i's bytes are at valueOffsets[i]..[i + 1].
  const a0 = ao[0]!;
  const b0 = bo[0]!;
  const n = w.length;
  for (let i = 1; i <= n; i++) if (ao[i]! - a0 !== bo[i]! - b0) return false;
  const len = ao[n]! - a0;
  return Buffer.compare(Buffer.from(ab.buffer, ab.byteOffset + a0, len), Buffer.from(bb.buffer, bb.byteOffset + b0, len)) === 0;
}

/**
 * The wire form of some columns of a batch whose Arrow types are exactly the declared ones (one
 * chunk each): each buffer is copied whole into a fresh one (a work function may keep and reuse its
 * own buffers, which moving would detach), with no per-value conversion. Null when a column is
 * missing, of another type or in several chunks (the caller converts those values).
 */
export function wireFromBatch(batch: RecordBatch, defs: readonly ColumnDef[]): { wire: WireBatch; transfer: ArrayBuffer[] } | null {
  const transfer: ArrayBuffer[] = [];
  const columns: WireColumn[] = [];
  const names = batch.schema.fields.map((f) => f.name);
  for (const d of defs) {
    const at = names.indexOf(d.name);
    if (at < 0) return null;
    const data = batch.data.children[at]! as Data;
    let type: ColumnType;
    try {
      type = columnType(data.type, d.name);
    } catch {
      return null;
    }
    if (type !== d.type || (type === 'int32' && (data.type as Int32).bitWidth !== 32)) return null;
    const nullCount = data.nullCount;
    // Arrow reads a column without a validity bitmap as all valid, whatever its null count says.
    const hasBitmap = data.nullBitmap !== undefined && data.nullBitmap !== null && data.nullBitmap.byteLength > 0;
    if (nullCount > 0 && !hasBitmap) return null;
    const copy = <T extends Float64Array | Int32Array | Uint8Array>(a: T): T => {
      const c = a.slice() as T;
      transfer.push(c.buffer as ArrayBuffer);
      return c;
    };
    columns.push({
      name: d.name, type, length: data.length, nullCount, offset: data.offset,
      values: copy(data.values as Float64Array | Int32Array | Uint8Array),
      valueOffsets: type === 'utf8' || type === 'binary' ? copy(data.valueOffsets as Int32Array) : null,
      nullBitmap: nullCount > 0 ? copy(data.nullBitmap!) : null,
    });
  }
  return { wire: { length: batch.numRows, columns }, transfer };
}

/** A column of `n` nulls of any engine type (an all-null bitmap over empty values). */
export function nullColumn(name: string, type: ColumnType, n: number): WireColumn {
  const values = type === 'float64' ? new Float64Array(n) : type === 'int32' ? new Int32Array(n) : new Uint8Array(type === 'bool' ? (n + 7) >> 3 : 0);
  return {
    name, type, length: n, nullCount: n, offset: 0, values,
    valueOffsets: type === 'utf8' || type === 'binary' ? new Int32Array(n + 1) : null,
    nullBitmap: new Uint8Array((n + 7) >> 3),
  };
}

/** Validity bitmap of a column with `nulls` nulls (null when there are none). */
function validity(col: readonly unknown[], nulls: number): Uint8Array | null {
  if (nulls === 0) return null;
  const bits = new Uint8Array((col.length + 7) >> 3);
  for (let i = 0; i < col.length; i++) if (col[i] !== null && col[i] !== undefined) bits[i >> 3]! |= 1 << (i & 7);
  return bits;
}

/**
 * Numbers, or ASCII strings, with or without nulls, straight into fresh buffers; null for anything
 * else (non-ASCII text, other value types, binary and bool columns), which makeBatch converts.
 */
function direct(d: ColumnDef, col: readonly unknown[]): WireColumn | null {
  const n = col.length;
  let nulls = 0;
  if (d.type === 'float64' || d.type === 'int32') {
    const a = d.type === 'float64' ? new Float64Array(n) : new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const v = col[i];
      if (typeof v === 'number') a[i] = v;
      else if (v === null || v === undefined) nulls++;
      else return null;
    }
    return { name: d.name, type: d.type, length: n, nullCount: nulls, offset: 0, values: a, valueOffsets: null, nullBitmap: validity(col, nulls) };
  }
  if (d.type !== 'utf8') return null;
  const offsets = new Int32Array(n + 1);
  let total = 0;
  let joined = '';
  for (let i = 0; i < n; i++) {
    const v = col[i];
    if (typeof v === 'string') {
      total += v.length;
      joined += v;
    } else if (v === null || v === undefined) nulls++;
    else return null;
    offsets[i + 1] = total;
  }
  // Every UTF-16 unit below 0x80 is one UTF-8 byte: then the byte length equals the string length.
  if (Buffer.byteLength(joined, 'utf8') !== total) return null;
  const bytes = new Uint8Array(total);
  if (total > 0) Buffer.from(bytes.buffer, 0, total).write(joined, 'latin1');
  return { name: d.name, type: 'utf8', length: n, nullCount: nulls, offset: 0, values: bytes, valueOffsets: offsets, nullBitmap: validity(col, nulls) };
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
      if (w.nullBitmap) transfer.push(w.nullBitmap.buffer as ArrayBuffer);
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
