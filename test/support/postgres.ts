/**
 * A real PostgreSQL server for the tests: `initdb` (Debian's /usr/lib/postgresql/<version>/bin) into a
 * temporary directory as the non-root user `postgres` (tests run as root; PostgreSQL refuses root),
 * started on a free loopback port with a password (scram-sha-256 for every connection), stopped and
 * removed by {@link PgServer.stop} — call it from an `after` hook; an exit handler stops a server a
 * crashed test left behind.
 *
 * Without the binaries the PostgreSQL tests skip, except under CI=true, where a missing server fails
 * them (.ci/run installs the `postgresql` package).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The newest installed server's bin directory, or null. */
export function postgresBin(): string | null {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0]!, 'bin') : null;
}

/**
 * `skip` for node:test: a reason string when the binaries are absent and CI is not set; false
 * otherwise (under CI a missing server then fails in {@link startPostgres}).
 */
export function skipWithoutPostgres(): string | false {
  if (postgresBin() !== null) return false;
  return process.env['CI'] ? false : 'PostgreSQL binaries not installed (/usr/lib/postgresql/*/bin; apt-get install postgresql)';
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

const isRoot = process.getuid?.() === 0;

/** Run a server program as `postgres` (when root) and return its output; throw with it on failure. */
function asPostgres(bin: string, program: string, args: readonly string[], allowFail = false): string {
  const cmd = join(bin, program);
  const r = isRoot ? spawnSync('runuser', ['-u', 'postgres', '--', cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  if (r.status !== 0 && !allowFail) throw new Error(`${program} ${args.join(' ')} failed (${r.status ?? r.signal}): ${out}${r.error ? String(r.error) : ''}`);
  return out;
}

export interface PgServer {
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly dataDir: string;
  /** A URL with the password for database `db`. */
  url(db: string): string;
  /** A URL without password (the password comes from PGPASSWORD or a password file). */
  urlWithoutPassword(db: string): string;
  /** Create a database; returns its URL with the password. */
  createDatabase(name: string): Promise<string>;
  /** `pg_ctl restart -m fast`: every connection dropped, the server back on the same port. */
  restart(): void;
  /** Stop the server and remove its directory (idempotent). */
  stop(): void;
}

const running = new Set<PgServer>();
process.on('exit', () => {
  for (const s of running) s.stop();
});

/** initdb + start on a free loopback port. Throws (with initdb's or the server's log) when it cannot. */
export async function startPostgres(): Promise<PgServer> {
  const bin = postgresBin();
  if (!bin) throw new Error('PostgreSQL binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-pg-'));
  const dataDir = join(dir, 'data');
  const password = `pw-${randomBytes(9).toString('base64url')}`;
  const user = 'fracflow';
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`);
  if (isRoot) {
    const ids = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
    const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
    chownSync(dir, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
    chownSync(pwfile, Number(ids.stdout.trim()), Number(gid.stdout.trim()));
  }
  chmodSync(dir, 0o700);
  const port = await freePort();
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    running.delete(server);
    if (existsSync(join(dataDir, 'postmaster.pid'))) asPostgres(bin, 'pg_ctl', ['-D', dataDir, '-m', 'immediate', '-w', 'stop'], true);
    rmSync(dir, { recursive: true, force: true });
  };
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=100`;
  const server: PgServer = {
    port,
    user,
    password,
    dataDir,
    url: (db) => `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`,
    urlWithoutPassword: (db) => `postgres://${user}@127.0.0.1:${port}/${db}`,
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: server.url('postgres') });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return server.url(name);
    },
    restart() {
      asPostgres(bin, 'pg_ctl', ['-D', dataDir, '-m', 'fast', '-w', '-t', '60', '-o', opts, '-l', join(dir, 'log'), 'restart']);
    },
    stop,
  };
  running.add(server);
  try {
    asPostgres(bin, 'initdb', ['-D', dataDir, '-U', user, `--pwfile=${pwfile}`, '-A', 'scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
    asPostgres(bin, 'pg_ctl', ['-D', dataDir, '-w', '-t', '60', '-o', opts, '-l', join(dir, 'log'), 'start']);
  } catch (e) {
    stop();
    throw e;
  }
  return server;
}
