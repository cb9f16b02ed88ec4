/**
 * `fracflow plot pathway KEY --out profile.svg|png`: the pathway's Ewald and radii-overlap profiles
 * against image index, as the dashboard shows them. SVG by our own renderer; PNG by rendering that SVG
 * in headless Chromium (`--chromium PATH`, default the first of chromium / chromium-browser /
 * google-chrome on PATH), which only the PNG needs.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dbOption } from '../common.js';
import { describeLocation, openDashboardStore } from '../../store/index.js';
import { pathwayView } from '../../server/profile.js';
import { pathwayProfileSvg } from '../../server/profile-svg.js';

function findChromium(given?: string): string {
  if (given) {
    if (!existsSync(given)) throw new Error(`plot: --chromium ${given} does not exist`);
    return given;
  }
  for (const dir of (process.env['PATH'] ?? '').split(':')) {
    for (const name of ['chromium', 'chromium-browser', 'google-chrome']) if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  throw new Error('plot: a PNG needs Chromium (apt-get install chromium, or --chromium PATH); an .svg needs nothing');
}

/** Render the SVG file to a PNG of the same size with headless Chromium's screenshot. */
function svgToPng(svg: string, out: string, chromium: string): void {
  const m = /width="(\d+)" height="(\d+)"/.exec(svg);
  const [w, h] = m ? [Number(m[1]), Number(m[2])] : [840, 320];
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-plot-'));
  try {
    const file = join(dir, 'plot.html');
    writeFileSync(file, `<!doctype html><html><body style="margin:0">${svg.replace(/^<\?xml[^>]*>\s*/, '')}</body></html>`);
    execFileSync(chromium, ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--user-data-dir=${join(dir, 'profile')}`, `--window-size=${w},${h}`, `--screenshot=${out}`, pathToFileURL(file).href], { stdio: 'pipe', timeout: 60000 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  if (!existsSync(out)) throw new Error(`plot: Chromium wrote no ${out}`);
}

export function register(program: Command): void {
  const plot = program.command('plot').description('plots for papers: `plot pathway KEY --out profile.svg`');
  plot
    .command('pathway')
    .description("a pathway's Ewald site energy and radii overlap with cations / anions against image index (SVG, or PNG through Chromium)")
    .argument('<key>', 'pathway key (a descriptors row; see the pathways table or `export descriptors`)')
    .requiredOption('--out <file>', 'output file: .svg, or .png (needs Chromium)')
    .option('--chromium <path>', 'Chromium binary for a PNG')
    .addOption(dbOption())
    .action(async (key: string, opts: { out: string; db: string; chromium?: string }) => {
      const ext = extname(opts.out).toLowerCase();
      if (ext !== '.svg' && ext !== '.png') throw new InvalidArgumentError(`plot: --out must end in .svg or .png, got ${JSON.stringify(opts.out)}`);
      const store = await openDashboardStore(opts.db, { readonly: true });
      let svg: string;
      try {
        const d = await store.pathwayDetail(key);
        if (!d) throw new Error(`plot: no pathway with key ${JSON.stringify(key)} in ${describeLocation(opts.db)} (keys are those of the descriptors table)`);
        svg = pathwayProfileSvg(pathwayView(d));
      } finally {
        await store.close();
      }
      const out = resolve(opts.out);
      if (ext === '.svg') writeFileSync(out, svg);
      else svgToPng(svg, out, findChromium(opts.chromium));
      console.log(`wrote ${out}`);
    });
}
