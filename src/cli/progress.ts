/**
 * Progress lines of a per-structure command on stderr (never stdout, which may carry JSON): silent for
 * the first `--progress-after` seconds, so quick runs print nothing, then one line per phase of the
 * analysis (`fracflow paths: <phase> (12.3 s)`) and a last line with the total time.
 */
import { InvalidArgumentError, type Command } from 'commander';
import type { ProgressCallback } from '../analysis/progress.js';
import { DEFAULT_MAX_SITES } from '../analysis/site-limit.js';

/** Seconds a command runs silently before its progress lines begin. */
export const DEFAULT_PROGRESS_AFTER_SEC = 2;

export interface ProgressLines {
  /** Pass to the analysis as `onProgress`; undefined when progress is off. */
  onProgress: ProgressCallback | undefined;
  /** Writes the closing line (only if progress lines were shown). */
  finish(): void;
}

/**
 * Progress lines for `command`, shown once `afterSec` seconds have passed (null: never). `out` and
 * `nowMs` are injectable for tests.
 */
export function progressLines(command: string, afterSec: number | null, out: { write(s: string): unknown } = process.stderr, nowMs: () => number = () => performance.now()): ProgressLines {
  if (afterSec === null) return { onProgress: undefined, finish: () => {} };
  const t0 = nowMs();
  let shown = false;
  const elapsed = () => ((nowMs() - t0) / 1000).toFixed(1);
  return {
    onProgress: (e) => {
      if (nowMs() - t0 < afterSec * 1000) return;
      shown = true;
      const count = e.total !== undefined ? ` ${(e.done ?? 0) + 1}/${e.total}` : '';
      out.write(`fracflow ${command}: ${e.phase}${count} (${elapsed()} s)\n`);
    },
    finish: () => {
      if (shown) out.write(`fracflow ${command}: done (${elapsed()} s)\n`);
    },
  };
}

/** Parser of `--max-sites`: a positive integer; the message names the option and the value. */
export function maxSitesOption(v: string): number {
  const x = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(x) || x < 1) throw new InvalidArgumentError(`--max-sites must be a positive integer (sites per structure), got ${JSON.stringify(v)}`);
  return x;
}

/** Parser of `--progress-after`: seconds, ≥ 0; the message names the option and the value. */
export function progressAfterOption(v: string): number {
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < 0) throw new InvalidArgumentError(`--progress-after must be a number of seconds >= 0, got ${JSON.stringify(v)}`);
  return x;
}

/** `--max-sites`, `--progress-after` and `--no-progress` on a per-structure command. */
export function addLargeInputOptions(cmd: Command): Command {
  return cmd
    .option('--max-sites <n>', `refuse structures with more sites than this (default ${DEFAULT_MAX_SITES})`, maxSitesOption, DEFAULT_MAX_SITES)
    .option('--progress-after <seconds>', `print progress lines on stderr once the command has run this long`, progressAfterOption, DEFAULT_PROGRESS_AFTER_SEC)
    .option('--no-progress', 'no progress lines');
}

export interface LargeInputOpts {
  maxSites: number;
  progressAfter: number;
  progress: boolean;
}
