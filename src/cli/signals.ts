/**
 * Ctrl-C and SIGTERM for the commands that run the engine: the first signal stops cleanly (claiming
 * ends, the rows in flight go back unrun, the command prints where it stopped and exits with
 * 128 + the signal's number); a second one stops at once (`hard` aborts, whose listeners give every
 * row in flight back synchronously) and exits.
 */
const SIGNAL_NUMBER: Record<string, number> = { SIGINT: 2, SIGTERM: 15 };

export class SignalStop {
  /** The exit code of the first signal received (130 for SIGINT, 143 for SIGTERM), or null. */
  exitCode: number | null = null;
  private readonly onSignal: (sig: NodeJS.Signals) => void;

  constructor(stop: AbortController, hard: AbortController, err: NodeJS.WritableStream = process.stderr) {
    this.onSignal = (sig) => {
      if (this.exitCode === null) {
        this.exitCode = 128 + (SIGNAL_NUMBER[sig] ?? 0);
        err.write(`\n${sig}: stopping; the rows in flight go back to their queues unrun (${sig === 'SIGINT' ? 'Ctrl-C again' : 'the signal again'} to stop at once)\n`);
        stop.abort();
        return;
      }
      hard.abort();
      err.write(`${sig}: stopped at once; the rows in flight were given back unrun\n`);
      process.exit(this.exitCode);
    };
    process.on('SIGINT', this.onSignal);
    process.on('SIGTERM', this.onSignal);
  }

  dispose(): void {
    process.off('SIGINT', this.onSignal);
    process.off('SIGTERM', this.onSignal);
  }
}
