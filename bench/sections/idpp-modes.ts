/** BENCHMARKS.md section for the IDPP mode comparison (bench/idpp-modes.bench.ts). */
import { join } from 'node:path';
import { benchDir } from '../common.js';
import { readJson, f } from '../report-util.js';

interface Mode {
  pathways: number; failed_structures: number; wall_s: number; pathways_per_s_2_cores: number; context_ms_total: number;
  hop_ms_median: number; hop_ms_mean: number; hop_ms_p90: number; iterations_median: number; iterations_mean: number; iterations_p90: number;
  idpp_runs: number; not_converged: number;
  /** Absent in results from before they were recorded. */
  cpu_s?: number; pathways_per_s_2_cores_from_cpu?: number; idpp_refused?: number; ewald_null?: number;
}
interface Diff { max_abs_diff: number; at: string }
interface Spread { compared: number; moved_beyond_1e_4: number; null_in_one_run_only?: number; ewald_energy: Diff; ionic_radii_overlap_cations: Diff; ionic_radii_overlap_anions: Diff }
interface Result {
  machine: Record<string, unknown>;
  load_average_start: number[];
  load_average_end: number[];
  structures: number;
  structures_in_default_set: number;
  perturbation: { seed: number; amplitude_ang: number; tolerance: number };
  modes: Record<'exact' | 'fast' | 'exact_perturbed' | 'fast_perturbed', Mode>;
  agreement: Record<string, { pathways: number; spearman: number; max_abs_diff: number; at: string; both_converged?: { pathways: number; spearman: number } }>;
  /** Absent in results from before it was recorded. */
  refusals?: { exact: number; fast: number; both: number; exact_only: number; fast_only_at_an_image: { distance_0: number; below_1e_12: number; below_0_01: number }; fast_only_between_images: number };
  reproducibility: Record<'exact' | 'fast', { all: Spread; converged: Spread }>;
  targets: { spearman: number; fast_pathways_per_s_2_cores: number; reproducibility: number };
}

const COLS = ['ewald_energy', 'ionic_radii_overlap_cations', 'ionic_radii_overlap_anions'] as const;
const e = (x: number) => (x === 0 ? '0' : x.toExponential(1));

function modesSection(r: Result): string[] {
  const m = r.machine;
  const quickRun = m['quick'] === true;
  const out: string[] = ['## IDPP modes: exact (pymatgen step for step) and fast (converged L-BFGS)', ''];
  out.push(
    `Measured with \`npm run bench -- idpp-modes\` on ${String(m['cpu'])} (${String(m['cores'])} cores), Node ${String(m['node'])}, ${String(m['date']).slice(0, 10)}` +
      `${quickRun ? ` (**quick mode**: ${r.structures} of the ${r.structures_in_default_set} structures)` : ''}; load average (1 min) ${r.load_average_start[0]!.toFixed(1)} at the start, ${r.load_average_end[0]!.toFixed(1)} at the end (other processes share the 2 cores). ` +
      `\`pathwayDescriptors\` with \`idpp: 'exact'\` and \`'fast'\` on every pathway of ${quickRun ? 'the first structures of ' : ''}the default bundled set (as \`fracflow screen\` imports it; F hops ≤ 5 Å, the 5 shortest), ` +
      'on 2 cores (structures dealt to 2 processes; wall time = the slower). "ms per pathway": the descriptors of one hop (IDPP, 7 Ewald site energies, overlap); the per-structure context is apart. ' +
      '"Iterations": IDPP steps (exact) or force evaluations (fast). The four runs follow one another; on a shared machine their load differs, so compare ms per pathway of neighbouring runs with care (bench/idpp.bench.ts times both modes interleaved on single hops).',
    '',
  );
  out.push(
    '"From CPU time": 2 × pathways / CPU seconds of the two processes — what 2 cores of their own would deliver; on a shared machine the wall time also measures the other processes. ' +
      '"IDPP refused": straight paths through or within 0.01 Å of another atom (fast mode) or a non-finite relaxation; their image descriptors are null with the reason, as are those of an unconverged fast run.',
    '',
  );
  out.push('| mode | pathways | wall s | pathways/s (2 cores, wall) | CPU s | pathways/s (2 cores, from CPU time) | ms per pathway median / mean / p90 | iterations median / mean / p90 | not converged | IDPP refused | ewald_energy null |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const k of ['exact', 'fast', 'exact_perturbed', 'fast_perturbed'] as const) {
    const x = r.modes[k];
    out.push(`| ${k.replace('_', ', ')} | ${x.pathways} | ${f(x.wall_s, 1)} | ${f(x.pathways_per_s_2_cores, 1)} | ${x.cpu_s === undefined ? '–' : f(x.cpu_s, 1)} | ${x.pathways_per_s_2_cores_from_cpu === undefined ? '–' : f(x.pathways_per_s_2_cores_from_cpu, 1)} | ` +
      `${f(x.hop_ms_median, 1)} / ${f(x.hop_ms_mean, 1)} / ${f(x.hop_ms_p90, 1)} | ${f(x.iterations_median, 0)} / ${f(x.iterations_mean, 0)} / ${f(x.iterations_p90, 0)} | ${x.not_converged} of ${x.idpp_runs} | ${x.idpp_refused ?? '–'} | ${x.ewald_null ?? '–'} |`);
  }
  out.push('', '### Agreement of the fast descriptors with the exact ones', '');
  out.push('| descriptor | pathways | Spearman ρ | largest |fast − exact| | at | ρ where both converged (pathways) |', '|---|---:|---:|---:|---|---:|');
  for (const c of COLS) {
    const a = r.agreement[c]!;
    const b = a.both_converged;
    out.push(`| ${c} | ${a.pathways} | ${a.spearman.toFixed(4)} | ${f(a.max_abs_diff, 4)} | ${a.at} | ${b ? `${b.spearman.toFixed(4)} (${b.pathways})` : '–'} |`);
  }
  const rf = r.refusals;
  if (rf) {
    const a = rf.fast_only_at_an_image;
    out.push('', '### Refused straight paths', '');
    out.push(
      'Both modes relax the same straight line (the moving ion from start to end, the host fixed) but refuse by different rules. ' +
        'The exact mode keeps pymatgen\'s: a path is refused only where the relaxation turns non-finite, i.e. where a straight-line image puts the ion on another atom to the last bit ' +
        '(pymatgen returns NaN there); an image 1e-16 Å off the atom, or a line through an atom between the images, is relaxed, and which side of the atom the path then takes follows the rounding. ' +
        'The fast mode refuses every straight path that comes within 0.01 Å of another atom, at an image or between images (src/analysis/hop-images.ts, FAST_MIN_PATH_DISTANCE_ANG). ' +
        `Here: exact ${rf.exact}, fast ${rf.fast}; refused by both ${rf.both}, by the exact mode alone ${rf.exact_only}. ` +
        `The fast mode's other ${rf.fast - rf.both}: an image on the atom that the exact mode relaxes (${a.distance_0} at distance 0 in the fast mode's supercell and not in the exact mode's, ${a.below_1e_12} below 1e-12 Å, ${a.below_0_01} below 0.01 Å), ` +
        `and ${rf.fast_only_between_images} lines through an atom between the images. ` +
        `With every coordinate moved by ${r.perturbation.amplitude_ang} Å the exact mode refuses ${r.modes.exact_perturbed.idpp_refused ?? '–'} paths (the images leave the atoms by a few ulps) and the fast mode ${r.modes.fast_perturbed.idpp_refused ?? '–'}. ` +
        'Refusing them in the exact mode too would change the DDI numbers it reproduces; relaxing them in the fast mode would make its descriptors follow the rounding of the input (see "Spread" below). ' +
        'test/analysis/descriptors-idpp-fast.test.ts pins one case of each kind.',
    );
  }
  out.push('', `### Spread under a ${r.perturbation.amplitude_ang} Å perturbation`, '');
  out.push(`Every Cartesian coordinate moved by a uniform ±${r.perturbation.amplitude_ang} Å (seed ${r.perturbation.seed} + structure index), descriptors recomputed; "moved" = pathways where a descriptor changed by more than ${r.perturbation.tolerance}. "Converged" counts only pathways whose IDPP converged in both runs (the exact mode's 1000-step cap ends ${r.modes.exact.not_converged} of its ${r.modes.exact.idpp_runs} runs).`, '');
  out.push('| mode | pathways | moved > 1e-4 | max Δ ewald_energy | max Δ overlap cations (Å) | max Δ overlap anions (Å) |', '|---|---:|---:|---:|---:|---:|');
  for (const k of ['exact', 'fast'] as const) {
    for (const which of ['all', 'converged'] as const) {
      const x = r.reproducibility[k][which];
      out.push(`| ${k}, ${which} | ${x.compared} | ${x.moved_beyond_1e_4} | ${e(x.ewald_energy.max_abs_diff)} | ${e(x.ionic_radii_overlap_cations.max_abs_diff)} | ${e(x.ionic_radii_overlap_anions.max_abs_diff)} |`);
    }
  }
  const t = r.targets;
  const judge = (ok: boolean) => (quickRun ? 'not judged in quick mode' : ok ? 'met' : '**not met**');
  const minRho = Math.min(...COLS.map((c) => r.agreement[c]!.spearman));
  const fast = r.modes.fast;
  const fr = r.reproducibility.fast.converged;
  out.push('', '### Against the targets', '');
  out.push(`- Spearman ≥ ${t.spearman} for ewald_energy and both overlaps: lowest ${minRho.toFixed(4)} — ${judge(minRho >= t.spearman)}.`);
  const cpuRate = fast.pathways_per_s_2_cores_from_cpu;
  out.push(`- Descriptors ≥ ${t.fast_pathways_per_s_2_cores} pathways/s on 2 cores in fast mode: ${f(fast.pathways_per_s_2_cores, 1)} by the wall clock of this shared machine` +
    `${cpuRate === undefined ? '' : `, ${f(cpuRate, 1)} from the CPU time (2 cores of its own)`} (exact ${f(r.modes.exact.pathways_per_s_2_cores, 1)}` +
    `${r.modes.exact.pathways_per_s_2_cores_from_cpu === undefined ? '' : ` and ${f(r.modes.exact.pathways_per_s_2_cores_from_cpu, 1)}`}) — ` +
    `${quickRun ? 'not judged in quick mode' : cpuRate === undefined ? judge(fast.pathways_per_s_2_cores >= t.fast_pathways_per_s_2_cores) : `by wall clock ${judge(fast.pathways_per_s_2_cores >= t.fast_pathways_per_s_2_cores)}, from CPU time ${judge(cpuRate >= t.fast_pathways_per_s_2_cores)}`}. ` +
    `The IDPP needs ${f(r.modes.exact.iterations_mean / fast.iterations_mean, 1)}× fewer iterations on average (median ${f(r.modes.exact.iterations_median, 0)} → ${f(fast.iterations_median, 0)}); ` +
    'a fast force evaluation runs its pair loop two lanes at a time (f64x2 over structure-of-arrays images, tie terms in their row\'s lanes) and searches the pair images of static pairs once. ' +
    'The convergence measure, not a step cap, ends a fast run (tol 1e-9 on Σ|Δ objective|, gtol 1e-5): measured on 547 pathways, tol 1e-7 would save a third of the force evaluations but moves one pathway\'s overlap by 1.2e-4 Å.');
  out.push(`- Fast descriptors within ${t.reproducibility} under a ${r.perturbation.amplitude_ang} Å perturbation: ${fr.moved_beyond_1e_4} of ${fr.compared} converged pathways move by more (all pathways: ${r.reproducibility.fast.all.moved_beyond_1e_4} of ${r.reproducibility.fast.all.compared}; exact mode: ${r.reproducibility.exact.all.moved_beyond_1e_4} of ${r.reproducibility.exact.all.compared}) — ${judge(fr.moved_beyond_1e_4 === 0)}. ` +
    `${r.reproducibility.fast.all.null_in_one_run_only === undefined ? `Pathways with a null descriptor in one run and a number in the other are not in these counts (fast: ${r.modes.fast.ewald_null} null ewald_energy, ${r.modes.fast_perturbed.ewald_null} perturbed; ${r.modes.fast.not_converged} and ${r.modes.fast_perturbed.not_converged} unconverged runs). ` : `${r.reproducibility.fast.all.null_in_one_run_only} pathways have a null descriptor in one run and a number in the other (a run that converged only once). `}` +
    'A fast run refuses a straight path that runs through or within 0.01 Å of another atom (the objective is singular there) and describes only a converged band; the supercell is built on the shortest-vector basis, so the cell setting does not change it (test/analysis/descriptors-idpp-fast.test.ts).');
  out.push('');
  return out;
}

export const order = 42;

export function section(): string[] {
  const r = readJson<Result>(join(benchDir, 'results', 'idpp-modes.json'));
  return r ? modesSection(r) : [];
}
