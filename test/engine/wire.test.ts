/**
 * The thread wire format: every engine column type (with nulls, non-ASCII text, sliced batches)
 * survives a real structured clone with its transfer list; views that do not own their buffer are
 * copied, not moved; other Arrow types are refused with a message naming the column. The direct
 * paths (wireFromColumns, wireFromBatch, wireValues) agree with makeBatch + toWire and fromWire +
 * columnValues; wireFromBatch copies, never moves, the batch's buffers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Field, Float32, RecordBatch, Schema, Struct, makeData, makeVector } from 'apache-arrow';
import { columnValues, makeBatch, type ColumnDef } from '../../src/stage-kit/arrow.js';
import { fromWire, nullColumn, toWire, wireFromBatch, wireFromColumns, wireValues, type WireBatch } from '../../src/engine/wire.js';

const defs: ColumnDef[] = [
  { name: 'key', type: 'utf8' },
  { name: 'x', type: 'float64' },
  { name: 'n', type: 'int32' },
  { name: 'b', type: 'bool' },
  { name: 'blob', type: 'binary' },
  { name: 'msg', type: 'utf8' },
];
const columns: unknown[][] = [
  ['k0', 'k1', 'k2', 'k3', 'k4', 'k5', 'k6', 'k7', 'k8', 'k9'],
  [0.1, null, -2.5e300, 3, 4, 5, 6, 7, 8, Number.MIN_VALUE],
  [1, 2, null, -4, 5, 6, 7, 8, 9, 2147483647],
  [true, false, null, true, true, false, true, false, false, true],
  [new Uint8Array([1, 2]), null, new Uint8Array([]), new Uint8Array([255]), null, null, new Uint8Array([3]), null, null, new Uint8Array([9, 9, 9])],
  [null, 'Fluorid – F⁻', 'ok', null, 'é', '', 'x', null, 'last', 'ÅÅ'],
];

function sent(batch: RecordBatch): RecordBatch {
  const { wire, transfer } = toWire(batch);
  return fromWire(structuredClone(wire, { transfer }));
}

function values(b: RecordBatch): unknown[][] {
  return b.schema.fields.map((f) => columnValues(b, f.name).map((v) => (v instanceof Uint8Array ? [...v] : v)));
}

test('every column type, with nulls and non-ASCII text, arrives with the same values', () => {
  const expected = values(makeBatch(defs, columns));
  const got = sent(makeBatch(defs, columns));
  assert.deepEqual(got.schema.fields.map((f) => f.name), defs.map((d) => d.name));
  assert.deepEqual(values(got), expected);
  assert.equal(got.getChild('x')!.nullCount, 1);
});

test('a sliced batch (non-zero offsets into shared buffers) arrives as the slice', () => {
  for (const [lo, hi] of [[3, 7], [1, 10], [9, 10], [0, 0]] as const) {
    const expected = values(makeBatch(defs, columns)).map((c) => c.slice(lo, hi));
    assert.deepEqual(values(sent(makeBatch(defs, columns).slice(lo, hi))), expected, `slice ${lo}..${hi}`);
  }
});

test('a view into a larger buffer is copied, not moved: the owner keeps its buffer', () => {
  const big = new Float64Array([10, 11, 12, 13, 14, 15]);
  const x = makeVector(big.subarray(2, 5));
  const key = makeBatch([{ name: 'key', type: 'utf8' }], [['a', 'b', 'c']]).getChild('key')!;
  const fields = [new Field('key', key.type, true), new Field('x', x.type, true)];
  const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 3, nullCount: 0, children: [key.data[0]!, x.data[0]!] }));
  assert.deepEqual(values(sent(batch)), [['a', 'b', 'c'], [12, 13, 14]]);
  assert.equal(big.byteLength, 48);
  assert.deepEqual([...big], [10, 11, 12, 13, 14, 15]);
});

test('a column type the engine does not declare is refused with its name', () => {
  const y = makeVector(new Float32Array([1, 2]));
  const fields = [new Field('y', new Float32(), true)];
  const batch = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 2, nullCount: 0, children: [y.data[0]!] }));
  assert.throws(() => toWire(batch), { name: 'TypeError', message: /^column y: Arrow type Float32 cannot travel between threads \(float64, int32, utf8, binary, bool only\)$/ });
});

function plainValues(vs: unknown[]): unknown[] {
  return vs.map((v) => (v instanceof Uint8Array ? [...v] : v));
}

test('wireFromColumns gives the batch makeBatch gives, for direct and fallback columns', () => {
  const cases: unknown[][][] = [
    columns,
    [['a', 'b'], [1, 2], [3, 4], [true, false], [new Uint8Array([1]), new Uint8Array([2])], ['x', 'y']],
    [[], [], [], [], [], []],
    [['ä', 'b'], [1, null], [null, 4], [null, null], [null, null], [null, null]],
  ];
  for (const cols of cases) {
    const { wire, transfer } = wireFromColumns(defs, cols);
    const got = fromWire(structuredClone(wire, { transfer }));
    assert.deepEqual(values(got), values(makeBatch(defs, cols)), JSON.stringify(cols[0]));
  }
});

test('wireValues reads what columnValues reads of the rebuilt batch, sliced and all-null columns included', () => {
  const check = (w: WireBatch, label: string) => {
    const b = fromWire(w);
    for (const d of defs) assert.deepEqual(plainValues(wireValues(w, d.name)), plainValues(columnValues(b, d.name)), `${label}: ${d.name}`);
  };
  check(toWire(makeBatch(defs, columns)).wire, 'whole');
  check(toWire(makeBatch(defs, columns).slice(2, 8)).wire, 'slice 2..8');
  check(wireFromColumns(defs, [['a', 'b', 'c'], [1.5, 2.5, 3.5], [1, 2, 3], [true, true, false], [null, null, null], [null, null, null]]).wire, 'dense, all-null');
  check(wireFromColumns(defs, [['aé', 'b'], [null, 1], [1, 2], [false, null], [new Uint8Array([7]), null], ['Ä', 'ok']]).wire, 'non-ASCII');
});

test('wireFromColumns and wireValues name the column that does not fit', () => {
  assert.throws(() => wireFromColumns(defs.slice(0, 2), [['a', 'b'], [1]]), { name: 'RangeError', message: 'column x has 1 values, expected 2' });
  const { wire } = wireFromColumns(defs.slice(0, 2), [['a'], [1]]);
  assert.throws(() => wireValues(wire, 'y'), { name: 'RangeError', message: 'batch has no column "y" (columns: key, x)' });
});

test('wireFromBatch carries the declared columns of a batch as copies, and declines other types', () => {
  for (const [label, batch] of [['whole', makeBatch(defs, columns)], ['slice 2..8', makeBatch(defs, columns).slice(2, 8)]] as const) {
    const owned = batch.getChild('x')!.data[0]!.values as Float64Array;
    const { wire, transfer } = wireFromBatch(batch, defs)!;
    const got = fromWire(structuredClone(wire, { transfer }));
    assert.deepEqual(values(got), values(batch), label);
    assert.ok(owned.byteLength > 0, `${label}: the batch keeps its own buffers`);
  }
  const b = makeBatch(defs, columns);
  assert.equal(wireFromBatch(b, [{ name: 'x', type: 'int32' }]), null, 'float64 column declared int32');
  assert.equal(wireFromBatch(b, [{ name: 'nope', type: 'utf8' }]), null, 'missing column');
  const y = makeVector(new Float32Array([1, 2]));
  const fields = [new Field('y', new Float32(), true)];
  const f32 = new RecordBatch(new Schema(fields), makeData({ type: new Struct(fields), length: 2, nullCount: 0, children: [y.data[0]!] }));
  assert.equal(wireFromBatch(f32, [{ name: 'y', type: 'float64' }]), null, 'an Arrow type the engine does not carry');
});

test('nullColumn is all nulls for every engine type, and numbers and ASCII text with nulls take the direct path', () => {
  for (const d of defs) {
    const w: WireBatch = { length: 5, columns: [nullColumn(d.name, d.type, 5)] };
    const b = fromWire(structuredClone(w));
    assert.deepEqual(columnValues(b, d.name), [null, null, null, null, null], d.type);
    assert.deepEqual(wireValues(w, d.name), [null, null, null, null, null], d.type);
  }
  const cols = [['a', 'b', 'c'], [1.5, null, 3], [null, 2, 3], [true, null, false], [null, null, null], ['x', null, 'z']];
  const { wire } = wireFromColumns(defs, cols);
  assert.equal(wire.columns[1]!.nullCount, 1);
  assert.equal(wire.columns[5]!.nullCount, 1);
  assert.deepEqual(values(fromWire(wire)), values(makeBatch(defs, cols)));
});
