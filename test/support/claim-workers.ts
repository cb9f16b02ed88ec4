/**
 * Start claim-worker processes (./claim-worker.ts) over one store, release them at once, and collect
 * their reports: what the multi-process test and the claims benchmark share.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { WorkerReport } from './claim-worker.js';

const workerFile = fileURLToPath(new URL('./claim-worker.ts', import.meta.url));
const tsx = import.meta.resolve('tsx');

interface Running {
  child: ChildProcess;
  ready: Promise<void>;
  done: Promise<WorkerReport>;
}

function start(location: string, tag: string, batchSize: number): Running {
  const child = spawn(process.execPath, ['--import', tsx, workerFile, location, tag, String(batchSize)], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, NODE_OPTIONS: '' } });
  let out = '';
  let err = '';
  let onReady!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<WorkerReport>((resolve, reject) => {
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`claim worker ${tag} exited with ${code}: ${err}`));
      else resolve(JSON.parse(line) as WorkerReport);
    });
  });
  done.catch(() => onReady());
  return { child, ready, done };
}

/** Run `n` workers over the store at `location` (its `claims` stage filled beforehand); resolves with their reports. */
export async function runClaimWorkers(location: string, n: number, batchSize = 64): Promise<WorkerReport[]> {
  const ws = Array.from({ length: n }, (_, k) => start(location, `w${k}`, batchSize));
  try {
    await Promise.all(ws.map((w) => w.ready));
    for (const w of ws) w.child.stdin!.write('go\n');
    return await Promise.all(ws.map((w) => w.done));
  } finally {
    for (const w of ws) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  }
}
