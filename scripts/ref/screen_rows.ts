/**
 * The screen's results on the bundled `curated` dataset as a fixture (test/fixtures/screen/
 * curated-rows.json): every find_paths, pathways, descriptors and images row with its state, its error
 * and the columns the science computes (no bookkeeping: times, holders, attempts). The screen test
 * (test/stages/screen-rows.test.ts) runs the same screen in both architectures and compares. The rows
 * are the exact IDPP mode's (the DDI numbers), named explicitly: the screen's default is the fast mode.
 *
 * Run: npx tsx scripts/ref/screen_rows.ts   (writes the fixture; a few tens of seconds)
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { screenRows } from '../../test/helpers/screen-rows.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'test', 'fixtures', 'screen', 'curated-rows.json');
const dir = mkdtempSync(join(tmpdir(), 'fracflow-screen-rows-'));
try {
  const rows = await screenRows(dir, 'fractured', 'exact');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify(rows, null, 1) + '\n');
  console.log(`${out}: ${Object.entries(rows.tables).map(([t, r]) => `${t} ${r.length}`).join(', ')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
