/**
 * Runs the benchmark suites: `npm run bench` (all) or `npm run bench -- neighbors`; options after the
 * suite names go to the suites (`npm run bench -- pipeline-corpus --structures 2000 --idpp fast`).
 * Each suite writes bench/results/<name>.json; then BENCHMARKS.md is regenerated.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from './common.js';

const suites = readdirSync(benchDir).filter((f) => f.endsWith('.bench.ts')).map((f) => f.replace(/\.bench\.ts$/, ''));
// Suite names, then options for the suites (`npm run bench -- pipeline-corpus --structures 2000`).
const firstOption = process.argv.slice(2).findIndex((a) => a.startsWith('--'));
const wanted = firstOption < 0 ? process.argv.slice(2) : process.argv.slice(2, 2 + firstOption);
const options = firstOption < 0 ? [] : process.argv.slice(2 + firstOption);
const run = wanted.length ? suites.filter((s) => wanted.includes(s)) : suites;
if (run.length === 0) {
  console.error(`no benchmark suite matches ${wanted.join(', ')}; suites: ${suites.join(', ')}`);
  process.exit(1);
}
for (const s of run) {
  console.log(`== ${s}`);
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, `${s}.bench.ts`), ...options], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
const r = spawnSync(process.execPath, ['--import', 'tsx', join(benchDir, 'report.ts')], { stdio: 'inherit' });
process.exit(r.status ?? 1);
