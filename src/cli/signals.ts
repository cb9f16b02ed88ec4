/**
 * Ctrl-C and SIGTERM for the commands that run the engine: the first signal stops cleanly (claiming
 * ends, the rows in flight go back unrun, the command prints where it stopped and exits with
 * 128 + the signal's number); a second one stops at once: `hardStop` (the engine's `abandon`: results
 * already back written, every row in flight given back) runs, and the process exits.
 */
const SIGNAL_NUMBER: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };
/** How long a second signal waits for the store to take the rows back before the process exits anyway. */
const HARD_STOP_WAIT_MS = 5000;

export class SignalStop {
  /** The exit code of the first signal received (130 for SIGINT, 143 for SIGTERM), or null. */
  exitCode: number | null = null;
  /** Run on the second signal, before the process exits. */
  hardStop: (() => Promise<unknown>) | null = null;
  private readonly onSignal: (sig: NodeJS.Signals) => void;

  constructor(stop: AbortController, err: NodeJS.WritableStream = process.stderr) {
    this.onSignal = (sig) => {
      if (this.exitCode === null) {
        this.exitCode = 128 + (SIGNAL_NUMBER[sig] ?? 0);
        err.write(`\n${sig}: stopping; the rows in flight go back to their queues unrun (${sig === 'SIGINT' ? 'Ctrl-C again' : 'the signal again'} to stop at once)\n`);
        stop.abort();
        return;
      }
      const code = this.exitCode;
      const giveBack = this.hardStop?.() ?? Promise.resolve();
      const timeout = new Promise((r) => setTimeout(r, HARD_STOP_WAIT_MS).unref());
      void Promise.race([giveBack, timeout])
        .then(
          () => err.write(`${sig}: stopped at once; the rows in flight were given back unrun\n`),
          (e: unknown) => err.write(`${sig}: stopped at once; giving the rows in flight back failed (${e instanceof Error ? e.message : String(e)}): the next run takes them back\n`),
        )
        .finally(() => process.exit(code));
    };
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  /**
   * Stop listening. After a first signal the handlers stay: the command is on its way out, and a
   * second signal arriving now still exits with the first one's code, not with Node's default.
   */
  dispose(): void {
    if (this.exitCode !== null) return;
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}
