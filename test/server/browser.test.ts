/**
 * The dashboard in a real headless Chromium (Debian's, driven by playwright-core; started and stopped
 * here): the overview's numbers equal `status --json`; a row finished by another process shows up
 * without a reload; the errors page shows a failed row's message; the pathway page draws the 3D view
 * (a WebGL canvas with non-blank pixels) and both profile plots; the structure page lists its hops;
 * controls are refused without the token. Skipped only when Chromium is missing outside CI.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { browserUnavailable, launchBrowser } from '../helpers/browser.js';
import { screenedStore } from '../helpers/dashboard.js';
import { runCli, tsxLoader } from '../helpers/cli.js';
import { openQueueStore } from '../../src/store/index.js';
import { startDashboard, type Dashboard } from '../../src/server/server.js';
import type { SqliteQueueStore } from '../../src/store/index.js';
import type { StageStatus } from '../../src/store/interface.js';

const skip = browserUnavailable();
let fixture: { dir: string; db: string } | null = null;
let browser: Browser | null = null;
let store: SqliteQueueStore | null = null;
let dash: Dashboard | null = null;
let page: Page;
const TOKEN = 'browser-test-token';

before(async () => {
  if (skip) return;
  fixture = await screenedStore();
  store = openQueueStore(fixture.db);
  dash = await startDashboard({ store, port: 0, pollMs: 200, allowControl: true, token: TOKEN });
  browser = await launchBrowser();
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
});

after(async () => {
  await browser?.close();
  await dash?.close();
  await store?.close();
  if (fixture) rmSync(fixture.dir, { recursive: true, force: true });
});

/**
 * Wait until the text of `selector` satisfies `pattern` (a function predicate: the page's CSP refuses
 * the eval a string predicate needs; the DOM is reached through globalThis, the tests' types have no DOM).
 */
async function waitText(selector: string, pattern: RegExp, timeout = 15000): Promise<void> {
  await page.waitForFunction(
    ([sel, src, flags]) => new RegExp(src, flags).test((globalThis as unknown as { document: { querySelector(s: string): { textContent: string } | null } }).document.querySelector(sel)?.textContent ?? ''),
    [selector, pattern.source, pattern.flags] as const,
    { timeout },
  );
}

async function stageRow(stage: string): Promise<Record<string, string>> {
  return page.evaluate(`Object.fromEntries([...document.querySelectorAll('#stages tr[data-stage="${stage}"] td[data-field]')].map((td) => [td.dataset.field, td.textContent]))`) as Promise<Record<string, string>>;
}

test('overview: per-stage pending, running, done, failed and workers equal status --json', { skip: skip ?? false }, async () => {
  const cli = runCli(['status', '--json', '--db', fixture!.db]);
  assert.equal(cli.status, 0, cli.stderr);
  const status = JSON.parse(cli.stdout) as StageStatus[];
  assert.deepEqual(status.map((s) => s.stage), ['find_paths', 'descriptors', 'images']);
  await page.goto(`${dash!.url}/`);
  await page.waitForSelector('#stages tr[data-stage="images"]');
  for (const s of status) {
    const row = await stageRow(s.stage);
    assert.deepEqual([row['pending'], row['running'], row['done'], row['failed'], row['workers']].map(Number), [s.pending, s.running, s.done, s.failed, s.workers], s.stage);
  }
  assert.ok(status.find((s) => s.stage === 'find_paths')!.failed === 1 && status.find((s) => s.stage === 'images')!.done > 0);
  assert.ok(await page.evaluate(`document.querySelector('#throughput canvas').width > 0`), 'the throughput chart is drawn');
});

test('errors: a failed row\'s message and, one click on, its attempt history', { skip: skip ?? false }, async () => {
  await page.goto(`${dash!.url}/errors`);
  const text = await page.textContent('#error-groups');
  assert.match(text!, /PathfinderError: ion F has no sites in the structure \(elements: Na, Cl\)/);
  await page.click('#error-groups a');
  await page.waitForSelector('#attempts tbody tr');
  assert.match((await page.textContent('#attempts'))!, /error.*ion F has no sites/s);
  assert.match((await page.textContent('#last-error'))!, /ion F has no sites/);
});

test('overview: a row requeued here and finished by another process shows up without a reload', { skip: skip ?? false }, async () => {
  await page.goto(`${dash!.url}/`);
  await page.waitForSelector('#live.on');
  await page.evaluate('window.marker = 42');
  const writer = openQueueStore(fixture!.db);
  try {
    assert.equal(await writer.requeue('find_paths', 'failed'), 1);
  } finally {
    await writer.close();
  }
  await waitText('#stages tr[data-stage="find_paths"] td[data-field="pending"]', /^1$/);
  const out = execFileSync(process.execPath, ['--import', tsxLoader, join(import.meta.dirname, 'fixtures', 'finish-row.ts'), fixture!.db, 'find_paths'], { encoding: 'utf8' });
  assert.match(out, /"finished":\["user:test\/stages\/fixtures\/structures\/NaCl_rocksalt.vasp/);
  await waitText('#stages tr[data-stage="find_paths"] td[data-field="done"]', /^4$/);
  const row = await stageRow('find_paths');
  assert.deepEqual([row['pending'], row['failed'], row['done']], ['0', '0', '4']);
  assert.equal(await page.evaluate('window.marker'), 42, 'the same page, not reloaded');
});

test('pathway page: the 3D view draws non-blank pixels and both profile plots draw their series', { skip: skip ?? false }, async () => {
  const p = (await (await fetch(`${dash!.url}/api/pathways?search=CaF2_fluorite&sort=hop_index&limit=1`)).json()) as { rows: { key: string }[] };
  await page.goto(`${dash!.url}/pathway?key=${encodeURIComponent(p.rows[0]!.key)}`);
  await page.waitForSelector('#viewer[data-ready="1"]', { timeout: 60000 });
  await page.waitForSelector('#plot-ewald[data-ready="1"]');
  await page.waitForSelector('#plot-overlap[data-ready="1"]');
  // The viewer's own PNG of its WebGL canvas, drawn into a 2-D canvas and its non-white pixels counted.
  const viewer = (await page.evaluate(`(async () => {
    const img = new Image();
    img.src = window.fracflowViewer.pngURI();
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let inked = 0;
    for (let i = 0; i < px.length; i += 4) if (px[i + 3] > 0 && (px[i] < 235 || px[i + 1] < 235 || px[i + 2] < 235)) inked++;
    return { inked, total: px.length / 4 };
  })()`)) as { inked: number; total: number };
  assert.ok(viewer.total > 10000, `canvas of ${viewer.total} pixels`);
  assert.ok(viewer.inked / viewer.total > 0.01, `${viewer.inked} of ${viewer.total} pixels drawn`);
  // Pixels of each series' colour on the plots' canvases (a string: evaluated as written, untransformed).
  const colours = (await page.evaluate(`(() => {
    const count = (sel, rgb) => {
      const c = document.querySelector(sel + ' canvas');
      const px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      let n = 0;
      for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i] - rgb[0]) < 12 && Math.abs(px[i + 1] - rgb[1]) < 12 && Math.abs(px[i + 2] - rgb[2]) < 12 && px[i + 3] > 200) n++;
      return n;
    };
    return { ewald: count('#plot-ewald', [31, 119, 180]), cations: count('#plot-overlap', [214, 39, 40]), anions: count('#plot-overlap', [44, 160, 44]) };
  })()`)) as Record<string, number>;
  for (const [k, n] of Object.entries(colours)) assert.ok(n > 50, `${k}: ${n} pixels of its colour`);
  assert.match((await page.textContent('#downloads'))!, /path_5image\.extxyz.*path_5image\.cif|path_5image\.cif.*path_5image\.extxyz/s);
  assert.match((await page.textContent('#downloads'))!, /vasp_static\/ \(tar\)/);
});

test('structure page: fluorite lists its four F hops with their dimensionalities and percolation lengths', { skip: skip ?? false }, async () => {
  const p = (await (await fetch(`${dash!.url}/api/pathways?search=CaF2_fluorite&limit=1`)).json()) as { rows: { structure_id: string }[] };
  await page.goto(`${dash!.url}/structure?id=${encodeURIComponent(p.rows[0]!.structure_id)}`);
  await page.waitForSelector('#hops tbody tr');
  const rows = (await page.evaluate(`[...document.querySelectorAll('#hops tbody tr')].map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent))`)) as string[][];
  assert.equal(rows.length, 4, 'fluorite has 4 distinct F hops ≤ 5 Å');
  assert.equal(rows[0]![1], '2.7315');
  assert.equal(rows[0]![3], 'exact', 'the IDPP mode of the descriptors shown');
  assert.equal(rows[0]![5], '3', 'the shortest hop percolates in 3-D');
  assert.equal(await page.evaluate(`document.querySelectorAll('#percolation tbody tr').length`), 3);
});

test('controls: the page\'s scale is refused without the token, applied with it, and the overview shows it live', { skip: skip ?? false }, async () => {
  await page.goto(`${dash!.url}/`);
  await page.waitForSelector('#live.on');
  await page.selectOption('form[data-control="scale"] select[name="stage"]', 'images');
  await page.fill('form[data-control="scale"] input[name="workers"]', '5');
  await page.evaluate(`document.getElementById('control-result').textContent = ''`);
  await page.click('form[data-control="scale"] button');
  await waitText('#control-result', /./);
  assert.match((await page.textContent('#control-result'))!, /^refused: control refused: missing or wrong token/);
  assert.equal((await stageRow('images'))['workers'], '1');
  await page.fill('#token', 'wrong');
  await page.dispatchEvent('#token', 'change');
  await page.evaluate(`document.getElementById('control-result').textContent = ''`);
  await page.click('form[data-control="scale"] button');
  await waitText('#control-result', /./);
  assert.match((await page.textContent('#control-result'))!, /^refused: control refused: missing or wrong token/);
  await page.fill('#token', TOKEN);
  await page.dispatchEvent('#token', 'change');
  await page.evaluate(`document.getElementById('control-result').textContent = ''`);
  await page.click('form[data-control="scale"] button');
  await waitText('#control-result', /^scale: /);
  await waitText('#stages tr[data-stage="images"] td[data-field="workers"]', /^5$/);
});

test('plot pathway --out .png: the SVG rendered by Chromium into a PNG of the same size', { skip: skip ?? false }, async () => {
  const p = (await (await fetch(`${dash!.url}/api/pathways?search=CaF2_fluorite&sort=hop_index&limit=1`)).json()) as { rows: { key: string }[] };
  const out = join(fixture!.dir, 'profile.png');
  const r = runCli(['plot', 'pathway', p.rows[0]!.key, '--db', fixture!.db, '--out', out, '--chromium', process.env['CHROMIUM'] ?? '/usr/bin/chromium']);
  assert.equal(r.status, 0, r.stderr);
  const png = readFileSync(out);
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [840, 320], 'IHDR width and height of the two 420 × 320 panels');
  const missing = runCli(['plot', 'pathway', p.rows[0]!.key, '--db', fixture!.db, '--out', out, '--chromium', join(fixture!.dir, 'no-chromium')]);
  assert.notEqual(missing.status, 0);
  assert.match(missing.stderr, /--chromium .*no-chromium does not exist/);
});
