/** Is a registered worker gone? Shared by the store backends (their `workers` verb marks stale ones). */
import { hostname } from 'node:os';
import { WORKER_STALE_MS } from './interface.js';

function processGone(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as { code?: string }).code === 'ESRCH';
  }
}

/** Stale: no heartbeat for WORKER_STALE_MS, or a process of this host that no longer exists. */
export function isStale(w: { host: string; pid: number; heartbeatAt: number }, now: number, host = hostname()): boolean {
  return now - w.heartbeatAt > WORKER_STALE_MS || (w.host === host && processGone(w.pid));
}
