/**
 * The worker thread's task function, called in this thread: the result batch of every shape a work
 * function may return (test/engine/fixtures/result-shapes.ts). Rows back in input order with the
 * declared types travel as copies of the work function's buffers; any other shape is checked row by
 * row, and a result that names a key not in the input, or one twice, is bisected to single rows,
 * each failing with the message. A Table, a sliced batch, a null count without a bitmap: the values
 * Arrow itself reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { transferableSymbol, valueSymbol } from 'piscina';
import runTask, { type TaskResult, type WorkTask } from '../../src/engine/worker.js';
import { wireFromColumns, wireValues } from '../../src/engine/wire.js';
import type { ColumnDef } from '../../src/stage-kit/arrow.js';

const M = new URL('./fixtures/result-shapes.ts', import.meta.url).href;

async function run(stage: string, xs: number[], output: ColumnDef[] = [{ name: 'y', type: 'float64' }]): Promise<{ key: unknown[]; error: unknown[]; out: unknown[]; result: TaskResult }> {
  const batch = wireFromColumns([{ name: 'key', type: 'utf8' }, { name: 'x', type: 'float64' }], [xs.map((x) => `k${x}`), xs]).wire;
  const task: WorkTask = { module: M, work: stage, stage, output, params: {}, batch };
  const ret = (await runTask(task)) as Record<symbol, unknown>;
  // As piscina posts it: a structured clone that moves the listed buffers.
  const result = structuredClone(ret[valueSymbol] as TaskResult, { transfer: ret[transferableSymbol] as ArrayBuffer[] });
  const t = result.batch!;
  return { key: wireValues(t, 'key'), error: wireValues(t, '_error'), out: wireValues(t, output[0]!.name), result };
}

const xs = [1, 2, 3, 4, 5, 6];

test('rows back in input order: every row done, values as computed', async () => {
  const r = await run('in_order', xs);
  assert.deepEqual(r.key, xs.map((x) => `k${x}`));
  assert.deepEqual(r.error, xs.map(() => null));
  assert.deepEqual(r.out, xs.map((x) => 2 * x));
  assert.ok(r.result.workMs >= 0 && r.result.taskMs >= r.result.workMs);
});

test('rows back in another order: each value stays with its key', async () => {
  const r = await run('reversed', xs);
  const byKey = new Map(r.key.map((k, i) => [k, r.out[i]]));
  assert.deepEqual(xs.map((x) => byKey.get(`k${x}`)), xs.map((x) => 2 * x));
  assert.deepEqual(r.error, xs.map(() => null));
});

test('a row left out fails alone with a message naming its key', async () => {
  const r = await run('drops_three', xs);
  const i = r.key.indexOf('k3');
  assert.equal(r.error[i], 'work function of stage drops_three returned no row for key "k3"');
  assert.equal(r.out[i], null);
  for (const x of [1, 2, 4, 5, 6]) assert.equal(r.out[r.key.indexOf(`k${x}`)], 2 * x);
  assert.equal(r.error.filter((e) => e !== null).length, 1);
});

test('a key returned twice, or one not in the input, fails every row with the message', async () => {
  const twice = await run('repeats', [1, 2, 3]);
  assert.deepEqual(twice.key, ['k1', 'k2', 'k3']);
  assert.deepEqual(twice.error, ['k1', 'k2', 'k3'].map((k) => `work function of stage repeats returned key "${k}" twice`));
  const foreign = await run('foreign', [1, 2]);
  assert.deepEqual(foreign.error, [1, 2].map(() => 'work function of stage foreign returned key "stranger", which is not in its input batch'));
});

test('an output column of another Arrow type than declared is converted to the declared type', async () => {
  const r = await run('widened', [1, 2, 3], [{ name: 'n', type: 'int32' }]);
  assert.deepEqual(r.out, [2, 3, 4]);
  assert.equal(r.result.batch!.columns.find((c) => c.name === 'n')!.type, 'int32');
});

test('a buffer the work function keeps is copied, not moved: it stays usable for the next batch', async () => {
  const a = await run('keeps_buffer', [1, 2, 3]);
  const b = await run('keeps_buffer', [7, 8]);
  assert.deepEqual(a.out, [1, 2, 3]);
  assert.deepEqual(b.out, [7, 8]);
});

test('null outputs travel as nulls, the other rows keep their values', async () => {
  const r = await run('nulls_odd', xs);
  assert.deepEqual(r.out, xs.map((x) => (x % 2 ? null : x)));
  assert.deepEqual(r.error, xs.map(() => null));
});

test('an Arrow Table, a sliced batch and a column with a null count but no bitmap give the values Arrow reads', async () => {
  const t = await run('as_table', xs);
  assert.deepEqual(t.out, xs.map((x) => 2 * x));
  assert.deepEqual(t.error, xs.map(() => null));
  const s = await run('sliced', xs);
  assert.deepEqual(s.key, xs.map((x) => `k${x}`));
  assert.deepEqual(s.out, xs.map((x) => 2 * x));
  const b = await run('bitmapless', xs);
  assert.deepEqual(b.out, xs);
});

test('a work function that meets a full disk or a forbidden path halts: the batch comes back whole, unbisected, naming the code and the path', async () => {
  for (const [stage, code, path] of [['disk_full', 'ENOSPC', '/dev/full'], ['forbidden', 'EACCES', null]] as const) {
    const batch = wireFromColumns([{ name: 'key', type: 'utf8' }, { name: 'x', type: 'float64' }], [xs.map((x) => `k${x}`), xs]).wire;
    const ret = (await runTask({ module: M, work: stage, stage, output: [{ name: 'y', type: 'float64' }], params: {}, batch })) as TaskResult;
    assert.equal(ret.batch, null, stage);
    assert.equal(ret.halt?.code, code, stage);
    if (path) assert.equal(ret.halt?.path, path);
    assert.ok(ret.halt?.syscall, `${stage}: the system call is named`);
  }
});

test('an error with a system-like code but no system call is an error of the row, not a halt', async () => {
  const r = await run('fake_code', [1, 2, 3]);
  assert.deepEqual(r.error, [null, 'pretend ENOSPC', null]);
});
