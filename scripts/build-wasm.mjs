// Compiles every AssemblyScript kernel (assembly/*.ts, not assembly/lib/) to build/<name>.wasm
// with the `release` target of asconfig.json (-O3, stub runtime). Run by `npm install` (prepare).
// Kernels listed in SIMD_KERNELS are written with WebAssembly SIMD (f64x2) and always built with it
// (Node ≥ 16.4 runs it without flags); FRACFLOW_WASM_SIMD=1 enables it for every kernel.
import { readdirSync, mkdirSync } from 'node:fs';
import { join, dirname, basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from 'assemblyscript/asc';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const target = process.env.FRACFLOW_WASM_TARGET ?? 'release';
mkdirSync(join(root, 'build'), { recursive: true });
/** Kernels that use v128/f64x2 (kept because their benchmarks show the SIMD build wins; see BENCHMARKS.md). */
const SIMD_KERNELS = new Set(['idpp-fast', 'idpp']);
const kernels = readdirSync(join(root, 'assembly')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'));
for (const file of kernels) {
  const name = basename(file, '.ts');
  const args = [join('assembly', file), '--config', 'asconfig.json', '--target', target, '--outFile', join('build', `${name}.wasm`)];
  if (process.env.FRACFLOW_WASM_SIMD === '1' || SIMD_KERNELS.has(name)) args.push('--enable', 'simd');
  const { error, stderr } = await main(args, { stdout: process.stdout, stderr: process.stderr, baseDir: root });
  if (error) {
    console.error(`build-wasm: ${file} failed: ${error.message}`);
    console.error(stderr.toString());
    process.exit(1);
  }
  console.log(`build-wasm: build/${name}.wasm`);
}
