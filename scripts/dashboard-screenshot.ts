/**
 * The README's screenshot of the dashboard's pathway page (docs/dashboard-pathway.png): screens the
 * four small fixture structures into a temporary store, serves it, and has headless Chromium (Debian's,
 * through playwright-core) photograph fluorite CaF2's shortest hop once its 3D view and plots are drawn.
 * The store is served from its own folder by the relative name `fracflow.db` (the default store), so
 * the page's header names it as a user's would, not by a temporary path.
 * Usage: npx tsx scripts/dashboard-screenshot.ts [out.png]
 */
import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { screenedStore } from '../test/helpers/dashboard.js';
import { launchBrowser } from '../test/helpers/browser.js';
import { openQueueStore } from '../src/store/index.js';
import { startDashboard } from '../src/server/server.js';

const out = resolve(process.argv[2] ?? join(import.meta.dirname, '..', 'docs', 'dashboard-pathway.png'));
const fixture = await screenedStore({ dbName: 'fracflow.db' });
// Screened from the repository (the keys name the fixture files relative to it), served from the store's folder.
const home = process.cwd();
process.chdir(fixture.dir);
const store = openQueueStore('fracflow.db', { readonly: true });
const d = await startDashboard({ store, port: 0 });
const browser = await launchBrowser();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1000 }, deviceScaleFactor: 1 });
  const key = ((await (await fetch(`${d.url}/api/pathways?search=CaF2_fluorite&sort=hop_index&limit=1`)).json()) as { rows: { key: string }[] }).rows[0]!.key;
  await page.goto(`${d.url}/pathway?key=${encodeURIComponent(key)}`);
  for (const sel of ['#viewer[data-ready="1"]', '#plot-ewald[data-ready="1"]', '#plot-overlap[data-ready="1"]']) await page.waitForSelector(sel, { timeout: 60000 });
  await page.screenshot({ path: out, fullPage: true });
  console.log(`wrote ${out}`);
} finally {
  await browser.close();
  await d.close();
  await store.close();
  process.chdir(home);
  rmSync(fixture.dir, { recursive: true, force: true });
}
