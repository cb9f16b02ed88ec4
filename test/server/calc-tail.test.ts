/**
 * The log tail of a failed calc row on the dashboard: a calc_static row run through the engine with
 * the stand-in program (test/fixtures/calc/stand-in.mjs), whose mid step prints known lines to stdout
 * and stderr and exits 3. The errors page's data holds the failure with the tail, and the row page
 * (the errors page's example link) is served the tail itself, as the store reads it from the failure
 * message — the exact lines the program printed, in order, after the step's command line.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withDashboard } from '../helpers/dashboard.js';
import { Engine } from '../../src/engine/engine.js';
import { openSql } from '../../src/store/sqlite/diffusion.js';
import { calcStages } from '../../src/stages/calc.js';
import type { ErrorGroup, RowHistory } from '../../src/store/interface.js';

const standIn = join(import.meta.dirname, '..', 'fixtures', 'calc', 'stand-in.mjs');
const LINES = 'SCF step 1: E = -12.5\nSCF step 2: E = -12.7\n';
const ERR = 'ZBRENT: fatal error in bracketing\n';
let dir = '';
let db = '';
let folder = '';

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fracflow-calc-tail-'));
  db = join(dir, 'calc.db');
  folder = join(dir, 'p-broken');
  for (const [step, plan] of [['start', {}], ['mid', { print: LINES, printErr: ERR, exit: 3 }], ['end', {}]] as const) {
    mkdirSync(join(folder, step), { recursive: true });
    writeFileSync(join(folder, step, 'stand-in.json'), JSON.stringify(plan));
  }
  const sql = openSql(db);
  sql.exec('CREATE TABLE images (id INTEGER PRIMARY KEY, key TEXT NOT NULL, static_dir TEXT, neb_dir TEXT)');
  sql.run('INSERT INTO images (key, static_dir, neb_dir) VALUES (?, ?, NULL)', ['p-broken', folder]);
  sql.close();
  const [st] = calcStages({ command: [process.execPath, standIn], timeLimitSec: 30, designs: ['static'] });
  const e = await Engine.open({ db, stages: [st!], tickMs: 50 });
  await e.run();
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The JSON a page is served with (its #page-data script). */
async function pageData(url: string): Promise<unknown> {
  const r = await fetch(url);
  assert.equal(r.status, 200);
  const m = /<script type="application\/json" id="page-data">([\s\S]*?)<\/script>/.exec(await r.text());
  assert.ok(m, 'the page carries its data');
  return JSON.parse(m[1]!) as unknown;
}

test('errors and row pages: a failed calc row\'s output tail is served, the program\'s own lines in order', async () => {
  await withDashboard(db, {}, async (d) => {
    const { groups } = (await pageData(`${d.url}/errors`)) as { groups: ErrorGroup[] };
    const g = groups.find((x) => x.stage === 'calc_static');
    assert.ok(g, JSON.stringify(groups));
    assert.deepEqual(g.examples, ['p-broken']);
    assert.match(g.message, /^calc <key>: command exited with code 3 in <path>; output tail:\n/);
    assert.ok(g.message.includes(LINES), 'the errors page shows the tail with the message');
    // The step lines the calc stage writes, then the program's stdout and stderr (two pipes: either first).
    const esc = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const want = new RegExp(`^\\[fracflow calc\\] start\\$ .*\\n\\[fracflow calc\\] mid\\$ .*\\n(${esc(LINES + ERR)}|${esc(ERR + LINES)})$`);
    for (const h of [
      (await pageData(`${d.url}/row?stage=calc_static&key=p-broken`)) as RowHistory,
      (await (await fetch(`${d.url}/api/row?stage=calc_static&key=p-broken`)).json()) as RowHistory,
    ]) {
      assert.equal(h.state, 'failed');
      assert.ok(h.outputTail !== null, 'a tail is served');
      assert.ok(h.outputTail.includes(LINES) && h.outputTail.includes(ERR), h.outputTail);
      assert.match(h.outputTail, want);
      assert.equal(h.lastError, `calc p-broken: command exited with code 3 in ${join(folder, 'mid')}; output tail:\n${h.outputTail}`);
    }
  });
});
