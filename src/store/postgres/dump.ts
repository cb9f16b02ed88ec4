/**
 * `checkpoint --format pg_dump`: PostgreSQL's own dump of the store's database (custom format: one
 * consistent snapshot, restorable with `pg_restore`), made by this host's `pg_dump`. The password never
 * goes into pg_dump's argv (every user of a host can read a process's argv): the URL is given without
 * it, and a password the URL held goes to pg_dump through PGPASSWORD in its environment; without one
 * in the URL, pg_dump finds it where fracflow does (PGPASSWORD, PGPASSFILE, ~/.pgpass).
 */
import { spawnSync } from 'node:child_process';
import { PgStoreError } from './connection.js';
import { redactUrl, scrub } from '../location.js';

/** The URL as pg_dump takes it, without its password, and the password it held (or null). */
export function splitPassword(url: string): { url: string; password: string | null } {
  const text = url.trim().replace(/^postgres(ql)?:(?!\/\/)/i, 'postgresql://');
  let password: string | null = null;
  try {
    const u = new URL(text);
    if (u.password !== '') password = decodeURIComponent(u.password);
    const q = u.searchParams.get('password');
    if (q !== null && q !== '') password ??= q;
  } catch {
    throw new PgStoreError(`checkpoint: ${redactUrl(text)} is not a PostgreSQL URL pg_dump can take`, 'FRACFLOW_BAD_URL');
  }
  return { url: redactUrl(text), password };
}

/** Dump the database at `location` into `file` (custom format). Throws a PgStoreError naming pg_dump and its message. */
export function pgDump(location: string, file: string, env: NodeJS.ProcessEnv = process.env): void {
  const { url, password } = splitPassword(location);
  const secrets = [password ?? undefined, env['PGPASSWORD']];
  const r = spawnSync('pg_dump', ['--format=custom', `--file=${file}`, `--dbname=${url}`], {
    env: { ...env, ...(password !== null ? { PGPASSWORD: password } : {}) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') throw new PgStoreError('checkpoint --format pg_dump: pg_dump is not on PATH (install the PostgreSQL client, e.g. apt-get install postgresql-client, or use the default format)', 'ENOENT');
  if (r.error) throw new PgStoreError(`checkpoint --format pg_dump: pg_dump could not run: ${scrub(r.error.message, secrets)}`, 'EPGDUMP');
  if (r.status !== 0) throw new PgStoreError(`checkpoint --format pg_dump: pg_dump of ${url} failed (exit ${r.status ?? r.signal}): ${scrub(r.stderr.trim(), secrets)}`, 'EPGDUMP');
}
