/**
 * What a stage may ask of the engine to run an external program (a DFT code) in a run folder and to
 * read its outputs: the {@link Executor} handed to its work function as `ctx.exec`. The engine owns
 * the processes — their time limit, the kill of the whole process group, the output — and the file
 * access, so the stage holds no process or file code of its own and the same stage runs wherever
 * the executor puts the folders.
 */

/** How a run of a program ended. */
export interface RunOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  elapsedSec: number;
}

export interface RunOptions {
  /** Wall-time limit, s: past it the whole process group gets SIGTERM, then SIGKILL after `killGraceSec`. */
  timeLimitSec: number;
  killGraceSec: number;
  /** Receives stdout and stderr as they come (e.g. an {@link OutputTail}). */
  onOutput?: (chunk: Buffer) => void;
}

/** Runs external programs for a stage's work function (ctx.exec). */
export interface Executor {
  /**
   * Run `command` in `cwd`: a string through `/bin/sh -c`, an argv array directly. Resolves when the
   * program has ended (or was killed at its limit); rejects when it could not start.
   */
  run(command: string | readonly string[], cwd: string, options: RunOptions): Promise<RunOutcome>;
  /** The bytes of the regular file at `path`, or null when there is none. */
  readFile(path: string): Promise<Uint8Array | null>;
  /** Write `bytes` to `path` (replacing it). */
  writeFile(path: string, bytes: Uint8Array): Promise<void>;
  /** Whether `path` is a folder. */
  isDirectory(path: string): Promise<boolean>;
}

/** Keeps the last `cap` bytes written to it. */
export class OutputTail {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly cap: number) {}

  push(b: Buffer): void {
    this.chunks.push(b);
    this.size += b.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0]!.length >= this.cap) this.size -= this.chunks.shift()!.length;
  }

  text(): string {
    const all = Buffer.concat(this.chunks);
    return all.subarray(Math.max(0, all.length - this.cap)).toString('utf8');
  }
}

