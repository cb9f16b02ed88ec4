/**
 * Eight worker processes claim 50,000 rows of one stage on a real PostgreSQL server at once (claims
 * with FOR UPDATE SKIP LOCKED, each completion and the next claim in one transaction): every row is
 * claimed and completed exactly once — one `done` attempt per row, the workers' counts add up, every
 * result is right.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { openQueue } from '../../src/store/index.js';
import { claimsStage } from '../support/claim-worker.js';
import { runClaimWorkers } from '../support/claim-workers.js';
import { skipWithoutPostgres, startPostgres, type PgServer } from '../support/postgres.js';

const skip = skipWithoutPostgres();
let server: PgServer | null = null;
before(async () => {
  if (!skip) server = await startPostgres();
});
after(() => server?.stop());

const ROWS = 50_000;

test('8 worker processes claim 50,000 rows exactly once', { skip, timeout: 5 * 60_000 }, async () => {
  const url = await server!.createDatabase('claims');
  const store = await openQueue(url);
  try {
    await store.ensure([claimsStage]);
    for (let k = 0; k < ROWS; k += 10_000) await store.enqueue('claims', Array.from({ length: 10_000 }, (_, i) => ({ key: `r${k + i}`, x: k + i })));
    const reports = await runClaimWorkers(url, 8);
    assert.equal(reports.reduce((n, r) => n + r.rows, 0), ROWS, reports.map((r) => `${r.holder}: ${r.rows}`).join(', '));
    assert.ok(reports.filter((r) => r.rows > 0).length >= 2, `the work was shared: ${reports.map((r) => r.rows).join(', ')}`);
    const rows = Buffer.from(await store.exportTable('claims', 'json')).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { x: number; y: number; state: string; attempts: number; claimed_by: string });
    assert.equal(rows.length, ROWS);
    const holders = new Set(reports.map((r) => r.holder));
    for (const r of rows) {
      assert.ok(r.state === 'done' && r.attempts === 1 && r.y === 2 * r.x && holders.has(r.claimed_by), JSON.stringify(r));
    }
    const attempts = Buffer.from(await store.exportTable('engine_attempts', 'json')).toString('utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { row_id: number; outcome: string });
    assert.equal(attempts.length, ROWS, 'one attempt per row');
    assert.equal(new Set(attempts.map((a) => a.row_id)).size, ROWS);
    assert.ok(attempts.every((a) => a.outcome === 'done'));
  } finally {
    await store.close();
  }
});
