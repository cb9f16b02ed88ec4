// Copies the files tsc does not emit (the store's .sql migrations) from src/ into dist/src/.
import { cpSync, readdirSync, statSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
let n = 0;
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.sql')) {
      const to = join(root, 'dist', 'src', relative(src, p));
      mkdirSync(dirname(to), { recursive: true });
      cpSync(p, to);
      n++;
    }
  }
}
walk(src);
console.log(`copy-assets: ${n} files`);
