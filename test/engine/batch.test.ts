/**
 * Batch scripts and scheduler output without a scheduler: the sbatch and PBS scripts `launch` writes
 * (the PBS one checked against the directives PBS Professional documents for qsub), every validation
 * branch of a launch and of the calc stage's batch executor options (messages naming the option and
 * the value), no password in anything a job carries, and the parsers of squeue and qstat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  batchJobOfEnv, checkLaunch, describeStates, formatWall, LaunchError, liveTasks, parseQstat, parseSqueue, pbsScript, slurmScript,
  storeLocationForJobs, wallSeconds, type LaunchSpec,
} from '../../src/engine/batch.js';
import { calcStages, CalcError } from '../../src/stages/calc.js';
import { executorFor } from '../../src/engine/batch-executor.js';
import { localExecutor } from '../../src/engine/executor.js';

const base: LaunchSpec = {
  scheduler: 'slurm', stage: 'find_paths', workers: 4, cpusPerWorker: 8, time: '02:30:00', partition: 'compute', account: 'chem-123',
  db: '/shared/screens/f.db', outDir: '/shared/screens/jobs', node: '/opt/node/bin/node', entry: ['/opt/fracflow/dist/src/cli/index.js'],
};

test('slurmScript: a job array of fracflow workers with the directives asked for', () => {
  const s = slurmScript({ ...base, maxRows: 500, idleExit: '10m' });
  assert.equal(s.split('\n')[0], '#!/bin/bash');
  const directives = s.split('\n').filter((l) => l.startsWith('#SBATCH'));
  assert.deepEqual(directives, [
    '#SBATCH --job-name=ff-find_paths',
    '#SBATCH --array=0-3',
    '#SBATCH --ntasks=1',
    '#SBATCH --cpus-per-task=8',
    '#SBATCH --time=02:30:00',
    '#SBATCH --partition=compute',
    '#SBATCH --account=chem-123',
    '#SBATCH --output=/shared/screens/jobs/find_paths-%A_%a.log',
  ]);
  // sbatch reads directives only before the first command.
  const firstCommand = s.split('\n').findIndex((l) => l !== '' && !l.startsWith('#'));
  assert.ok(s.split('\n').slice(firstCommand).every((l) => !l.startsWith('#SBATCH')));
  assert.match(s, /^exec '\/opt\/node\/bin\/node' '\/opt\/fracflow\/dist\/src\/cli\/index\.js' worker --db '\/shared\/screens\/f\.db' --stage 'find_paths' --threads 8 --max-rows 500 --idle-exit '10m'$/m);
  assert.doesNotMatch(slurmScript({ ...base, partition: undefined, account: undefined }), /--partition|--account/);
});

/**
 * The qsub directives of PBS Professional (User's Guide, "Submitting a PBS Job" and the qsub reference):
 * `#PBS` lines before the first executable line; -N a name starting with a letter, at most 236
 * characters, no whitespace; -l select=<chunks>:ncpus=<n>; -l walltime=[[hh:]mm:]ss; -J X-Y[:Z] with
 * X < Y (an array has at least two subjobs); -q a queue; -A an account; -j oe; -o a path.
 */
function checkPbsDirectives(script: string): Map<string, string[]> {
  const lines = script.split('\n');
  assert.equal(lines[0], '#!/bin/bash');
  const firstCommand = lines.findIndex((l, i) => i > 0 && l !== '' && !l.startsWith('#'));
  assert.ok(firstCommand > 0);
  assert.ok(lines.slice(firstCommand).every((l) => !l.startsWith('#PBS')), 'a directive after the first command is ignored by qsub');
  const seen = new Map<string, string[]>();
  for (const l of lines.slice(1, firstCommand).filter((x) => x.startsWith('#PBS'))) {
    const m = /^#PBS -([A-Za-z]) (\S+)$/.exec(l);
    assert.ok(m, `directive ${JSON.stringify(l)} is "#PBS -<option> <value>"`);
    const [, opt, value] = m;
    switch (opt) {
      case 'N':
        assert.match(value!, /^[A-Za-z][^\s]{0,235}$/, l);
        break;
      case 'l':
        assert.match(value!, /^(select=\d+(:[a-z_]+=[A-Za-z0-9_.]+)+|walltime=(\d+:)?(\d+:)?\d+)$/, l);
        break;
      case 'J': {
        const r = /^(\d+)-(\d+)(:\d+)?$/.exec(value!);
        assert.ok(r && Number(r[1]) < Number(r[2]), l);
        break;
      }
      case 'q':
      case 'A':
        assert.match(value!, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, l);
        break;
      case 'j':
        assert.match(value!, /^(oe|eo|n)$/, l);
        break;
      case 'o':
        assert.match(value!, /^\/\S+$/, l);
        break;
      default:
        assert.fail(`qsub has no directive -${opt} in this script's set: ${l}`);
    }
    seen.set(opt!, [...(seen.get(opt!) ?? []), value!]);
  }
  return seen;
}

test('pbsScript: the PBS equivalent, checked against the documented qsub directives', () => {
  const s = pbsScript({ ...base, scheduler: 'pbs' });
  const d = checkPbsDirectives(s);
  assert.deepEqual(Object.fromEntries(d), {
    N: ['ff-find_paths'], l: ['select=1:ncpus=8', 'walltime=02:30:00'], J: ['0-3'], q: ['compute'], A: ['chem-123'], j: ['oe'], o: ['/shared/screens/jobs/'],
  });
  assert.match(s, /^exec '\/opt\/node\/bin\/node' '\/opt\/fracflow\/dist\/src\/cli\/index\.js' worker --db '\/shared\/screens\/f\.db' --stage 'find_paths' --threads 8$/m);
  // One worker: no array (a PBS array needs two subjobs at least).
  const one = checkPbsDirectives(pbsScript({ ...base, scheduler: 'pbs', workers: 1, partition: undefined, account: undefined }));
  assert.equal(one.has('J'), false);
  assert.equal(one.has('q'), false);
});

test('a launch with a value that cannot go into a script is refused, naming the option and the value', () => {
  const cases: [Partial<LaunchSpec>, RegExp][] = [
    [{ stage: 'Find Paths' }, /--stage must match .*, got "Find Paths"/],
    [{ workers: 0 }, /--workers must be an integer from 1 to 10000, got 0/],
    [{ cpusPerWorker: 2.5 }, /--cpus-per-worker must be an integer from 1 to 1024, got 2.5/],
    [{ time: '2:30' }, /--time must be HH:MM:SS \(e\.g\. 02:00:00\), got "2:30"/],
    [{ time: '01:61:00' }, /--time must be HH:MM:SS \(e\.g\. 02:00:00\), got "01:61:00"/],
    [{ time: '00:00:00' }, /--time must be longer than 00:00:00, got "00:00:00"/],
    [{ partition: 'gpu;rm -rf /' }, /--partition must be a name of letters, digits, _ \. - \(starting with a letter or digit\), got "gpu;rm -rf \/"/],
    [{ account: '$(id)' }, /--account must be a name of letters, digits, _ \. - \(starting with a letter or digit\), got "\$\(id\)"/],
    [{ db: 'relative/f.db' }, /--db must be an absolute path of letters, digits .* got "relative\/f\.db"/],
    [{ db: "/shared/it's.db" }, /--db must be an absolute path .* got "\/shared\/it's\.db"/],
    [{ db: 'postgres://ff:hunter2@db.example:5432/screen' }, /--db: the location a job carries must hold no password \(give it through PGPASSFILE or PGPASSWORD on the nodes\)/],
    [{ db: 'postgres://ff@db.example/screen?options=a b' }, /--db: a URL with whitespace, quotes, \$, % or backslashes cannot go into the job script/],
    [{ outDir: '/shared/my jobs' }, /--out must be an absolute path .* got "\/shared\/my jobs"/],
    [{ outDir: '/shared/../etc' }, /--out must be an absolute path .* got "\/shared\/\.\.\/etc"/],
    [{ node: 'node' }, /node must be an absolute path .* got "node"/],
    [{ entry: ['cli.js'] }, /the fracflow entry must be an absolute path .* got "cli\.js"/],
    [{ maxRows: 0 }, /--max-rows must be an integer from 1 to \d+, got 0/],
    [{ idleExit: 'later' }, /--idle-exit must be a duration such as 90, 30s, 10m or 2h, got "later"/],
    [{ module: 'stages.ts' }, /--module must be an absolute path .* got "stages\.ts"/],
    [{ scheduler: 'lsf' as 'slurm' }, /scheduler must be one of slurm, pbs, got "lsf"/],
  ];
  for (const [change, re] of cases) {
    assert.throws(() => checkLaunch({ ...base, ...change }), (e: unknown) => e instanceof LaunchError && re.test(e.message), JSON.stringify(change));
  }
  // The password is never in the message either.
  assert.throws(() => checkLaunch({ ...base, db: 'postgres://ff:hunter2@h/db' }), (e: unknown) => !(e as Error).message.includes('hunter2'));
  assert.throws(() => storeLocationForJobs('postgres://ff:hunter2@[bad'), (e: unknown) => e instanceof LaunchError && !(e as Error).message.includes('hunter2'));
});

test('storeLocationForJobs: a PostgreSQL URL loses its password (in the authority and as an option); a path is kept', () => {
  const u = storeLocationForJobs('postgres://ff:hunter2@db.example:5432/screen?sslmode=require&password=hunter2');
  assert.equal(u, 'postgres://ff@db.example:5432/screen?sslmode=require');
  assert.doesNotMatch(slurmScript({ ...base, db: u }), /hunter2/);
  assert.equal(storeLocationForJobs('/shared/f.db'), '/shared/f.db');
});

test('wall times, job ids from the environment, squeue and qstat output', () => {
  assert.equal(wallSeconds('01:02:03'), 3723);
  assert.equal(wallSeconds('100:00:00'), 360000);
  assert.equal(formatWall(61), '00:01:01');
  assert.equal(formatWall(3600 * 30 + 0.2), '30:00:01');
  assert.equal(batchJobOfEnv({ SLURM_ARRAY_JOB_ID: '77', SLURM_ARRAY_TASK_ID: '3', SLURM_JOB_ID: '80' }), 'slurm:77_3');
  assert.equal(batchJobOfEnv({ SLURM_JOB_ID: '80' }), 'slurm:80');
  assert.equal(batchJobOfEnv({ PBS_JOBID: '12[4].pbs01' }), 'pbs:12[4].pbs01');
  assert.equal(batchJobOfEnv({}), null);

  const sq = parseSqueue(['77|77_0|RUNNING', '77|77_1|RUNNING', '77|77_2|PENDING', '78|78_0|COMPLETED', '90|90|RUNNING', ''].join('\n'), new Set(['77', '78']));
  assert.equal(describeStates(sq.get('77')), 'PENDING:1 RUNNING:2');
  assert.equal(liveTasks('slurm', sq.get('77')!), 3);
  assert.equal(liveTasks('slurm', sq.get('78')!), 0);
  assert.equal(sq.has('90'), false, 'jobs not recorded are not counted');
  assert.equal(describeStates(undefined), 'gone');

  const qs = parseQstat([
    'Job id            Name             User              Time Use S Queue',
    '----------------  ---------------- ----------------  -------- - -----',
    '12[].pbs01        ff-find_paths    alice                    0 B workq',
    '12[0].pbs01       ff-find_paths    alice             00:01:02 R workq',
    '12[1].pbs01       ff-find_paths    alice                    0 Q workq',
    '12[2].pbs01       ff-find_paths    alice             00:03:00 X workq',
    '13.pbs01          ff-descriptors   alice             00:00:10 R workq',
  ].join('\n'), new Set(['12[].pbs01', '13.pbs01']));
  assert.equal(describeStates(qs.get('12[].pbs01')), 'Q:1 R:1 X:1');
  assert.equal(liveTasks('pbs', qs.get('12[].pbs01')!), 2);
  assert.equal(liveTasks('pbs', qs.get('13.pbs01')!), 1);
});

test('calc executor options: each bad one refused with the option and the value; the stage carries them to its executor', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ executor: 'lsf' }, /calc: executor must be one of local, slurm, pbs, got "lsf"/],
    [{ executor: 'slurm', batch: 'compute' }, /calc: batch must be an object \{ partition\?, account\?, cpus\?, pollSec\? \}, got "compute"/],
    [{ executor: 'slurm', batch: { queue: 'x' } }, /calc: batch\.queue is not an option \(partition, account, cpus, pollSec\)/],
    [{ executor: 'slurm', batch: { partition: 'a b' } }, /calc: batch\.partition must be a name of letters, digits, _ \. - \(starting with a letter or digit\), got "a b"/],
    [{ executor: 'pbs', batch: { account: '-x' } }, /calc: batch\.account must be a name .* got "-x"/],
    [{ executor: 'slurm', batch: { cpus: 0 } }, /calc: batch\.cpus must be an integer from 1 to 4096, got 0/],
    [{ executor: 'slurm', batch: { pollSec: 0 } }, /calc: batch\.pollSec must be a number of seconds above 0 and at most 3600, got 0/],
    [{ executor: 'slurm', queueWaitSec: -1 }, /calc: queueWaitSec must be a positive number, got -1/],
  ];
  for (const [o, re] of cases) assert.throws(() => calcStages({ command: 'vasp_std', ...o } as never), (e: unknown) => e instanceof CalcError && re.test(e.message), JSON.stringify(o));
  const [s] = calcStages({ command: 'vasp_std', designs: ['static'], timeLimitSec: 60, executor: 'slurm', batch: { partition: 'compute', cpus: 16 } });
  assert.deepEqual([s!.params['executor'], s!.params['batch']], ['slurm', { partition: 'compute', cpus: 16 }]);
  // The lease covers two days in the queue for each of the three steps of each of two batches.
  assert.equal(s!.leaseMs, Math.ceil(2 * 3 * (60 + 10 + 1 + 172_800) * 1000 + 60000));
  const [local] = calcStages({ command: 'vasp_std', designs: ['static'] });
  assert.equal(local!.params['executor'], undefined);
  assert.equal(executorFor(local!.params), localExecutor);
  assert.notEqual(executorFor(s!.params), localExecutor);
  assert.equal(executorFor(s!.params), executorFor({ ...s!.params }), 'one executor per setting');
});
