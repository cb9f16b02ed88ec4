/**
 * Arrow IPC files the engine writes, built deterministically for the reader conformance test
 * (test/engine/arrow-readers.test.ts): the bytes of `checkpoint` and `export --format arrow` for a
 * table of every engine column type, and for a stage table read back from SQLite. The files in
 * test/fixtures/reference/arrow-readers were written from these by `scripts/ref/arrow_samples.ts`
 * and read with pyarrow and polars by `scripts/ref/arrow_readers.py`.
 */
import { encodeFile, makeTable, type ColumnDef } from '../../src/stage-kit/arrow.js';
import { tableAsArrow } from '../../src/store/sqlite/ops.js';
import { openSql } from '../../src/store/sqlite/diffusion.js';

export interface ArrowSample {
  name: string;
  bytes: Uint8Array;
  /** Column values as written (binary as arrays of bytes). */
  columns: Record<string, unknown[]>;
}

const allDefs: ColumnDef[] = [
  { name: 'key', type: 'utf8' },
  { name: 'x', type: 'float64' },
  { name: 'n', type: 'int32' },
  { name: 'ok', type: 'bool' },
  { name: 'blob', type: 'binary' },
  { name: 'note', type: 'utf8' },
];

const allColumns: unknown[][] = [
  ['mp-1', 'mp-2', 'mp-3', 'mp-4', 'mp-5'],
  [0.1, null, -2.5e300, 5e-324, 1 / 3],
  [1, -2, null, 2147483647, -2147483648],
  [true, false, null, true, false],
  [new Uint8Array([0, 1, 255]), null, new Uint8Array([]), new Uint8Array([70]), null],
  ['F⁻ hop', null, '', 'ascii', 'Å–é'],
];

/** A stage-like table in SQLite (declared REAL, INTEGER, TEXT, BLOB columns, NULLs) as `checkpoint` exports it. */
function stageTable(): { bytes: Uint8Array; columns: Record<string, unknown[]> } {
  const sql = openSql(':memory:');
  try {
    sql.exec(`CREATE TABLE screen (id INTEGER PRIMARY KEY, key TEXT NOT NULL, state TEXT NOT NULL, priority REAL NOT NULL,
      attempts INTEGER NOT NULL, started_at REAL, last_error TEXT, energy REAL, images BLOB)`);
    const rows: unknown[][] = [
      [1, 'mp-1', 'done', 3.5, 1, 1764032400000, null, -1.25, Buffer.from([1, 2, 3])],
      [2, 'mp-2', 'failed', 2, 3, 1764032400123.5, 'structure has no F site', null, null],
      [3, 'mp-3', 'pending', -1e-9, 0, null, null, null, null],
    ];
    for (const r of rows) sql.run('INSERT INTO screen VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)', r as never);
    const names = ['id', 'key', 'state', 'priority', 'attempts', 'started_at', 'last_error', 'energy', 'images'];
    const columns = Object.fromEntries(names.map((n, c) => [n, rows.map((r) => (r[c] instanceof Uint8Array ? [...(r[c] as Uint8Array)] : r[c]))]));
    return { bytes: encodeFile(tableAsArrow(sql, 'screen')), columns };
  } finally {
    sql.close();
  }
}

export function arrowSamples(): ArrowSample[] {
  const plain = (v: unknown) => (v instanceof Uint8Array ? [...v] : v);
  const st = stageTable();
  return [
    { name: 'all_types', bytes: encodeFile(makeTable(allDefs, allColumns)), columns: Object.fromEntries(allDefs.map((d, c) => [d.name, allColumns[c]!.map(plain)])) },
    { name: 'stage_table', bytes: st.bytes, columns: st.columns },
  ];
}
