/**
 * The screen on PostgreSQL gives the rows the screen gives on SQLite: the bundled `curated` dataset
 * screened into a real PostgreSQL server (test/support/postgres.ts) equals, row for row, the fixture
 * that test/stages/screen-rows.test.ts holds the SQLite screen to (test/fixtures/screen/curated-rows.json,
 * made by scripts/ref/screen_rows.ts): every find_paths, pathways, descriptors and images row, its
 * state, its error, the computed columns and the bytes of every file the images stage wrote.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { screenRowsAt, type ScreenRows } from '../helpers/screen-rows.js';
import { skipWithoutPostgres, startPostgres, type PgServer } from '../support/postgres.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/screen/curated-rows.json', import.meta.url), 'utf8')) as ScreenRows;

let server: PgServer | null = null;
const skip = skipWithoutPostgres();
before(async () => {
  if (!skip) server = await startPostgres();
});
after(() => server?.stop());

test('the curated screen on PostgreSQL gives the SQLite screen\'s rows (38 find_paths, 135 pathways, 135 descriptors, 87 images)', { skip, timeout: 10 * 60_000 }, async () => {
  const url = await server!.createDatabase('screen');
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-rows-pg-'));
  try {
    const got = await screenRowsAt(url, join(dir, 'out'));
    for (const t of Object.keys(fixture.tables) as (keyof ScreenRows['tables'])[]) {
      assert.equal(got.tables[t].length, fixture.tables[t].length, `${t}: row count`);
      got.tables[t].forEach((row, i) => assert.deepEqual(row, fixture.tables[t][i], `${t} ${String(row['key'])}`));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
