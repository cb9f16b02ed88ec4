/**
 * `fracflow calc`: run the calc stages (src/stages/calc.ts) over the VASP folders the images stage
 * recorded in the `images` table (`key`, `static_dir`, `neb_dir`), until no calc row is left to run.
 */
import { Command, InvalidArgumentError, Option } from 'commander';
import { dbOption, positiveNumber } from '../common.js';
import { Engine } from '../../engine/engine.js';
import { openStore, type CalcRow } from '../../store/sqlite/diffusion.js';
import type { ProgressMode } from '../../engine/progress.js';
import { CALC_INPUT_TABLE, calcStages, type CalcDesign, type CalcFolderSource } from '../../stages/calc.js';
import { trackProcessGroups } from '../../engine/executor.js';
import { formatTable } from '../table.js';
import { SignalStop } from '../signals.js';

interface CalcOpts {
  db: string;
  command?: string;
  timeLimit: number;
  killGrace: number;
  workers: number;
  design: 'static' | 'neb' | 'both';
  progress: ProgressMode;
  json?: boolean;
}

const DIR_COLUMN: Record<CalcDesign, string> = { static: 'static_dir', neb: 'neb_dir' };

function positiveInt(name: string) {
  return (v: string): number => {
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1) throw new InvalidArgumentError(`${name} must be a positive integer, got ${JSON.stringify(v)}`);
    return x;
  };
}

const num = (v: number | null): string => (v === null ? '' : v.toFixed(6));


export function register(program: Command): void {
  program
    .command('calc')
    .description(
      `run an external program (e.g. VASP) in every VASP folder of the ${CALC_INPUT_TABLE} table (columns key, static_dir, neb_dir; or out_dir with vasp_static/ and vasp_neb/), ` +
        'parse the final energies and store barrier = max(E_mid - E_start, E_mid - E_end) in calc_static / calc_neb',
    )
    .argument('[argv...]', 'the program and its arguments after --, run directly without a shell (instead of --command)')
    .option('--command <line>', 'shell command line run by /bin/sh -c in each step folder, e.g. "mpirun -n 16 vasp_std"')
    .option('--time-limit <s>', 'wall-time limit of one run in seconds (the process group is killed past it)', positiveNumber('--time-limit'), 3600)
    .option('--kill-grace <s>', 'seconds between SIGTERM and SIGKILL of a timed-out run', positiveNumber('--kill-grace'), 10)
    .option('--workers <n>', 'runs at a time per design', positiveInt('--workers'), 1)
    .addOption(new Option('--design <design>', 'which prepared folders to run').choices(['static', 'neb', 'both']).default('both'))
    .addOption(new Option('--progress <mode>', 'progress on stderr').choices(['auto', 'bars', 'lines', 'off']).default('off'))
    .option('--json', 'print one JSON object per calc row')
    .addOption(dbOption())
    .action(async (argv: string[], opts: CalcOpts) => {
      if ((opts.command === undefined) === (argv.length === 0)) {
        throw new InvalidArgumentError(`calc: give the program either as --command "<shell line>" or after -- as argv, not ${argv.length ? 'both' : 'neither'}`);
      }
      const command = opts.command ?? argv;
      const wanted: CalcDesign[] = opts.design === 'both' ? ['static', 'neb'] : [opts.design];
      // Check the input contract before the engine creates anything in the store.
      const store = openStore(opts.db);
      let designs: CalcDesign[];
      let folders: CalcFolderSource;
      let upstreamUnfinished = 0;
      try {
        const source = store.calcSource(CALC_INPUT_TABLE);
        const cols = new Set(source.columns);
        if (cols.size === 0) throw new InvalidArgumentError(`calc: ${opts.db} has no ${CALC_INPUT_TABLE} table (run the images stage first; calc reads ${CALC_INPUT_TABLE}(id, key, static_dir, neb_dir))`);
        for (const c of ['id', 'key']) if (!cols.has(c)) throw new InvalidArgumentError(`calc: table ${CALC_INPUT_TABLE} in ${opts.db} has no column ${c}`);
        // The folder columns of the contract win; the images stage's own out_dir is the other layout.
        folders = wanted.some((d) => cols.has(DIR_COLUMN[d])) || !cols.has('out_dir') ? 'columns' : 'out_dir';
        designs = folders === 'out_dir' ? wanted : wanted.filter((d) => cols.has(DIR_COLUMN[d]));
        if (designs.length === 0 || (opts.design !== 'both' && designs.length < wanted.length)) {
          throw new InvalidArgumentError(`calc: table ${CALC_INPUT_TABLE} in ${opts.db} has no column ${wanted.map((d) => DIR_COLUMN[d]).join(' or ')} (--design ${opts.design}) and no out_dir`);
        }
        upstreamUnfinished = source.unfinished ?? 0;
      } catch (e) {
        store.close();
        throw e;
      }
      const stages = calcStages({ command, timeLimitSec: opts.timeLimit, killGraceSec: opts.killGrace, designs, workers: opts.workers, folders });
      let e: Engine;
      try {
        e = await Engine.open({ db: store.queue, stages, progress: opts.progress, tickMs: 250 });
      } catch (err) {
        store.close();
        throw err;
      }
      // A stop (Ctrl-C) ends the worker threads; the programs they started are killed here.
      const groups = trackProcessGroups();
      const stop = new AbortController();
      const signals = new SignalStop(stop);
      signals.hardStop = () => e.abandon();
      // The engine also waits for upstream rows that may never run here (the images stage is not part
      // of this run): stop once no calc row is pending or running.
      let idle: NodeJS.Timeout | null = null;
      try {
        for (const s of stages) await store.queue.scale(s.name, opts.workers);
        const running = e.run({ signal: stop.signal });
        idle = setInterval(() => {
          void Promise.all(stages.map((s) => e.store.counts(s.name))).then((cs) => {
            if (cs.every((c) => c.pending === 0 && c.running === 0)) stop.abort();
          });
        }, 200);
        await running;
        const report: Record<string, CalcRow[]> = {};
        for (const s of stages) report[s.name] = store.calcRows(s.name as 'calc_static' | 'calc_neb');
        if (opts.json) {
          for (const [stage, rows] of Object.entries(report)) for (const r of rows) console.log(JSON.stringify({ stage, ...r }));
        } else {
          for (const [stage, rows] of Object.entries(report)) {
            const done = rows.filter((r) => r.state === 'done').length;
            const failed = rows.filter((r) => r.state === 'failed').length;
            console.log(`${stage}: ${done} done, ${failed} failed, ${rows.length - done - failed} not run`);
            if (rows.length === 0) continue;
            console.log(formatTable(['key', 'state', 'barrier_ev', 'E_start_ev', 'E_mid_ev', 'E_end_ev', 'error'], rows.map((r) => [
              r.key, r.state, num(r.barrier_ev), num(r.energy_start_ev), num(r.energy_mid_ev), num(r.energy_end_ev), (r.last_error ?? '').split('\n')[0]!,
            ])));
          }
        }
        if (stop.signal.aborted && upstreamUnfinished > 0) {
          console.error(`calc: ${upstreamUnfinished} ${CALC_INPUT_TABLE} rows were not finished yet; run calc again after the images stage`);
        }
      } finally {
        if (idle) clearInterval(idle);
        groups.killAll();
        groups.close();
        signals.dispose();
        await e.close();
        store.close();
      }
    });
}
