/**
 * The engine's time: what "now" is, and how it waits. Every timestamp the schedulers give the store
 * (claims, leases, completions, sweeps), every wait (ticks, flushes, lease checks) and the
 * run report's durations go through a {@link Clock}, so the same scheduler code runs on the system clock
 * or on a {@link VirtualClock}, whose time moves only from one timer to the next.
 */
import { performance } from 'node:perf_hooks';

/** A pending wait of a clock (what {@link Clock.setTimer} returns). */
export interface ClockTimer {
  readonly id: number;
}

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  /** Milliseconds for measuring durations (monotonic on the system clock; `now()` on a virtual one). */
  elapsed(): number;
  /** Call `fn` once, `ms` from now (0: after the work already queued). */
  setTimer(fn: () => void, ms: number): ClockTimer;
  clearTimer(t: ClockTimer | null | undefined): void;
}

/** `ms` on a clock, as a promise. */
export function sleep(clock: Clock, ms: number): Promise<void> {
  return new Promise((resolve) => clock.setTimer(resolve, ms));
}

let systemIds = 0;
const systemTimers = new Map<number, { timeout: NodeJS.Timeout } | { immediate: NodeJS.Immediate }>();

/** The machine's clock: Date.now, performance.now, setTimeout (a 0 ms wait is a setImmediate). */
export const systemClock: Clock = {
  now: () => Date.now(),
  elapsed: () => performance.now(),
  setTimer(fn, ms) {
    const id = ++systemIds;
    const run = () => {
      systemTimers.delete(id);
      fn();
    };
    systemTimers.set(id, ms > 0 ? { timeout: setTimeout(run, ms) } : { immediate: setImmediate(run) });
    return { id };
  },
  clearTimer(t) {
    if (!t) return;
    const h = systemTimers.get(t.id);
    if (h === undefined) return;
    systemTimers.delete(t.id);
    if ('timeout' in h) clearTimeout(h.timeout);
    else clearImmediate(h.immediate);
  },
};

/** Epoch ms at which a {@link VirtualClock} starts by default: 2026-01-01T00:00:00Z (any fixed time would do). */
export const VIRTUAL_EPOCH_MS = Date.UTC(2026, 0, 1);

/**
 * A discrete-event clock: time stands still while JavaScript runs, and `drive` moves it to the next
 * timer only once everything already started has settled (the promise jobs drained, then one turn of
 * the event loop). Timers due at the same time fire in the order they were set, so a run driven by it
 * does the same thing every time. Nothing may wait on real I/O meanwhile (the store must answer
 * without the event loop, as the embedded SQLite store does): a wait the clock cannot see would be
 * taken for the end of the work.
 */
export class VirtualClock implements Clock {
  private t: number;
  private seq = 0;
  /** Pending timers ordered by (due time, sequence): a binary heap. */
  private heap: { at: number; seq: number; fn: () => void }[] = [];
  private readonly cancelled = new Set<number>();
  /** Timers fired so far (a measure of the simulation's work). */
  fired = 0;

  constructor(startMs = VIRTUAL_EPOCH_MS) {
    this.t = startMs;
  }

  now(): number {
    return this.t;
  }

  elapsed(): number {
    return this.t;
  }

  setTimer(fn: () => void, ms: number): ClockTimer {
    if (!Number.isFinite(ms)) throw new RangeError(`clock: a wait must be a finite number of ms, got ${ms}`);
    const e = { at: this.t + Math.max(0, ms), seq: ++this.seq, fn };
    this.push(e);
    return { id: e.seq };
  }

  clearTimer(t: ClockTimer | null | undefined): void {
    if (t) this.cancelled.add(t.id);
  }

  /** Pending timers (cancelled ones not counted). */
  get pending(): number {
    return this.heap.length - this.cancelled.size;
  }

  /**
   * Run `work` to its end on this clock: settle, fire the earliest timer (time jumps to it), settle,
   * and so on. Rejects when the work waits and no timer is left (it would never end), or when more than
   * `maxTimers` fire.
   */
  async drive<T>(work: Promise<T>, maxTimers = Number.POSITIVE_INFINITY): Promise<T> {
    let finished = false;
    let value: T;
    let error: unknown;
    let failed = false;
    work.then(
      (v) => {
        finished = true;
        value = v;
      },
      (e) => {
        finished = true;
        failed = true;
        error = e;
      },
    );
    for (;;) {
      await settle();
      if (finished) break;
      const next = this.pop();
      if (!next) throw new Error(`virtual clock: the work waits but no timer is pending (at ${new Date(this.t).toISOString()}): it would never end`);
      if (++this.fired > maxTimers) throw new Error(`virtual clock: more than ${maxTimers} timers fired`);
      this.t = next.at;
      next.fn();
    }
    if (failed) throw error;
    return value!;
  }

  private pop(): { at: number; seq: number; fn: () => void } | null {
    for (;;) {
      const top = this.heap[0];
      if (!top) return null;
      const last = this.heap.pop()!;
      if (this.heap.length > 0) {
        this.heap[0] = last;
        this.down(0);
      }
      if (this.cancelled.delete(top.seq)) continue;
      return top;
    }
  }

  private less(a: { at: number; seq: number }, b: { at: number; seq: number }): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  private push(e: { at: number; seq: number; fn: () => void }): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
      if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m]!, h[i]!];
      i = m;
    }
  }
}

/** Every promise job queued so far run, and those they queue: one macrotask turn (setImmediate). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
