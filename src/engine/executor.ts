/**
 * The engine's executor of external programs (Stage work functions get it as `ctx.exec`): each run
 * is the leader of a new process group with its output piped, a time limit after which the whole group
 * gets SIGTERM and then SIGKILL, and the group killed when its leader exits (a background rank left
 * behind goes with it). Running groups are announced on a BroadcastChannel, so the process that runs
 * the engine can kill what is still running when it stops ({@link trackProcessGroups}): a worker
 * thread ended by the engine runs no JavaScript on the way out, and a detached group would outlive it
 * (an orphaned `mpirun` keeps its nodes).
 */
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { BroadcastChannel } from 'node:worker_threads';
import type { Executor, RunOptions, RunOutcome } from '../stage-kit/exec.js';

const GROUPS_CHANNEL = 'fracflow.process-groups';
let announcer: BroadcastChannel | null = null;

function announce(pid: number, running: boolean): void {
  if (!announcer) {
    announcer = new BroadcastChannel(GROUPS_CHANNEL);
    // A worker thread with nothing else to do may end while the channel is open.
    (announcer as unknown as { unref(): void }).unref();
  }
  announcer.postMessage({ pid, running });
}

/** Listens for process groups started in any thread of this process; `killAll` ends those still running. */
export function trackProcessGroups(): { running(): number[]; killAll(signal?: NodeJS.Signals): number[]; close(): void } {
  const live = new Set<number>();
  const ch = new BroadcastChannel(GROUPS_CHANNEL);
  ch.onmessage = (ev) => {
    const m = (ev as MessageEvent).data as { pid: number; running: boolean };
    if (m.running) live.add(m.pid);
    else live.delete(m.pid);
  };
  (ch as unknown as { unref(): void }).unref();
  return {
    running: () => [...live],
    killAll: (signal = 'SIGKILL') => {
      const killed: number[] = [];
      for (const pid of live) {
        try {
          process.kill(-pid, signal);
          killed.push(pid);
        } catch {
          // Already gone.
        }
      }
      live.clear();
      return killed;
    },
    close: () => ch.close(),
  };
}


/**
 * Run `command` in `cwd` as the leader of a new process group, stdout and stderr to `onOutput`. On
 * timeout the group gets SIGTERM, then SIGKILL after the grace time. Resolves when the leader has
 * exited and its output pipes are closed (or one second after its exit, should a descendant that
 * left the group still hold them).
 */
function runCommand(command: string | readonly string[], cwd: string, timeLimitSec: number, killGraceSec: number, onOutput: (b: Buffer) => void): Promise<RunOutcome> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = typeof command === 'string'
      ? spawn('/bin/sh', ['-c', command], { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(command[0]!, command.slice(1), { cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid !== undefined) announce(child.pid, true);
    let timedOut = false;
    let settled = false;
    let killTimer: NodeJS.Timeout | null = null;
    let exitTimer: NodeJS.Timeout | null = null;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, sig);
      } catch {
        // The group is gone already.
      }
    };
    const limit = setTimeout(() => {
      timedOut = true;
      killGroup('SIGTERM');
      killTimer = setTimeout(() => killGroup('SIGKILL'), killGraceSec * 1000);
    }, timeLimitSec * 1000);
    const finish = () => {
      if (settled || exit === null) return;
      settled = true;
      clearTimeout(limit);
      if (killTimer) clearTimeout(killTimer);
      if (exitTimer) clearTimeout(exitTimer);
      // Descendants left behind by a leader that exited (a background rank) go with the group.
      killGroup('SIGKILL');
      if (child.pid !== undefined) announce(child.pid, false);
      child.stdout?.destroy();
      child.stderr?.destroy();
      resolve({ exitCode: exit.code, signal: exit.signal, timedOut, elapsedSec: (Date.now() - t0) / 1000 });
    };
    child.stdout!.on('data', onOutput);
    child.stderr!.on('data', onOutput);
    child.on('error', (e) => {
      if (settled) return;
      settled = true;
      clearTimeout(limit);
      if (killTimer) clearTimeout(killTimer);
      reject(e);
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      exitTimer = setTimeout(finish, 1000);
    });
    child.on('close', (code: number | null, signal: NodeJS.Signals | null) => {
      exit ??= { code, signal };
      finish();
    });
  });
}


/** The executor of this process: programs run here, as children of the worker thread, on this machine's files. */
export const localExecutor: Executor = {
  run: (command: string | readonly string[], cwd: string, o: RunOptions) => runCommand(command, cwd, o.timeLimitSec, o.killGraceSec, o.onOutput ?? (() => undefined)),
  readFile: async (path) => {
    try {
      return (await stat(path)).isFile() ? await readFile(path) : null;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
      throw e;
    }
  },
  writeFile: (path, bytes) => writeFile(path, bytes),
  isDirectory: async (path) => {
    try {
      return (await stat(path)).isDirectory();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return false;
      throw e;
    }
  },
};
