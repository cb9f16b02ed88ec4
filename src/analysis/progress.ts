/**
 * Progress of a long per-structure analysis: the analysis calls an optional callback at the start of
 * each phase (and per item of a phase that repeats), and the caller decides what to show — the CLI
 * prints lines on stderr once a command has run for a while (src/cli/progress.ts). The analyses are
 * synchronous, so the callback is the only moment anything can be shown while they run.
 */

/** One step of an analysis. */
export interface ProgressEvent {
  /** Phase now starting, e.g. `symmetry (1000 sites)` or `hop descriptors`. */
  phase: string;
  /** For a phase that repeats per item: items finished before this one, and how many there are. */
  done?: number;
  total?: number;
}

/** Receives {@link ProgressEvent}s; must not throw. */
export type ProgressCallback = (event: ProgressEvent) => void;
