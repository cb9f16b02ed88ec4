/**
 * The dashboard over a small screened store (four fixture structures): downloads only from inside
 * a pathway's output folder (`..`, encoded `%2e%2e`, absolute paths, backslashes and symlinks out
 * refused), controls refused without --allow-control and without the right token, loopback Host
 * names only, escaping of what a user typed, a failed row's attempt history, the profiles agreeing
 * with the stored descriptors, and `fracflow plot pathway` writing the same profiles as SVG.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, rmSync, symlinkSync, mkdirSync, existsSync, type Dirent } from 'node:fs';
import { request } from 'node:http';
import { join, relative } from 'node:path';
import { screenedStore, withDashboard } from '../helpers/dashboard.js';
import { runCli } from '../helpers/cli.js';
import { openQueueStore } from '../../src/store/index.js';
import { esc, jsonScript } from '../../src/server/html.js';
import { tokenMatches } from '../../src/server/token.js';
import { tarArchive } from '../../src/server/tar.js';
import type { PathwayView } from '../../src/server/profile.js';
import type { PathwayDetail, PathwaySummary, RowHistory, WorkerRecord } from '../../src/store/interface.js';

let store: { dir: string; db: string; outDir: string } | null = null;
let caf2: PathwayDetail;

before(async () => {
  store = await screenedStore();
  const s = openQueueStore(store.db, { readonly: true });
  const page = await s.pathwaysPage({ search: 'CaF2_fluorite', sort: 'hop_index', offset: 0, limit: 10 });
  caf2 = (await s.pathwayDetail(page.rows[0]!.key))!;
  await s.close();
  assert.ok(caf2.out_dir && existsSync(caf2.out_dir), 'CaF2 hop 0 has its images folder');
});

after(() => {
  if (store) rmSync(store.dir, { recursive: true, force: true });
});

const fileUrl = (url: string, key: string, rawPath: string) => `${url}/files?key=${encodeURIComponent(key)}&path=${rawPath}`;

test('files: a pathway file is served; .., %2e%2e, absolute paths, backslashes and symlinks out of the folder are refused', async () => {
  const out = caf2.out_dir!;
  // A link inside the folder that points out of it, to a file and to a folder.
  symlinkSync('/etc/passwd', join(out, 'escape-file'));
  symlinkSync('/etc', join(out, 'escape-dir'));
  mkdirSync(join(out, 'inner'), { recursive: true });
  symlinkSync('../path_5image.cif', join(out, 'inner', 'link-in'));
  await withDashboard(store!.db, {}, async (d) => {
    const ok = await fetch(fileUrl(d.url, caf2.key, 'path_5image.cif'));
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), readFileSync(join(out, 'path_5image.cif'), 'utf8'));
    assert.match(ok.headers.get('content-disposition')!, /attachment; filename="path_5image.cif"/);
    const inside = await fetch(fileUrl(d.url, caf2.key, 'inner/link-in'));
    assert.equal(inside.status, 200, 'a link that stays inside the folder is followed');
    for (const [raw, status, message] of [
      ['../../../../etc/passwd', 403, "holds a '..' or '.' segment"],
      ['%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd', 403, "holds a '..' or '.' segment"],
      ['%2E%2E/%2E%2E/etc/passwd', 403, "holds a '..' or '.' segment"],
      ['vasp_static/../../x', 403, "holds a '..' or '.' segment"],
      ['%2fetc%2fpasswd', 403, 'is absolute or holds a backslash'],
      ['/etc/passwd', 403, 'is absolute or holds a backslash'],
      ['..%5c..%5cetc%5cpasswd', 403, 'is absolute or holds a backslash'],
      ['escape-file', 403, 'leads out of the pathway\'s output folder'],
      ['escape-dir/passwd', 403, 'leads out of the pathway\'s output folder'],
      ['%252e%252e%252fetc%252fpasswd', 404, 'no file'],
      ['a%00b', 400, 'NUL byte'],
    ] as const) {
      const r = await fetch(fileUrl(d.url, caf2.key, raw));
      const body = (await r.json()) as { error: string };
      assert.equal(r.status, status, `${raw}: ${body.error}`);
      assert.ok(body.error.includes(message), `${raw}: ${body.error}`);
      assert.ok(!body.error.includes('root:'), 'no file content in the refusal');
    }
    const tarOut = await fetch(`${d.url}/files/tar?key=${encodeURIComponent(caf2.key)}&dir=..`);
    assert.equal(tarOut.status, 403);
    const tarLink = await fetch(`${d.url}/files/tar?key=${encodeURIComponent(caf2.key)}&dir=escape-dir`);
    assert.equal(tarLink.status, 403);
    // A raw request line with .. segments names no route (the URL parser resolves them first).
    const raw = await new Promise<number>((resolve, reject) => {
      const u = new URL(d.url);
      const req = request({ host: u.hostname, port: u.port, path: '/files/../../etc/passwd', method: 'GET' }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(raw, 404);
    const noFolder = await fetch(fileUrl(d.url, 'no-such-key', 'path_5image.cif'));
    assert.equal(noFolder.status, 404);
  });
});

test('files: a VASP folder downloads as a tar of its files, names and bytes as on disk', async () => {
  await withDashboard(store!.db, {}, async (d) => {
    const r = await fetch(`${d.url}/files/tar?key=${encodeURIComponent(caf2.key)}&dir=vasp_static`);
    assert.equal(r.status, 200);
    const tar = Buffer.from(await r.arrayBuffer());
    const names: string[] = [];
    for (let off = 0; off + 512 <= tar.length; ) {
      const h = tar.subarray(off, off + 512);
      if (h.every((b) => b === 0)) break;
      const name = h.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
      const size = parseInt(h.subarray(124, 136).toString('utf8').replace(/\0.*$/s, ''), 8);
      const data = tar.subarray(off + 512, off + 512 + size);
      assert.deepEqual(data, readFileSync(join(caf2.out_dir!, name)), name);
      names.push(name);
      off += 512 + Math.ceil(size / 512) * 512;
    }
    const onDisk = (readdirSync(join(caf2.out_dir!, 'vasp_static'), { recursive: true, withFileTypes: true }) as Dirent[])
      .filter((e) => e.isFile())
      .map((e) => relative(caf2.out_dir!, join(e.parentPath, e.name)));
    assert.ok(onDisk.length >= 9, onDisk.join(', '));
    assert.deepEqual(names.sort(), onDisk.sort());
  });
  assert.throws(() => tarArchive([{ name: `${'d'.repeat(200)}/${'f'.repeat(101)}`, data: new Uint8Array(1), mtimeMs: 0 }]), /name too long for ustar/);
});

test('controls: refused when the dashboard is read-only, without the token and with a wrong one; applied with it', async () => {
  const scale = (url: string, headers: Record<string, string>) =>
    fetch(`${url}/api/control/scale`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ stage: 'images', workers: 3 }) });
  await withDashboard(store!.db, {}, async (d) => {
    assert.equal(d.token, null);
    const r = await scale(d.url, { 'x-fracflow-token': 'anything' });
    assert.equal(r.status, 403);
    assert.match(((await r.json()) as { error: string }).error, /controls are off: start the dashboard with --allow-control/);
  });
  await withDashboard(store!.db, { allowControl: true }, async (d) => {
    assert.ok(d.token && d.token.length >= 32, 'a random token');
    for (const headers of [{} as Record<string, string>, { 'x-fracflow-token': '' }, { 'x-fracflow-token': d.token!.slice(0, -1) }, { 'x-fracflow-token': d.token! + 'x' }]) {
      const r = await scale(d.url, headers);
      assert.equal(r.status, 403, JSON.stringify(headers));
      assert.match(((await r.json()) as { error: string }).error, /control refused: missing or wrong token/);
    }
    const workers = async () => ((await (await fetch(`${d.url}/api/status`)).json()) as { stage: string; workers: number }[]).find((s) => s.stage === 'images')!.workers;
    assert.equal(await workers(), 1);
    const notJson = await fetch(`${d.url}/api/control/scale`, { method: 'POST', headers: { 'x-fracflow-token': d.token!, 'content-type': 'text/plain' }, body: '{"stage":"images","workers":3}' });
    assert.equal(notJson.status, 415);
    for (const [body, message] of [
      [{ stage: 'nope', workers: 3 }, 'stage must be one of find_paths, descriptors, images, got "nope"'],
      [{ stage: 'images', workers: 0 }, 'workers must be an integer from 1 to 1024, got 0'],
      [{ stage: 'images', which: 'all' }, 'no control named'],
    ] as const) {
      const path = 'which' in body ? 'bogus' : 'scale';
      const r = await fetch(`${d.url}/api/control/${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-fracflow-token': d.token! }, body: JSON.stringify(body) });
      assert.ok(r.status === 400 || r.status === 404, `${r.status}`);
      assert.ok(((await r.json()) as { error: string }).error.includes(message), message);
    }
    const okr = await scale(d.url, { 'x-fracflow-token': d.token! });
    assert.equal(okr.status, 200);
    assert.deepEqual(await okr.json(), { from: 1, to: 3, workers: [] });
    assert.equal(await workers(), 3);
    const badPriority = await fetch(`${d.url}/api/control/priority`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-fracflow-token': d.token! }, body: JSON.stringify({ stage: 'images', priority: 'length; DROP TABLE images' }) });
    assert.equal(badPriority.status, 400, 'the store refuses an expression outside the portable subset');
    assert.match(((await badPriority.json()) as { error: string }).error, /DROP|;/);
    const submitDone = await fetch(`${d.url}/api/control/submit`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-fracflow-token': d.token! }, body: JSON.stringify({ stage: 'images', key: caf2.key }) });
    assert.equal(submitDone.status, 400);
    assert.match(((await submitDone.json()) as { error: string }).error, /is done; only pending or failed rows can be submitted/);
    const requeue = await fetch(`${d.url}/api/control/requeue`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-fracflow-token': d.token! }, body: JSON.stringify({ stage: 'images', which: 'everything' }) });
    assert.equal(requeue.status, 400);
    assert.match(((await requeue.json()) as { error: string }).error, /which must be "failed" or "stale", got "everything"/);
  });
  assert.equal(tokenMatches('abc', 'abc'), true);
  assert.equal(tokenMatches('abc', 'abd'), false);
  assert.equal(tokenMatches('abc', undefined), false);
});

test('safety: a Host header that is not a loopback name is refused; pages carry a script-only-from-self CSP; what a user typed comes back escaped', async () => {
  await withDashboard(store!.db, {}, async (d) => {
    const u = new URL(d.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request({ host: u.hostname, port: u.port, path: '/api/status', headers: { host: 'attacker.example:8787' } }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(status, 421);
    const home = await fetch(`${d.url}/`);
    assert.match(home.headers.get('content-security-policy')!, /script-src 'self'(;|$)/);
    assert.equal(home.headers.get('x-content-type-options'), 'nosniff');
    const evil = '<script>alert(1)</script>"\'';
    const r = await fetch(`${d.url}/row?stage=find_paths&key=${encodeURIComponent(evil)}`);
    assert.equal(r.status, 404);
    const html = await r.text();
    assert.ok(!html.includes('<script>alert(1)'), 'not echoed as markup');
    assert.ok(html.includes('&lt;script&gt;alert(1)&lt;/script&gt;'), 'echoed escaped');
    const pageOfEvil = await fetch(`${d.url}/pathway?key=${encodeURIComponent(evil)}`);
    assert.ok(!(await pageOfEvil.text()).includes('<script>alert(1)'));
  });
  assert.equal(esc(`<a href="x" onclick='y'>&\``), '&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;&#96;');
  assert.equal(jsonScript({ s: '</script><!--' }), '{"s":"\\u003c/script\\u003e\\u003c!--"}');
});

test('errors: the failed NaCl row is grouped with its message, and its attempt history holds that attempt', async () => {
  await withDashboard(store!.db, {}, async (d) => {
    const groups = (await (await fetch(`${d.url}/api/errors`)).json()) as { stage: string; message: string; examples: string[] }[];
    const nacl = groups.find((g) => g.stage === 'find_paths' && g.message.includes('ion F has no sites'));
    assert.ok(nacl, JSON.stringify(groups));
    const h = (await (await fetch(`${d.url}/api/row?stage=find_paths&key=${encodeURIComponent(nacl.examples[0]!)}`)).json()) as RowHistory;
    assert.equal(h.state, 'failed');
    assert.equal(h.history.length, 1);
    assert.equal(h.history[0]!.outcome, 'error');
    assert.match(h.history[0]!.error!, /ion F has no sites in the structure \(elements: Na, Cl\)/);
    assert.equal(h.lastError, h.history[0]!.error);
    const missing = await fetch(`${d.url}/api/row?stage=find_paths&key=nope`);
    assert.equal(missing.status, 404);
    const badStage = await fetch(`${d.url}/api/row?stage=x&key=nope`);
    assert.equal(badStage.status, 400);
  });
});

test('pathway profiles: the largest relative Ewald change is the stored ewald_energy, the overlap profiles give the stored overlap changes', async () => {
  await withDashboard(store!.db, {}, async (d) => {
    const page = (await (await fetch(`${d.url}/api/pathways?limit=50`)).json()) as { rows: PathwaySummary[] };
    let checked = 0;
    for (const row of page.rows.filter((r) => r.ewald_energy !== null)) {
      const v = (await (await fetch(`${d.url}/api/pathway?key=${encodeURIComponent(row.key)}`)).json()) as PathwayView;
      assert.equal(v.path.length, 7, 'start, 5 IDPP images, end');
      assert.ok(Math.abs(Math.max(...v.ewaldRelative!) - row.ewald_energy!) <= 1e-12 * Math.max(1, Math.abs(row.ewald_energy!)), `${row.key}: ${Math.max(...v.ewaldRelative!)} vs ${row.ewald_energy}`);
      const change = (p: (number | null)[]) => p.map((x) => x! - p[0]!).reduce((best, rel) => (Math.abs(rel) > Math.abs(best) ? rel : best), 0);
      assert.ok(Math.abs(change(v.overlapCationsAng!) - row.ionic_radii_overlap_cations!) <= 1e-12, `${row.key} cations`);
      assert.ok(Math.abs(change(v.overlapAnionsAng!) - row.ionic_radii_overlap_anions!) <= 1e-12, `${row.key} anions`);
      assert.ok(v.host.length > 0 && v.cell.length === 3);
      checked++;
    }
    assert.ok(checked >= 8, `checked ${checked} pathways`);
    const unbalanced = page.rows.find((r) => r.structure_id.includes('CaF_rocksalt'))!;
    const v = (await (await fetch(`${d.url}/api/pathway?key=${encodeURIComponent(unbalanced.key)}`)).json()) as PathwayView;
    assert.equal(v.ewaldRelative, null);
    assert.match(v.reason!, /no oxidation states/);
    assert.equal(v.path.length, 7, 'the images are drawn even without profiles');
  });
});

test('plot pathway: an SVG of both profiles, the Ewald polyline through the computed points; bad output names and unknown keys refused', async () => {
  const out = join(store!.dir, 'profile.svg');
  const r = runCli(['plot', 'pathway', caf2.key, '--out', out, '--db', store!.db]);
  assert.equal(r.status, 0, r.stderr);
  const svg = readFileSync(out, 'utf8');
  assert.match(svg, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 3, 'Ewald, cations, anions');
  assert.ok(svg.includes('Ewald site energy of F') && svg.includes('Radii overlap of F') && svg.includes('with anions'));
  assert.equal((svg.match(/<circle /g) ?? []).length, 21, '7 images × 3 series');
  const bad = runCli(['plot', 'pathway', caf2.key, '--out', join(store!.dir, 'x.pdf'), '--db', store!.db]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /--out must end in \.svg or \.png, got ".*x\.pdf"/);
  const unknown = runCli(['plot', 'pathway', 'no-such-key', '--out', out, '--db', store!.db]);
  assert.notEqual(unknown.status, 0);
  assert.match(unknown.stderr, /no pathway with key "no-such-key"/);
});

test('overview: no workers listed until one registers; then each with its host, heartbeat and rows done, and a deregistered one gone', async () => {
  const overview = async (url: string) => ((await (await fetch(`${url}/api/overview`)).json()) as { workers: WorkerRecord[] }).workers;
  await withDashboard(store!.db, {}, async (d) => {
    assert.deepEqual(await overview(d.url), []);
    const w = openQueueStore(store!.db);
    const now = Date.now();
    try {
      await w.registerWorker({ id: 'gpu-1:41:w', host: 'gpu-1', pid: 41, stage: 'images', threads: 3 }, now - 5000);
      await w.heartbeatWorker('gpu-1:41:w', 12, now - 1000);
      const [x] = await overview(d.url);
      assert.deepEqual([x!.host, x!.id, x!.stage, x!.threads, x!.rowsDone, x!.startedAt, x!.heartbeatAt, x!.stale], ['gpu-1', 'gpu-1:41:w', 'images', 3, 12, now - 5000, now - 1000, false]);
      await w.deregisterWorker('gpu-1:41:w');
      assert.deepEqual(await overview(d.url), []);
    } finally {
      await w.close();
    }
  });
});
