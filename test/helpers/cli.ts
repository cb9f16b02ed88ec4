/** Runs the fracflow CLI from source (through tsx) in a child process. */
import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** tsx's loader by its file URL, so a child started in any working directory finds it. */
export const tsxLoader = import.meta.resolve('tsx');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { cwd?: string; input?: string; env?: Record<string, string | undefined> } = {}): CliResult {
  const r = spawnSync(process.execPath, ['--import', tsxLoader, join(repoRoot, 'src', 'cli', 'index.ts'), ...args], {
    cwd: options.cwd ?? repoRoot,
    input: options.input,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '', ...options.env },
    maxBuffer: 256 * 1024 * 1024,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Parse `args` in this process with the given command modules registered on a fresh program
 * (no process start-up, ~1 s under tsx): stdout and commander's output captured; a thrown error
 * gives status 1 and `fracflow: <message>` on stderr.
 */
export async function runCommandsInProcess(modules: readonly { register(program: Command): void }[], args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  let stdout = '', stderr = '';
  const program = new Command().exitOverride().configureOutput({ writeOut: (t) => (stdout += t), writeErr: (t) => (stderr += t) });
  for (const m of modules) m.register(program);
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  }) as typeof process.stdout.write;
  try {
    await program.parseAsync(args, { from: 'user' });
    return { status: 0, stdout, stderr };
  } catch (e) {
    return { status: 1, stdout, stderr: stderr + `fracflow: ${(e as Error).message}\n` };
  } finally {
    process.stdout.write = write;
  }
}
