/** BENCHMARKS.md section for the architecture study (bench/study.bench.ts). */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir } from '../common.js';
import { readJson, f } from '../report-util.js';
import type { RunMetrics } from '../../src/workflow/study/study.js';

interface Part {
  corpus: string;
  cores: number[];
  rho: number[];
  variants: string[];
  load_average_start: number[];
  load_average_end: number[];
  date: string;
  dir: string;
  runs: RunMetrics[];
}

interface Result {
  machine: Record<string, unknown>;
  ks: number[];
  steps: number;
  parts: Record<string, Part>;
}

const h = (x: number | null | undefined) => (x === null || x === undefined ? 'never' : x >= 100 ? x.toFixed(0) : x.toFixed(1));
const kch = (x: number) => (x / 1000).toFixed(0);
const load = (x: number[]) => x.map((v) => v.toFixed(1)).join(' / ');

/** The runs of a part as a table. */
function table(runs: readonly RunMetrics[], ks: readonly number[], cost: boolean): string[] {
  const out = [`| cores | ρ | variant | makespan h | cluster utilisation | ${ks.map((k) => `top-${k} h`).join(' | ')} | core-h outside top-N (thousands) | NEB runs | broadenings | learned fits |${cost ? ' timers | wall s | CPU s |' : ''}`];
  out.push(`|---:|---:|---|---:|---:|${ks.map(() => '---:').join('|')}|---:|---:|---:|---:|${cost ? '---:|---:|---:|' : ''}`);
  for (const x of runs) {
    out.push(`| ${x.cores} | ${x.rho} | ${x.variant} | ${h(x.makespan_h)} | ${(100 * x.utilisation).toFixed(0)} % | ${ks.map((k) => h(x.t_top_h[k])).join(' | ')} | ${kch(x.core_hours_outside_top_n)} | ${x.neb_runs} | ${x.broadenings} | ${x.priority_fits ?? 0} |${cost ? ` ${x.timers.toLocaleString('en-US')} | ${f(x.sim_s, 0)} | ${f(x.cpu_s, 0)} |` : ''}`);
  }
  return [...out, ''];
}

/** Headline ratios: fractured against fixed per cluster and ρ. */
function ratios(runs: readonly RunMetrics[], ks: readonly number[]): string[] {
  const lines: string[] = [];
  for (const x of runs.filter((y) => y.variant === 'fractured')) {
    const fx = runs.find((y) => y.variant === 'fixed' && y.cores === x.cores && y.rho === x.rho);
    const lr = runs.find((y) => y.variant === 'fractured-learned' && y.cores === x.cores && y.rho === x.rho);
    if (!fx) continue;
    const r = (a: number | null | undefined, b: number | null | undefined) => (a && b ? (b / a).toFixed(1) : '–');
    const sh = runs.find((y) => y.variant === 'fractured-shared' && y.cores === x.cores && y.rho === x.rho);
    lines.push(
      `- ${x.cores} cores, ρ ${x.rho}: makespan fractured/fixed ${(x.makespan_h / fx.makespan_h).toFixed(2)}; time to the top ${ks.map((k) => k).join(' / ')}, fixed/fractured ${ks.map((k) => r(x.t_top_h[k], fx.t_top_h[k])).join(' / ')}${lr ? ` (fixed/fractured-learned ${ks.map((k) => r(lr.t_top_h[k], fx.t_top_h[k])).join(' / ')})` : ''}; core-h outside the top N, fractured/fixed ${(x.core_hours_outside_top_n / fx.core_hours_outside_top_n).toFixed(2)}.` +
        (sh ? ` Shared cores: makespan fractured-shared/fixed ${(sh.makespan_h / fx.makespan_h).toFixed(2)}; time to the top ${ks.join(' / ')}, fixed/fractured-shared ${ks.map((k) => r(sh.t_top_h[k], fx.t_top_h[k])).join(' / ')}.` : ''),
    );
  }
  return lines.length ? [...lines, ''] : [];
}

/** Which of the asked cells finished. */
function cells(p: Part): string {
  const asked = p.cores.length * p.rho.length * p.variants.length;
  const done = p.runs.length;
  return `${done} of ${asked} runs (cores ${p.cores.join(', ')}; ρ ${p.rho.join(', ')}; ${p.variants.join(', ')})${done < asked ? `; not run: ${p.cores.flatMap((c) => p.rho.flatMap((r) => p.variants.filter((v) => !p.runs.some((x) => x.cores === c && x.rho === r && x.variant === v)).map((v) => `${c}/${r}/${v}`))).join(', ')}` : ''}`;
}

function studySection(r: Result): string[] {
  const m = r.machine;
  const out: string[] = ['## Architecture study: fixed against fractured on simulated clusters (`fracflow study architecture`)', ''];
  out.push(
    `Measured with \`npm run bench -- study\` on ${String(m['cpu'])} (${String(m['cores'])} cores), Node ${String(m['node'])}${m['quick'] === true ? ' (**quick mode**)' : ''}. ` +
      'The real engine (both schedulers, the SQLite store in memory) runs on a virtual clock; the cheap stages take their measured per-row cost (data/study/bundled-costs.json, ' +
      'measured on this shared machine: upper bounds), the DFT stages the cost model of src/workflow/study/cost-model.ts (4 core-h per 100-atom single point × (N/100)^2.5; ' +
      'static = 3 single points in the ≥ 7 Å cell on 32 cores, NEB = 28 single points in the ≥ 10 Å cell on 64 cores, fewer cores per calculation on small clusters; log-normal spread σ 0.3). ' +
      'Truth: synthetic barriers with correlation ρ to the cheap descriptors (seed 1). Top-N = the 100 lowest true barriers among the pathways that can reach NEB (dimensionality ≥ 1); ' +
      'times are hours from the start until k of them have a finished NEB. The results are deterministic for a seed; the load average (a shared machine) changes only the wall and CPU seconds. ' +
      `Each part's files — runs.csv, steps.csv (${r.steps} time steps: utilisation per stage, top-N found, core-hours), summary.md and the SVG plots — are committed under its folder.`,
    '',
  );
  const ks = r.ks;
  const parts = Object.values(r.parts);
  const figure = (p: Part | undefined, file: string, alt: string) => (p && existsSync(join(benchDir, '..', p.dir, file)) ? [`![${alt}](${p.dir}/${file})`, ''] : []);
  const bundled = r.parts['bundled'];
  if (bundled) {
    out.push(`### The bundled set (882 structures, 3,839 pathways): ${cells(bundled)}`, '');
    out.push(`${bundled.date.slice(0, 10)}, load average ${load(bundled.load_average_start)} at the start, ${load(bundled.load_average_end)} at the end; files in \`${bundled.dir}\`.`, '');
    out.push(...table(bundled.runs, ks, false), ...ratios(bundled.runs, ks));
    out.push(...figure(bundled, 'topk_bundled_c1000_rho0.9_s1.svg', 'top-100 pathways with a finished NEB against core-hours, bundled set, 1,000 cores, ρ 0.9'));
    out.push(...figure(bundled, 'topk_bundled_c1000_rho0.3_s1.svg', 'the same at ρ 0.3'));
    out.push(...figure(bundled, 'utilisation_bundled_c1000_rho0.6_s1_fixed.svg', 'fixed mode, 1,000 cores: share of the cluster per stage over time'));
    out.push(...figure(bundled, 'utilisation_bundled_c1000_rho0.6_s1_fractured.svg', 'fractured mode, 1,000 cores: utilisation of each allotment over time'));
    out.push(...figure(bundled, 'utilisation_bundled_c1000_rho0.6_s1_fractured-shared.svg', 'fractured mode with shared cores, 1,000 cores: share of the cluster per stage over time'));
  }
  const corpus = parts.filter((p) => p.corpus.startsWith('corpus-')).sort((a, b) => b.cores[0]! - a.cores[0]! || a.rho[0]! - b.rho[0]!);
  if (corpus.length) {
    out.push(`### A ${Number(corpus[0]!.corpus.slice(7)).toLocaleString('en-US')}-structure corpus (the bundled set repeated under new keys)`, '');
    for (const p of corpus) {
      out.push(`${p.cores.join(', ')} cores, ρ ${p.rho.join(', ')}: ${cells(p)}; ${p.date.slice(0, 10)}, load average ${load(p.load_average_start)} → ${load(p.load_average_end)}; files in \`${p.dir}\`.`, '');
      out.push(...table(p.runs, ks, true), ...ratios(p.runs, ks));
      out.push(...figure(p, `topk_${p.corpus}_c${p.cores[0]}_rho${p.rho[0]}_s1.svg`, `top-100 found against core-hours, ${p.corpus}, ${p.cores[0]} cores, ρ ${p.rho[0]}`));
    }
  }
  out.push(
    'Simulation cost: a fixed-mode workflow with nothing to claim used to look again every four ticks; hundreds of idle workflows (a 10,000-core cluster runs 156) made most of the simulation\'s work: ' +
      '2,000 structures on 10,000 cores took 83,984 timers and 178 CPU s in the fixed mode (16,311 timers, 9.7 CPU s fractured). Idle workflows now wait to be woken (src/engine/fixed.ts): ' +
      'the same run takes 20,556 timers and 15.9 CPU s, and 10,000 structures on 10,000 cores 91,995 timers and 145 CPU s (about 15 CPU minutes before). ' +
      'The wake-up also moves the fixed mode\'s broadenings to the moment the NEB queue drains instead of the next look (makespans shorter by up to 0.3 %).',
    '',
  );
  const spans = parts.flatMap((p) => p.runs.filter((x) => x.variant === 'fractured').flatMap((x) => {
    const fx = p.runs.find((y) => y.variant === 'fixed' && y.cores === x.cores && y.rho === x.rho);
    return fx ? [x.makespan_h / fx.makespan_h] : [];
  }));
  const span = spans.length ? `${Math.min(...spans).toFixed(2)}–${Math.max(...spans).toFixed(2)}` : '–';
  // fractured-shared against fixed, over every cell that ran both.
  const pairs = parts.flatMap((p) => p.runs.filter((x) => x.variant === 'fractured-shared').flatMap((x) => {
    const fx = p.runs.find((y) => y.variant === 'fixed' && y.cores === x.cores && y.rho === x.rho);
    return fx ? [{ sh: x, fx }] : [];
  }));
  const shSpan = pairs.length ? `${Math.min(...pairs.map((q) => q.sh.makespan_h / q.fx.makespan_h)).toFixed(2)}–${Math.max(...pairs.map((q) => q.sh.makespan_h / q.fx.makespan_h)).toFixed(2)}` : '–';
  const sooner = (k: number) => pairs.filter((q) => q.sh.t_top_h[k] != null && (q.fx.t_top_h[k] == null || q.sh.t_top_h[k]! < q.fx.t_top_h[k]!)).length;
  const withFr = parts.flatMap((p) => p.runs.filter((x) => x.variant === 'fractured-shared').flatMap((x) => {
    const fr = p.runs.find((y) => y.variant === 'fractured' && y.cores === x.cores && y.rho === x.rho);
    return fr ? [{ sh: x, fr }] : [];
  }));
  const frPairs = withFr.length;
  const soonerThanFractured = (k: number) => withFr.filter((q) => q.sh.t_top_h[k] != null && (q.fr.t_top_h[k] == null || q.sh.t_top_h[k]! < q.fr.t_top_h[k]!)).length;
  const notSooner = pairs.flatMap((q) => ks.filter((k) => !(q.sh.t_top_h[k] != null && (q.fx.t_top_h[k] == null || q.sh.t_top_h[k]! < q.fx.t_top_h[k]!))).map((k) => `top ${k}, ${q.sh.corpus} on ${q.sh.cores.toLocaleString('en-US')} cores at ρ ${q.sh.rho} (${h(q.sh.t_top_h[k])} h against ${h(q.fx.t_top_h[k])} h)`));
  const shared = pairs.length
    ? `(4) with the cores shared (\`fractured-shared\`: the same queues, priorities and broadening, but no allotment idle while another stage waits) the fractured architecture keeps the fixed mode's makespan — fractured-shared/fixed ${shSpan} over the ${pairs.length} cells run — ` +
      `and finds the top pathways sooner in most cells: the top ${ks.map((k) => k).join(' / ')} sooner than the fixed mode in ${ks.map((k) => sooner(k)).join(' / ')} of the ${pairs.length}; ` +
      `not sooner: ${notSooner.length ? notSooner.join(', ') : 'none'}. ` +
      `Against \`fractured\` it finds the top ${ks.join(' / ')} sooner in ${ks.map((k) => soonerThanFractured(k)).join(' / ')} of the ${frPairs} cells with both: where the descriptors rank well (ρ 0.9 on the corpus) a NEB waits for running statics to give their cores back, where a fixed NEB allotment has its cores ready. ` +
      'The shared variant is the single-machine engine\'s CPU budget (each stage\'s workers a cap, the cores shared, the deepest stage first) applied to the cluster; on a real cluster it needs the stages to share one allocation whose cores any stage\'s calculation may take, where `fracflow launch` submits a job array per stage, sized by that stage\'s workers'
    : '';
  out.push(
    '**What these figures show.** The same scheduler code (claims, priorities, admission, broadening, leases) ordering the same work in both architectures under a stated cost model. ' +
      `Under this model and these plans: (1) the fixed mode finishes sooner (makespan ratio fractured/fixed ${span} over the cells run) because each workflow takes the cores its current step needs from the whole cluster, ` +
      'while the fractured allotments are fixed per stage (the static share from the expected core-hours) and a stage whose queue is empty leaves its cores idle (compare the utilisation plots); ' +
      '(2) with broadening up to its maximum both modes end up running the same calculations (equal NEB runs and equal core-hours outside the top N): the ranking changes *when* the best pathways are found, not what is spent by the end; ' +
      'without broadening (`fractured-no-broadening`) the fractured run spends 13–16 % of those core-hours outside the top N and stops there, missing part of the top 100 ("never"); ' +
      '(3) the time to the first top pathways depends on the queue order, on ρ and on how large the corpus is against the cluster: on the bundled set the fixed mode, many workflows side by side in find_paths order, finds the first ten sooner on 1,000 and 10,000 cores, ' +
      'and the descriptor-ranked fractured queue catches up at the top 50 on 64 cores when ρ is high; on the 10,000-structure corpus at ρ 0.9 the ranked queue finds the top 10 and top 50 sooner (10,000 cores: 2.1 h and 15.8 h against 4.9 h and 25.2 h; 1,000 cores: 3.4 h and 59 h against 49 h and 295 h) but the last of the top 100 later (537 h against 201 h, 2,424 h against 1,498 h: those the descriptors misjudge wait behind the ranked rest on the smaller NEB allotment), and at ρ 0.3 (10,000 cores) it is behind throughout; ' +
      'the learned ridge priority helps most at high ρ (bundled, 1,000 cores, ρ 0.9: top 50 in 18 h against 28 h fixed and 23 h with the hand-written rank) and not at ρ 0.3, where the descriptors say little about the barrier; ' +
      'a mid-run priority swap (`fractured-swap`, from admission order to the descriptor rank at 10 % of the statics) lands between the two orders' +
      (shared ? `; ${shared}. ` : '. ') +
      '**What they do not show.** Real DFT timings: the cost model\'s constants are assumptions of the right order, not a calibration (change them with `CostModelParams`); ' +
      'a real cluster\'s scheduler queue, node granularity, failures and restarts of calculations (none are simulated); real barriers (synthetic unless a CSV is given) — ' +
      'with ρ the correlation of the true barrier with the descriptors, the gain of ranking is an assumption of the experiment, not a finding; ' +
      'and other fractured plans: the allotments are the simple fixed shares of src/workflow/study/study.ts, not tuned, and an allotment that follows the queues (scaling a stage\'s workers as its queue fills, which the engine supports with `scale`) is not part of these runs. ' +
      'They are traits of the architectures and of the priorities under this cost model, shown side by side, not a verdict.',
    '',
  );
  return out;
}

export const order = 74;

export function section(): string[] {
  const r = readJson<Result>(join(benchDir, 'results', 'study.json'));
  return r?.parts ? studySection(r) : ['## Architecture study', '', 'No results yet: run `npm run bench -- study`.', ''];
}
