// Copies the files tsc does not emit from src/ into dist/src/: the store's .sql migrations and the
// dashboard's page script and stylesheet (src/server/web/). Copies the dashboard's bundled viewer and
// chart library (3Dmol.js, uPlot) from node_modules into build/vendor/, with their licences, so that
// `fracflow serve` works offline.
import { cpSync, existsSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
let n = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.sql') || (relative(src, p).startsWith(join('server', 'web')) && /\.(js|css)$/.test(name))) {
      const to = join(root, 'dist', 'src', relative(src, p));
      mkdirSync(dirname(to), { recursive: true });
      cpSync(p, to);
      n++;
    }
  }
}
walk(src);

const VENDOR = [
  ['3dmol/build/3Dmol-min.js', '3Dmol-min.js'],
  ['3dmol/LICENSE', '3Dmol-LICENSE.txt'],
  ['uplot/dist/uPlot.iife.min.js', 'uPlot.iife.min.js'],
  ['uplot/dist/uPlot.min.css', 'uPlot.min.css'],
  ['uplot/LICENSE', 'uPlot-LICENSE.txt'],
];
const vendor = join(root, 'build', 'vendor');
let v = 0;
for (const [from, to] of VENDOR) {
  const p = join(root, 'node_modules', from);
  // An installed package (no devDependencies) ships build/vendor already.
  if (!existsSync(p)) continue;
  mkdirSync(vendor, { recursive: true });
  cpSync(p, join(vendor, to));
  v++;
}
console.log(`copy-assets: ${n} files, ${v} vendor files`);
