/**
 * A real single-node Slurm cluster for tests: munged with its own key and socket, slurmctld and slurmd
 * with a slurm.conf generated for this host (its short hostname, its CPU count and memory), every
 * state, spool, pid and log file in a temporary folder, on free loopback ports. Nothing of the host's
 * own Slurm or munge setup is used or touched. `stop()` ends every daemon it started (call it from an
 * after-hook: it runs even when a test failed, and when the start itself failed half-way).
 *
 * Clients (sbatch, squeue, sacct, scancel, sinfo) find the cluster through `env` (SLURM_CONF).
 * Runs as root (slurmd must), which is how this project's machines and CI run.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, hostname, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';

const BINARIES = ['munged', 'slurmctld', 'slurmd', 'sbatch', 'squeue', 'sinfo', 'scancel'];

function which(bin: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin'])) {
    const p = join(dir, bin);
    if (dir && existsSync(p)) return p;
  }
  return null;
}

/**
 * Why the Slurm tests cannot run here, or null when they can. They skip only when the binaries are
 * absent and CI is not set: in CI (`.ci/run` installs slurm-wlm and munge) a missing binary fails.
 */
export function slurmSkipReason(): string | null {
  const missing = BINARIES.filter((b) => which(b) === null);
  if (missing.length === 0) {
    if (process.getuid?.() !== 0) return process.env['CI'] ? null : 'Slurm tests need root (slurmd)';
    return null;
  }
  if (process.env['CI']) return null;
  return `Slurm binaries not installed (${missing.join(', ')}): apt-get install slurm-wlm munge`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export interface SlurmCluster {
  /** The temporary folder holding config, state, logs. */
  dir: string;
  conf: string;
  partition: string;
  node: string;
  cpus: number;
  /** Environment for the Slurm clients (SLURM_CONF set). */
  env: NodeJS.ProcessEnv;
  /** Run a Slurm client; throws with its stderr when it fails. */
  client(cmd: string, args: readonly string[]): string;
  /** The daemons' logs (for a failing test's message). */
  logs(): string;
  stop(): Promise<void>;
}

/** Start munged, slurmctld and slurmd; resolves once `sinfo` shows the node idle. */
export async function startSlurm(options: { timeoutMs?: number } = {}): Promise<SlurmCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-slurm-'));
  const children: ChildProcess[] = [];
  const pidFiles: string[] = [];
  const node = hostname().split('.')[0]!;
  const ncpu = cpus().length;
  // Leave the OS some memory; Slurm only books it.
  const memMb = Math.max(256, Math.floor(totalmem() / 1024 / 1024) - 1024);
  const partition = 'fftest';
  const sock = join(dir, 'munge', 'munge.socket');
  const conf = join(dir, 'slurm.conf');
  const env: NodeJS.ProcessEnv = { ...process.env, SLURM_CONF: conf };
  const log = (name: string) => join(dir, 'log', `${name}.log`);
  const stop = async () => {
    // slurmctld and slurmd first (they talk to munged on the way out), then munged.
    for (const pf of [...pidFiles].reverse()) {
      try {
        const pid = Number(readFileSync(pf, 'utf8').trim());
        if (pid > 0) process.kill(pid, 'SIGTERM');
      } catch {
        // Not started, or gone.
      }
    }
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGTERM');
    const t0 = Date.now();
    const alive = () => pidFiles.some((pf) => {
      try {
        const pid = Number(readFileSync(pf, 'utf8').trim());
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    }) || children.some((c) => c.exitCode === null && c.signalCode === null);
    while (alive() && Date.now() - t0 < 10_000) await new Promise((r) => setTimeout(r, 100));
    for (const pf of pidFiles) {
      try {
        process.kill(Number(readFileSync(pf, 'utf8').trim()), 'SIGKILL');
      } catch {
        // Gone.
      }
    }
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    // Job processes the cluster started (a test's stand-in program) die with slurmd's steps; the
    // folder goes unless the caller wants to read it.
    if (!process.env['FRACFLOW_KEEP_SLURM']) rmSync(dir, { recursive: true, force: true });
  };
  const logs = () =>
    ['munged', 'slurmctld', 'slurmd']
      .map((n) => {
        try {
          return `--- ${n} ---\n${readFileSync(log(n), 'utf8').split('\n').slice(-30).join('\n')}`;
        } catch {
          return `--- ${n}: no log ---`;
        }
      })
      .join('\n');
  try {
    for (const d of ['munge', 'state', 'spool', 'log', 'run']) mkdirSync(join(dir, d), { recursive: true, mode: 0o700 });
    // munged: a key of our own (the host's /etc/munge/munge.key may be missing, and this cluster does
    // not need it), its own socket, pid and seed files.
    const key = join(dir, 'munge', 'munge.key');
    writeFileSync(key, randomBytes(1024), { mode: 0o400 });
    chmodSync(join(dir, 'munge'), 0o700);
    const mungePid = join(dir, 'run', 'munged.pid');
    pidFiles.push(mungePid);
    // In the foreground, a child of this process: stopped and reaped here (a daemonised munged would be
    // left a zombie where nothing reaps orphans).
    const m = spawn(which('munged')!, ['--foreground', '--force', `--key-file=${key}`, `--socket=${sock}`, `--pid-file=${mungePid}`, `--log-file=${log('munged')}`, `--seed-file=${join(dir, 'munge', 'seed')}`, '--num-threads=2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let mungeErr = '';
    m.stderr!.on('data', (b: Buffer) => (mungeErr += b.toString()));
    children.push(m);
    const tm = Date.now();
    while (!existsSync(sock)) {
      if (m.exitCode !== null || Date.now() - tm > 10_000) throw new Error(`munged did not start (exit ${m.exitCode}): ${mungeErr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    const [ctldPort, dPort] = [await freePort(), await freePort()];
    const ctldPid = join(dir, 'run', 'slurmctld.pid');
    const dPid = join(dir, 'run', 'slurmd.pid');
    writeFileSync(conf, [
      'ClusterName=fracflowtest',
      `SlurmctldHost=${node}(127.0.0.1)`,
      'SlurmUser=root',
      'SlurmdUser=root',
      'AuthType=auth/munge',
      'CredType=cred/munge',
      `AuthInfo=socket=${sock}`,
      `SlurmctldPort=${ctldPort}`,
      `SlurmdPort=${dPort}`,
      `StateSaveLocation=${join(dir, 'state')}`,
      `SlurmdSpoolDir=${join(dir, 'spool')}`,
      `SlurmctldPidFile=${ctldPid}`,
      `SlurmdPidFile=${dPid}`,
      `SlurmctldLogFile=${log('slurmctld')}`,
      `SlurmdLogFile=${log('slurmd')}`,
      'SlurmctldDebug=info',
      'SlurmdDebug=info',
      'ProctrackType=proctrack/linuxproc',
      'TaskPlugin=task/none',
      'SelectType=select/cons_tres',
      'SelectTypeParameters=CR_Core',
      'SchedulerType=sched/backfill',
      'MpiDefault=none',
      'JobAcctGatherType=jobacct_gather/none',
      'AccountingStorageType=accounting_storage/none',
      'JobCompType=jobcomp/none',
      'ReturnToService=2',
      // Finished jobs stay visible to squeue (there is no accounting database here for sacct).
      'MinJobAge=600',
      'MaxArraySize=1001',
      // Time limits are enforced within seconds, not the default half minute.
      'KillWait=2',
      'OverTimeLimit=0',
      'InactiveLimit=0',
      'SchedulerParameters=sched_interval=2',
      `NodeName=${node} NodeAddr=127.0.0.1 CPUs=${ncpu} RealMemory=${memMb} State=UNKNOWN`,
      `PartitionName=${partition} Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
      '',
    ].join('\n'));
    const start = (bin: string, args: string[]) => {
      const c = spawn(which(bin)!, args, { env, stdio: ['ignore', 'ignore', 'pipe'], detached: false });
      let err = '';
      c.stderr!.on('data', (b: Buffer) => (err += b.toString()));
      c.on('exit', (code) => {
        if (code !== 0 && code !== null) writeFileSync(join(dir, 'log', `${bin}.exit`), `exit ${code}: ${err}`);
      });
      children.push(c);
    };
    pidFiles.push(dPid, ctldPid);
    // -D: in the foreground, children of this process; -i: ignore state left by an earlier run.
    start('slurmctld', ['-D', '-i', '-f', conf]);
    start('slurmd', ['-D', '-f', conf, '-N', node]);
    const t0 = Date.now();
    const limit = options.timeoutMs ?? 60_000;
    for (;;) {
      const r = spawnSync(which('sinfo')!, ['-h', '-N', '-o', '%T'], { env, encoding: 'utf8' });
      if (r.status === 0 && /^idle/m.test(r.stdout)) break;
      if (Date.now() - t0 > limit) throw new Error(`Slurm node not idle after ${limit} ms (sinfo: ${r.stdout.trim() || r.stderr.trim()})\n${logs()}`);
      await new Promise((res) => setTimeout(res, 300));
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    dir, conf, partition, node, cpus: ncpu, env, logs, stop,
    client: (cmd, args) => {
      const r = spawnSync(which(cmd)!, args, { env, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}): ${r.stderr}`);
      return r.stdout;
    },
  };
}
