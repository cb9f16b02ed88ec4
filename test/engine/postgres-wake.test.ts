/**
 * An idle worker on PostgreSQL wakes on LISTEN/NOTIFY: a `plus_one` worker whose control tick is a
 * minute apart waits on an empty queue (its upstream still has rows running elsewhere); another
 * connection finishes upstream rows, admitting `plus_one` rows in the same transaction, whose commit
 * notifies the stage — and the worker claims and finishes them long before its next tick could have.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.js';
import type { EngineEvent } from '../../src/engine/events.js';
import { openQueue } from '../../src/store/index.js';
import { plusOne, square, squareOf, toyRows } from './fixtures/toy-stages.js';
import { skipWithoutPostgres, startPostgres, type PgServer } from '../support/postgres.js';

const skip = skipWithoutPostgres();
let server: PgServer | null = null;
before(async () => {
  if (!skip) server = await startPostgres();
});
after(() => server?.stop());

const TICK_MS = 60_000;

test('an idle worker wakes on the NOTIFY of rows admitted by another connection, not on its tick', { skip, timeout: 120_000 }, async () => {
  const url = await server!.createDatabase('wake');
  const other = await openQueue(url);
  let e: Engine | null = null;
  const stop = new AbortController();
  try {
    await other.ensure([square, plusOne]);
    await other.enqueue('square', toyRows(0, 6));
    // The upstream's rows are running elsewhere: plus_one is not finished, its worker waits.
    const held = (await other.exchange('elsewhere:1:a', [], [{ stage: 'square', batchSize: 16, batches: 1, suspect: false }])).claims[0]!;
    assert.equal(held.ids.length, 6);

    const events: EngineEvent[] = [];
    let onClaim!: () => void;
    const claimed = new Promise<void>((r) => (onClaim = r));
    e = await Engine.open({
      db: url, stages: [plusOne], tickMs: TICK_MS, worker: { threads: 1 },
      events: (ev) => {
        events.push(ev);
        if (ev.type === 'claim' && ev.stage === 'plus_one') onClaim();
      },
    });
    const run = e.run({ signal: stop.signal });
    // The first tick (at once after start-up: its heartbeat) found nothing to claim; the worker now
    // sleeps until a NOTIFY or its next tick, a minute later.
    const beaten = async () => {
      const w = (await other.workers('plus_one'))[0];
      return w !== undefined && w.heartbeatAt > w.startedAt;
    };
    for (let k = 0; k < 1200 && !(await beaten()); k++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(await beaten(), 'the worker started and beat');
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(events.filter((x) => x.type === 'claim'), [], 'nothing to claim before the upstream finishes');

    const t0 = Date.now();
    const r = await other.exchange('elsewhere:1:a', [{ stage: 'square', done: { ids: held.ids, outputs: [held.inputs[0]!.map((x) => squareOf(x as number))] }, failed: [] }], []);
    assert.equal(r.admitted.find((a) => a.stage === 'plus_one')?.keys.length, 6, 'the finished rows admitted downstream in the same unit of work');
    let timer: NodeJS.Timeout | undefined;
    const woke = await Promise.race([claimed.then(() => true), new Promise<false>((res) => (timer = setTimeout(() => res(false), TICK_MS / 2)))]);
    clearTimeout(timer);
    assert.ok(woke, `the worker claimed nothing within ${TICK_MS / 2} ms of the admission (its tick is ${TICK_MS} ms)`);
    const waitedMs = Date.now() - t0;
    // The rows finish too (written by the woken worker).
    for (let k = 0; k < 600 && (await other.counts('plus_one')).done < 6; k++) await new Promise((res) => setTimeout(res, 50));
    assert.equal((await other.counts('plus_one')).done, 6, `rows done after the wake (${waitedMs} ms to the claim)`);
    stop.abort();
    const report = await run;
    assert.equal(report.stages['plus_one']!.rowsDone, 6);
  } finally {
    stop.abort();
    await e?.close();
    await other.close();
  }
});
