/**
 * The measured per-row cost of the cheap stages (find_paths, descriptors, images) on the default
 * bundled set, for the architecture study (`fracflow study architecture`): data/study/bundled-costs.json.
 *
 * The screen runs in the fixed-workflow mode with one workflow, so each row is claimed alone, run at
 * once on the one worker thread and written before the next claim: the row's attempt in the engine's
 * history (`engine_attempts`, claim → write) is that row's cost on one core of this machine, thread
 * hand-off and the write included. Per structure the file keeps its atom counts (sanitised cell, ≥ 7 Å
 * and ≥ 10 Å supercells, from find_paths) and its find_paths cost; per pathway its descriptors cost, its
 * dimensionality (the images stage admits ≥ 1) and its images cost (null when not admitted or failed).
 * The machine's load averages before and after are recorded: on a shared machine the costs are upper
 * bounds.
 *
 * Run: npx tsx scripts/study/cheap-stage-costs.ts   (a few minutes: the whole bundled screen on one thread)
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { runScreen } from '../../src/workflow/screen.js';
import { openStore } from '../../src/store/sqlite/diffusion.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const out = join(root, 'data', 'study', 'bundled-costs.json');
const dir = mkdtempSync(join(tmpdir(), 'fracflow-study-costs-'));
try {
  const db = join(dir, 'screen.db');
  const load0 = loadavg();
  const started = new Date().toISOString();
  let commit = 'unknown';
  try {
    commit = execSync('git rev-parse HEAD', { cwd: root, encoding: 'utf8' }).trim();
  } catch {
    // Not a git checkout.
  }
  const rep = await runScreen({ db, source: { kind: 'bundled' }, outDir: join(dir, 'out'), mode: 'fixed', workers: 1, progress: 'off', checkpoint: false });
  const load1 = loadavg();
  const store = openStore(db);
  try {
    const cost = new Map<string, number>();
    for (const r of store.sql.all<{ stage: string; key: string; ms: number }>("SELECT stage, key, finished_at - started_at AS ms FROM engine_attempts WHERE outcome = 'done'")) cost.set(`${r.stage}\t${r.key}`, r.ms);
    const fp = store.sql.all<{ key: string; structure_id: string; sanitized_nsites: number; nsites_777: number; nsites_101010: number }>(
      "SELECT key, structure_id, sanitized_nsites, nsites_777, nsites_101010 FROM find_paths WHERE state = 'done' ORDER BY key",
    );
    const paths = store.sql.all<{ key: string; source_key: string }>('SELECT key, source_key FROM pathways ORDER BY key');
    const desc = new Map(store.sql.all<{ key: string; dimensionality: number | null; state: string }>('SELECT key, dimensionality, state FROM descriptors').map((r) => [r.key, r]));
    const bySource = new Map<string, string[]>();
    for (const p of paths) bySource.set(p.source_key, [...(bySource.get(p.source_key) ?? []), p.key]);
    const round = (x: number | undefined) => (x === undefined ? null : Math.round(x * 100) / 100);
    const structures = fp.map((s) => [
      s.structure_id,
      s.sanitized_nsites,
      s.nsites_777,
      s.nsites_101010,
      round(cost.get(`find_paths\t${s.key}`)),
      (bySource.get(s.key) ?? []).map((k) => [round(cost.get(`descriptors\t${k}`)), desc.get(k)?.dimensionality ?? null, round(cost.get(`images\t${k}`))]),
    ]);
    const data = {
      provenance: {
        made_by: 'scripts/study/cheap-stage-costs.ts',
        run: "runScreen({ source: bundled (default set), mode: 'fixed', workers: 1 }): one row per claim, one worker thread; cost = engine_attempts.finished_at - started_at of the row's done attempt",
        started,
        commit,
        machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: availableParallelism(), node: process.version, platform: `${process.platform} ${process.arch}` },
        load_average_start: load0,
        load_average_end: load1,
        engine_wall_ms: Math.round(rep.run.wallMs),
        note: 'the machine is shared: other processes ran meanwhile (see the load averages), so the costs are upper bounds of an idle core',
      },
      columns: {
        structure: ['structure_id', 'sanitized_nsites', 'nsites_777', 'nsites_101010', 'find_paths_ms', 'pathways'],
        pathway: ['descriptors_ms', 'dimensionality', 'images_ms'],
      },
      structures,
    };
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(data) + '\n');
    console.log(`${out}: ${structures.length} structures, ${paths.length} pathways; engine ${(rep.run.wallMs / 1000).toFixed(1)} s; load ${load0.join(' ')} -> ${load1.join(' ')}`);
  } finally {
    store.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
