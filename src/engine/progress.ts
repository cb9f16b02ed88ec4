/**
 * Live progress of a run: one bar per stage redrawn in place on a terminal, plain periodic lines
 * otherwise (logs, CI). No dependency: ANSI cursor-up and erase-line only.
 */
import type { StageStatus } from '../store/sqlite/ops.js';

export type ProgressMode = 'auto' | 'bars' | 'lines' | 'off';

function eta(s: number | null): string {
  if (s === null) return '?';
  if (s < 60) return `${Math.ceil(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(Math.ceil(s % 60)).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** One stage as a plain line: `stage  done/total  failed  running  rows/s  ETA  workers`. */
export function statusLine(s: StageStatus): string {
  const total = s.pending + s.running + s.done + s.failed;
  return `${s.stage}: ${s.done}/${total} done, ${s.failed} failed${s.failedDied ? ` (${s.failedDied} after their worker died)` : ''}, ${s.running} running, ${s.pending} pending, ${s.rowsPerSec.toFixed(1)} rows/s, ETA ${eta(s.etaSec)}, ${s.workers} workers`;
}

/** One stage as a bar of `width` cells. */
export function statusBar(s: StageStatus, nameWidth: number, width = 30): string {
  const total = s.pending + s.running + s.done + s.failed;
  const frac = total === 0 ? 0 : (s.done + s.failed) / total;
  const fill = Math.round(frac * width);
  return `${s.stage.padEnd(nameWidth)} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${String(s.done).padStart(7)}/${total} ` +
    `fail ${s.failed}  run ${s.running}  ${s.rowsPerSec.toFixed(0).padStart(6)} rows/s  ETA ${eta(s.etaSec)}  w=${s.workers}`;
}

export class Progress {
  private readonly mode: 'bars' | 'lines' | 'off';
  private readonly out: NodeJS.WritableStream & { isTTY?: boolean };
  private readonly everyMs: number;
  private lastLines = 0;
  private lastPrint = 0;

  constructor(mode: ProgressMode, out: NodeJS.WritableStream & { isTTY?: boolean }, everyMs: number) {
    this.out = out;
    this.everyMs = everyMs;
    this.mode = mode === 'auto' ? (out.isTTY ? 'bars' : 'lines') : mode;
  }

  /**
   * Would update() print now? The status it prints costs a scan of every stage table, so the caller
   * builds it only when this is true.
   */
  wants(now = Date.now()): boolean {
    return this.mode === 'bars' || (this.mode === 'lines' && now - this.lastPrint >= this.everyMs);
  }

  update(status: StageStatus[], now = Date.now()): void {
    if (this.mode === 'off') return;
    if (this.mode === 'bars') {
      const w = Math.max(...status.map((s) => s.stage.length));
      const up = this.lastLines > 0 ? `\x1b[${this.lastLines}A` : '';
      this.out.write(up + status.map((s) => `\x1b[2K${statusBar(s, w)}\n`).join(''));
      this.lastLines = status.length;
      return;
    }
    if (now - this.lastPrint < this.everyMs) return;
    this.lastPrint = now;
    const stamp = new Date(now).toISOString().slice(11, 19);
    this.out.write(status.map((s) => `[${stamp}] ${statusLine(s)}\n`).join(''));
  }

  /**
   * A line about the run (a halted stage) printed at once, progress or not: bars are redrawn below it.
   */
  note(text: string): void {
    this.out.write(`${text}\n`);
    this.lastLines = 0;
  }

  /** Final state, printed whatever the interval. */
  get enabled(): boolean {
    return this.mode !== 'off';
  }

  finish(status: StageStatus[]): void {
    if (this.mode === 'off') return;
    this.lastPrint = 0;
    this.update(status);
  }
}
