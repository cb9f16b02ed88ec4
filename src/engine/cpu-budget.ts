/**
 * The machine's CPU as a budget shared by every pool of a run: a batch of a CPU-bound stage (one that
 * queues batches in its threads, `queueInThread`) begins its work only while it holds one of `tokens`
 * CPU tokens, so the stages' threads together run at most that many work functions at once instead of
 * oversubscribing the cores (each stage's worker count is then its share: the most it may hold). The
 * default is os.availableParallelism().
 *
 * The budget lives in shared memory ([free tokens, waiting threads]); worker threads take and give
 * back tokens themselves (no round trip through the main thread). A thread that gives a token back
 * while others wait lets one of them take it before it asks again, so a busy stage does not starve the
 * others. Each batch carries a flag saying whether it holds a token: a batch whose thread is ended
 * (a restart, a stop) has its token given back by the main thread, once, from that flag.
 *
 * Batches of stages further down the stage graph go first: a thread waits while a thread of a deeper
 * stage (its `rank`, the stage's depth) waits for a token. Finished rows then leave the pipeline as
 * soon as they can — the first descriptors and images rows of a screen follow its first structures
 * instead of waiting behind the source stage's queued batches — and rows in hand stay few. The cores
 * stay busy all the same: a token that no deeper thread wants goes to the others.
 */
import { availableParallelism } from 'node:os';

// Atomics.waitAsync (Node 16+) is not in the TypeScript library this project targets.
const waitAsync = (Atomics as unknown as { waitAsync(a: Int32Array, i: number, v: number, timeoutMs?: number): { async: boolean; value: Promise<string> | string } }).waitAsync;

const FREE = 0;
const WAITING = 1;
/** Waiting threads per rank from here on: [WAITING_BY_RANK + rank]. */
const WAITING_BY_RANK = 2;
/** Ranks told apart (deeper stages share the last). */
export const CPU_RANKS = 8;
/** The budget's size (tokens in all). */
const SIZE = WAITING_BY_RANK + CPU_RANKS;

/** The shared state of a budget: Int32Array [free, waiting, waiting at rank 0 … CPU_RANKS − 1, size] over a SharedArrayBuffer. */
export type CpuBudgetState = Int32Array;

export function createCpuBudget(tokens: number = availableParallelism()): CpuBudgetState {
  if (!Number.isInteger(tokens) || tokens < 1) throw new RangeError(`cpuBudget must be a positive integer, got ${JSON.stringify(tokens)}`);
  const s = new Int32Array(new SharedArrayBuffer(4 * (SIZE + 1)));
  s[FREE] = tokens;
  s[SIZE] = tokens;
  return s;
}

/** The budget's tokens in all. */
export function cpuTokens(s: CpuBudgetState): number {
  return Atomics.load(s, SIZE);
}

/** A thread of a rank above `rank` waits for a token. */
function deeperWaiting(s: CpuBudgetState, rank: number): boolean {
  for (let r = rank + 1; r < CPU_RANKS; r++) if (Atomics.load(s, WAITING_BY_RANK + r) > 0) return true;
  return false;
}

/**
 * A batch's own flag: 0 while it holds no token, 1 while it holds one, −(1 + rank) while it is counted
 * as waiting at that rank. A thread ended mid-wait
 * (a restart, a stop) leaves it negative, and the main thread takes the batch off the waiting counts
 * from it ({@link giveCpu}); otherwise a count left behind would hold back every shallower stage.
 */
export function tokenFlag(): Int32Array {
  return new Int32Array(new SharedArrayBuffer(4));
}

function tryTake(s: CpuBudgetState): boolean {
  for (;;) {
    const n = Atomics.load(s, FREE);
    if (n <= 0) return false;
    if (Atomics.compareExchange(s, FREE, n, n - 1) === n) return true;
  }
}

/**
 * Wait for a token and mark the batch as holding it. `justGaveBack`: this thread gave one back a moment
 * ago; while others wait, it lets one of them take it first (for up to 20 ms). `rank`: the stage's
 * depth; while a thread of a greater rank waits, this one does not take a token. While it waits, the
 * batch's flag says so (see {@link tokenFlag}).
 */
export async function takeCpu(s: CpuBudgetState, held: Int32Array, justGaveBack: boolean, rank = 0): Promise<void> {
  const r = Math.max(0, Math.min(CPU_RANKS - 1, Math.trunc(rank)));
  if (justGaveBack && Atomics.load(s, WAITING) > 0) {
    const n = Atomics.load(s, FREE);
    if (n > 0) {
      const w = waitAsync(s, FREE, n, 20);
      if (w.async) await w.value;
    }
  }
  Atomics.store(held, 0, -(1 + r));
  Atomics.add(s, WAITING, 1);
  Atomics.add(s, WAITING_BY_RANK + r, 1);
  for (;;) {
    const deeper = deeperWaiting(s, r);
    if (!deeper && tryTake(s)) {
      Atomics.sub(s, WAITING_BY_RANK + r, 1);
      Atomics.sub(s, WAITING, 1);
      Atomics.store(held, 0, 1);
      // Wakes a thread that gave this token back and waits for it to be taken, and threads of lower
      // ranks that let this one go first.
      Atomics.notify(s, FREE);
      return;
    }
    // Behind a deeper thread: woken when a token is taken or given back; the timeout covers a deeper
    // thread that stops waiting without taking one (its batch ended).
    const n = Atomics.load(s, FREE);
    const w = deeper ? waitAsync(s, FREE, n, 5) : waitAsync(s, FREE, 0);
    if (w.async) await w.value;
  }
}

/**
 * Give back the token the batch holds, if it holds one, or take it off the waiting counts if its thread
 * ended while it waited (once: the flag is cleared atomically). True when a token was given back.
 */
export function giveCpu(s: CpuBudgetState, held: Int32Array): boolean {
  for (;;) {
    const v = Atomics.load(held, 0);
    if (v === 0) return false;
    if (Atomics.compareExchange(held, 0, v, 0) !== v) continue;
    if (v < 0) {
      Atomics.sub(s, WAITING_BY_RANK + Math.min(CPU_RANKS - 1, -v - 1), 1);
      Atomics.sub(s, WAITING, 1);
      // Threads of shallower stages held back by it look again.
      Atomics.notify(s, FREE);
      return false;
    }
    Atomics.add(s, FREE, 1);
    Atomics.notify(s, FREE);
    return true;
  }
}

/** Tokens free now (for tests and diagnostics). */
export function freeCpu(s: CpuBudgetState): number {
  return Atomics.load(s, FREE);
}
