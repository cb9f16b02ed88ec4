/**
 * What happens in a run, as typed lifecycle events (`EngineOptions.events`), and where the engine's
 * own warnings go (`EngineOptions.logger`). An error the engine meets is either handled (and then an
 * event says so) or reported (a warning, or the run ends with it); none is dropped.
 */
import type { TaskHalt } from './worker.js';

export type EngineEvent =
  /** Rows claimed for this holder. */
  | { type: 'claim'; stage: string; rows: number; batches: number }
  /** A finished batch written: rows done and rows whose work threw (an attempt each). */
  | { type: 'complete'; stage: string; done: number; failed: number }
  /** Every row of a batch failed with one error thrown outside the work function (an attempt each). */
  | { type: 'fail'; stage: string; rows: number; error: string }
  /** A batch that ended without a result (its thread died, it ran past its lease): a death for each row. */
  | { type: 'death'; stage: string; rows: number; reason: string }
  /** Rows whose lease had expired, taken back by a sweep: back to pending, or failed after too many deaths. */
  | { type: 'lease-expired'; stage: string; returned: number; failed: number }
  /** Rows given back unrun (a stop, a halt, a batch ended with another): no attempt counted. */
  | { type: 'release'; stage: string; rows: number; why: 'stop' | 'halt' | 'collateral' }
  /** A stage stopped by its environment (a full disk, a forbidden path). */
  | { type: 'halt'; stage: string; halt: TaskHalt }
  /** A drained stage's admission cutoff widened. */
  | { type: 'broaden'; stage: string; cutoff: string; from: number; to: number; admitted: number }
  /** A worker count changed while running (`fracflow scale`). */
  | { type: 'scale'; stage: string; from: number; to: number }
  /** A learned priority refitted on the finished target rows and swapped in (see learned-priority.ts). */
  | { type: 'priority-fit'; stage: string; rows: number; r2: number; rmse: number; expression: string }
  /** A priority swapped in by another process or command, adopted. */
  | { type: 'priority'; stage: string; to: unknown }
  /** A stage's threads restarted (a batch past its lease can be ended no other way). */
  | { type: 'pool-restart'; stage: string; reason: string };

/** Where the engine's warnings and errors go. */
export interface Logger {
  warn(message: string): void;
  error(message: string): void;
}

/** Warnings and errors on stderr, prefixed `fracflow:`. */
export const stderrLogger: Logger = {
  warn: (m) => process.stderr.write(`fracflow: warning: ${m}\n`),
  error: (m) => process.stderr.write(`fracflow: error: ${m}\n`),
};
