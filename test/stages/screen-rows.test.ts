/**
 * The screen's results do not move: the bundled `curated` dataset screened in both architectures gives
 * the rows of test/fixtures/screen/curated-rows.json (made by scripts/ref/screen_rows.ts before the
 * engine and the stages were reshaped around the store interface) — every find_paths, pathways,
 * descriptors and images row, its state, its error, the computed columns and the bytes of every file
 * the images stage wrote. Remade once since, for the hop representative rule (each orbit reported by
 * its shortest member) and orbits closed under spglib's operations: the rows of 4 loosely symmetric
 * structures changed (curated #17, mp-11718, mp-981: another member of the same orbit, lengths within
 * 2e-6 Å; mp-685150, space group 41 symmetric only to ~0.01 Å: 13 distinct hops instead of 12, so its
 * hops 0–4 and their descriptors and images, one pathway fewer past the images gate).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { screenRows, type ScreenRows } from '../helpers/screen-rows.js';

const fixture = JSON.parse(readFileSync(new URL('../fixtures/screen/curated-rows.json', import.meta.url), 'utf8')) as ScreenRows;

for (const mode of ['fractured', 'fixed'] as const) {
  test(`${mode}: the curated screen gives the fixture's rows (${Object.entries(fixture.tables).map(([t, r]) => `${r.length} ${t}`).join(', ')})`, { timeout: 10 * 60_000 }, async () => {
    assert.deepEqual(Object.fromEntries(Object.entries(fixture.tables).map(([t, r]) => [t, r.length])), { find_paths: 38, pathways: 135, descriptors: 135, images: 86 }, 'the fixture itself');
    const dir = mkdtempSync(join(tmpdir(), `fracflow-rows-${mode}-`));
    try {
      const got = await screenRows(dir, mode);
      for (const t of Object.keys(fixture.tables) as (keyof ScreenRows['tables'])[]) {
        assert.equal(got.tables[t].length, fixture.tables[t].length, `${t}: row count`);
        got.tables[t].forEach((row, i) => assert.deepEqual(row, fixture.tables[t][i], `${t} ${String(row['key'])}`));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
