/**
 * The stages of the architecture study: the diffusion workflow's shape — find_paths (emits the
 * pathways table) → descriptors → images (the folders of the top pathways) → calc_static (start/mid/end
 * single points in the ≥ 7 Å cell) → calc_neb (relaxed endpoints + 1-image NEB in the ≥ 10 Å cell,
 * admitted while the static barrier is under a cutoff that broadens when the stage drains) — declared
 * with the stage kit, so the engine creates their tables, admits, ranks, claims and broadens them as
 * it does the real ones. Their work runs only under the study's SimRunner, which answers with
 * simulated durations and outputs; a thread that loaded them would refuse to run them.
 *
 * Columns: a pathway's supercell sizes (`atoms_7`, `atoms_10`) come with it from find_paths; the
 * descriptors stage outputs the two cheap descriptors `x1`, `x2` (standardised) and the pathway's
 * dimensionality `dim` (the images stage admits `dim ≥ 1`, as the screen does); the calc stages output
 * `barrier_ev`.
 */
import { configureStage, defineStage, forkStage, type PrioritySpec, type Stage } from '../../stage-kit/stage.js';

const M = import.meta.url;

function simulatedOnly(): never {
  throw new Error('study stage: simulated only (it runs under the study runner, not in worker threads)');
}

/** A long lease: a calculation waits in the pool for its turn and runs for hours of virtual time. */
const CALC_LEASE_MS = 400 * 24 * 3600 * 1000;

export const STUDY_STAGES = ['find_paths', 'descriptors', 'images', 'calc_static', 'calc_neb'] as const;
export type StudyStageName = (typeof STUDY_STAGES)[number];
export const CHEAP_STAGES: readonly StudyStageName[] = ['find_paths', 'descriptors', 'images'];
export const CALC_STAGES: readonly StudyStageName[] = ['calc_static', 'calc_neb'];

/** The hand-written priority of the images and calc_static queues: lowest first descriptor first. */
export const DESCRIPTOR_PRIORITY = '-x1';
/** Admission order (no ranking). */
export const FIFO_PRIORITY = '0';

export interface StudyStageOptions {
  /** Worker slots per stage (fractured mode). */
  workers: Record<StudyStageName, number>;
  /** Priority of the images and calc_static queues. */
  priority: PrioritySpec;
  /** calc_neb admits static barriers ≤ this cutoff (eV) ... */
  nebCutoffEv: number;
  /** ... widened by this step when the stage drains (0: no broadening) ... */
  nebCutoffStepEv: number;
  /** ... up to this. */
  nebCutoffMaxEv: number;
}

const findPaths = defineStage({
  module: M,
  name: 'find_paths',
  input: { columns: { nsites: 'int32' } },
  priority: '-nsites',
  output: { n_pathways: 'int32' },
  emits: { table: 'pathways', columns: { atoms_7: 'int32', atoms_10: 'int32' } },
  work: simulatedOnly,
  batchSize: 16,
});

const descriptors = defineStage({
  module: M,
  name: 'descriptors',
  input: { from: 'pathways', columns: { atoms_7: 'int32', atoms_10: 'int32' } },
  priority: '-atoms_7',
  output: { x1: 'float64', x2: 'float64', dim: 'int32' },
  work: simulatedOnly,
  batchSize: 10,
});

const images = defineStage({
  module: M,
  name: 'images',
  input: { from: 'descriptors', columns: { atoms_7: 'int32', atoms_10: 'int32', x1: 'float64', x2: 'float64' } },
  filter: { sql: 'u.dim >= 1' },
  priority: DESCRIPTOR_PRIORITY,
  output: { files: 'int32' },
  work: simulatedOnly,
  batchSize: 4,
});

const calcStatic = defineStage({
  module: M,
  name: 'calc_static',
  input: { from: 'images', columns: { atoms_7: 'int32', atoms_10: 'int32', x1: 'float64', x2: 'float64' } },
  priority: DESCRIPTOR_PRIORITY,
  output: { barrier_ev: 'float64' },
  work: simulatedOnly,
  batchSize: 1,
  leaseMs: CALC_LEASE_MS,
  retry: { maxAttempts: 1, backoffMs: 0 },
  queueInThread: false,
});

const calcNeb = defineStage({
  module: M,
  name: 'calc_neb',
  input: { from: 'calc_static', columns: { atoms_10: 'int32', static_ev: { type: 'float64', from: 'barrier_ev' }, x1: 'float64', x2: 'float64' } },
  filter: { sql: 'u.barrier_ev <= :maxStaticEv', cutoffs: { maxStaticEv: { initial: 0.5, step: 0.25, max: 1 } } },
  priority: '-static_ev',
  output: { barrier_ev: 'float64' },
  work: simulatedOnly,
  batchSize: 1,
  leaseMs: CALC_LEASE_MS,
  retry: { maxAttempts: 1, backoffMs: 0 },
  queueInThread: false,
});

/** The study's stages, in feed order, with these run settings. */
export function studyStages(o: StudyStageOptions): Stage[] {
  const step = o.nebCutoffStepEv;
  return [
    configureStage(findPaths, { workers: o.workers.find_paths }),
    configureStage(descriptors, { workers: o.workers.descriptors }),
    forkStage(images, { name: 'images', priority: o.priority, workers: o.workers.images }),
    forkStage(calcStatic, { name: 'calc_static', priority: o.priority, workers: o.workers.calc_static }),
    forkStage(calcNeb, {
      name: 'calc_neb',
      workers: o.workers.calc_neb,
      filter: { sql: 'u.barrier_ev <= :maxStaticEv', cutoffs: { maxStaticEv: step > 0 ? { initial: o.nebCutoffEv, step, max: o.nebCutoffMaxEv } : { initial: o.nebCutoffEv } } },
    }),
  ];
}
