/**
 * `checkpoint` and `export --format arrow` write Arrow IPC files that pyarrow (`ipc.open_file`) and
 * polars (`read_ipc`) read with the values the engine wrote. The engine's writer, on fixed inputs
 * (test/helpers/arrow-samples.ts), still gives byte for byte the files that pyarrow and polars read
 * when test/fixtures/reference/arrow-readers/readers.json was made (scripts/ref/arrow_samples.ts, then
 * scripts/ref/arrow_readers.py); and what they read is what was written, type by type. When the
 * writer's bytes change on purpose, run both scripts again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { arrowSamples } from '../helpers/arrow-samples.js';
import { referenceDir } from '../helpers/reference.js';

const dir = join(referenceDir, 'arrow-readers');

interface Read {
  num_rows: number;
  num_record_batches?: number;
  schema: [string, string][];
  columns: Record<string, unknown[]>;
}
const readers = JSON.parse(readFileSync(join(dir, 'readers.json'), 'utf8')) as { files: Record<string, { pyarrow: Read; polars: Read }> };

const pyarrowTypes: Record<string, string[]> = {
  all_types: ['string', 'double', 'int32', 'bool', 'binary', 'string'],
  stage_table: ['double', 'string', 'string', 'double', 'double', 'double', 'string', 'double', 'binary'],
};
const polarsTypes: Record<string, string[]> = {
  all_types: ['String', 'Float64', 'Int32', 'Boolean', 'Binary', 'String'],
  stage_table: ['Float64', 'String', 'String', 'Float64', 'Float64', 'Float64', 'String', 'Float64', 'Binary'],
};

for (const s of arrowSamples()) {
  test(`${s.name}: the writer gives the bytes pyarrow and polars read`, () => {
    const committed = readFileSync(join(dir, `${s.name}.arrow`));
    assert.ok(Buffer.from(s.bytes).equals(committed), `${s.name}.arrow: the writer's bytes changed (${s.bytes.length} vs ${committed.length}); run scripts/ref/arrow_samples.ts and scripts/ref/arrow_readers.py`);
  });

  test(`${s.name}: pyarrow and polars read every value as written, with the declared types`, () => {
    const r = readers.files[s.name]!;
    const names = Object.keys(s.columns);
    const n = s.columns[names[0]!]!.length;
    assert.equal(r.pyarrow.num_record_batches, 1);
    for (const [reader, read, types] of [['pyarrow', r.pyarrow, pyarrowTypes[s.name]!], ['polars', r.polars, polarsTypes[s.name]!]] as const) {
      assert.equal(read.num_rows, n, reader);
      assert.deepEqual(read.schema, names.map((name, i) => [name, types[i]]), `${reader} schema`);
      for (const name of names) assert.deepEqual(read.columns[name], s.columns[name], `${reader}: column ${name}`);
    }
  });
}
