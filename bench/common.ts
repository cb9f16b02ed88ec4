/** Shared benchmark plumbing: machine facts and the JSON results files under bench/results/. */
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = dirname(fileURLToPath(import.meta.url));
/** `FRACFLOW_BENCH_QUICK=1` shortens every timing window (smoke runs; numbers are noisier). */
export const quick = process.env.FRACFLOW_BENCH_QUICK === '1';

export function machine(): Record<string, unknown> {
  const c = cpus();
  return {
    node: process.version,
    v8: process.versions.v8,
    cpu: c[0]?.model ?? 'unknown',
    cores: c.length,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    quick,
  };
}

export function writeResults(name: string, data: Record<string, unknown>): string {
  const dir = join(benchDir, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${name}.json`);
  writeFileSync(file, JSON.stringify({ benchmark: name, machine: machine(), ...data }, null, 1) + '\n');
  console.log(`wrote ${file}`);
  return file;
}
