/**
 * The commands on a real PostgreSQL server (test/support/postgres.ts), with a password set: `--db
 * postgres://user:password@host:port/db`, `FRACFLOW_DB`, and the PG* variables with PGPASSWORD and a
 * password file. Everything each command prints (stdout and stderr) is searched for the password —
 * it must appear nowhere, also not in error messages — and the store is named by its URL without it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli, type CliResult } from '../helpers/cli.js';
import { toyModule } from '../engine/fixtures/run.js';
import { postgresBin, skipWithoutPostgres, startPostgres, type PgServer } from '../support/postgres.js';

const skip = skipWithoutPostgres();
let server: PgServer | null = null;
let dir = '';
before(async () => {
  if (skip) return;
  server = await startPostgres();
  dir = mkdtempSync(join(tmpdir(), 'fracflow-pgcli-'));
});
after(() => {
  server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const structure = join(import.meta.dirname, '..', 'fixtures', 'structures', 'CaF2_fluorite_Fm-3m.cif');

/** Run a command and check that nothing it printed holds the password. */
function run(args: string[], env: Record<string, string | undefined> = {}): CliResult {
  const r = runCli(args, { env: { FRACFLOW_DB: undefined, PGPASSWORD: undefined, PGPASSFILE: undefined, PGHOST: undefined, PGPORT: undefined, PGUSER: undefined, PGDATABASE: undefined, ...env } });
  const all = r.stdout + r.stderr;
  assert.ok(!all.includes(server!.password), `fracflow ${args.join(' ')} printed the password:\n${all}`);
  assert.ok(!all.includes(encodeURIComponent(server!.password)), `fracflow ${args.join(' ')} printed the encoded password`);
  return r;
}

test('every command on PostgreSQL names the store without its password: --db URL, FRACFLOW_DB, PG* variables and a password file', { skip, timeout: 5 * 60_000 }, async () => {
  const url = await server!.createDatabase('cli');
  const shown = server!.urlWithoutPassword('cli');
  const imp = run(['import', structure, '--db', url]);
  assert.equal(imp.status, 0, imp.stderr);
  assert.match(imp.stdout, /user\s+\|?\s*1\s/);
  const out = join(dir, 'screen-out');
  const screen = run(['screen', '--input', structure, '--until', 'find_paths', '--out', out, '--progress', 'off', '--workers', '1', '--db', url]);
  assert.equal(screen.status, 0, screen.stderr);
  assert.match(screen.stdout, new RegExp(`store: ${shown.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')};`));
  // FRACFLOW_DB stands for --db.
  const status = run(['status', '--json'], { FRACFLOW_DB: url });
  assert.equal(status.status, 0, status.stderr);
  const rows = JSON.parse(status.stdout) as { stage: string; done: number; failed: number }[];
  assert.deepEqual(rows.map((r) => [r.stage, r.done + r.failed]), [['find_paths', 1]]);
  // The PG* variables with the password in PGPASSWORD, and with a password file.
  const pgenv = { PGHOST: '127.0.0.1', PGPORT: String(server!.port), PGUSER: server!.user, PGDATABASE: 'cli' };
  const viaEnv = run(['export', 'find_paths', '--format', 'csv', '--db', 'postgres://'], { ...pgenv, PGPASSWORD: server!.password });
  assert.equal(viaEnv.status, 0, viaEnv.stderr);
  assert.match(viaEnv.stdout.split('\n')[1]!, /^1,user:/);
  const passfile = join(dir, 'pgpass');
  writeFileSync(passfile, `127.0.0.1:${server!.port}:cli:${server!.user}:${server!.password}\n`);
  chmodSync(passfile, 0o600);
  const viaFile = run(['errors', '--db', shown], { PGPASSFILE: passfile });
  assert.equal(viaFile.status, 0, viaFile.stderr);
  const cp = run(['checkpoint', join(dir, 'cp'), '--db', url]);
  assert.equal(cp.status, 0, cp.stderr);
  assert.ok(readFileSync(join(dir, 'cp', 'find_paths.csv'), 'utf8').includes('user:'));
  for (const args of [['scale', 'find_paths=3'], ['requeue', 'find_paths', '--failed'], ['cleanup', '--older-than', '1d'], ['engine', 'run', '--module', toyModule, '--only', 'square', '--progress', 'off']]) {
    const r = run([...args, '--db', url]);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  const reset = run(['reset', '--yes', '--db', url]);
  assert.equal(reset.status, 0, reset.stderr);
  assert.match(reset.stdout, /dropped 3 stage tables: find_paths, square, pathways|dropped 3 stage tables/);
  // Errors name the store without the password: a wrong password, a database that does not exist.
  const wrong = run(['status', '--db', url.replace(encodeURIComponent(server!.password), 'not-the-password')]);
  assert.equal(wrong.status, 2);
  assert.match(wrong.stderr, new RegExp(`store postgres://${server!.user}@127\\.0\\.0\\.1:${server!.port}/cli: authentication failed`));
  assert.ok(!wrong.stderr.includes('not-the-password'), wrong.stderr);
  const missing = run(['status', '--db', server!.url('nosuchdb')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /store postgres:\/\/fracflow@127\.0\.0\.1:\d+\/nosuchdb: database "nosuchdb" does not exist; create it first \(`createdb`\)/);
  const down = run(['status', '--db', `postgres://${server!.user}:${encodeURIComponent(server!.password)}@127.0.0.1:1/cli`]);
  assert.equal(down.status, 2);
  assert.match(down.stderr, /store postgres:\/\/fracflow@127\.0\.0\.1:1\/cli: cannot connect \(connection refused\)/);
});

test('checkpoint --format pg_dump: a pg_dump of the store that pg_restore reads; the password reaches pg_dump through its environment, never its argv; SQLite and a missing pg_dump refused with the way out', { skip, timeout: 5 * 60_000 }, async () => {
  const url = await server!.createDatabase('dump');
  const bin = postgresBin()!;
  const seeded = run(['engine', 'run', '--module', toyModule, '--only', 'square', '--progress', 'off', '--db', url]);
  assert.equal(seeded.status, 0, seeded.stderr);
  const out = join(dir, 'dump');
  // The real pg_dump (the server's own client programs first on PATH).
  const r = run(['checkpoint', out, '--format', 'pg_dump', '--db', url], { PATH: `${bin}:${process.env['PATH'] ?? ''}` });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), join(out, 'fracflow.dump'));
  assert.equal(readFileSync(join(out, 'fracflow.dump')).subarray(0, 5).toString('latin1'), 'PGDMP');
  const list = spawnSync(join(bin, 'pg_restore'), ['--list', join(out, 'fracflow.dump')], { encoding: 'utf8' });
  assert.equal(list.status, 0, list.stderr);
  for (const t of ['engine_stages', 'engine_attempts', 'square', 'schema_migrations']) assert.match(list.stdout, new RegExp(`TABLE DATA public ${t} `), t);

  // A stand-in pg_dump records what it was given: the URL without the password, which is in PGPASSWORD.
  const stand = join(dir, 'stand-in');
  mkdirSync(stand, { recursive: true });
  writeFileSync(join(stand, 'pg_dump'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${join(stand, 'argv')}"\nprintf '%s' "$PGPASSWORD" > "${join(stand, 'env')}"\nfor a in "$@"; do case "$a" in --file=*) : > "\${a#--file=}";; esac; done\n`);
  chmodSync(join(stand, 'pg_dump'), 0o755);
  const s = run(['checkpoint', join(dir, 'dump2'), '--format', 'pg_dump', '--db', url], { PATH: `${stand}:${process.env['PATH'] ?? ''}` });
  assert.equal(s.status, 0, s.stderr);
  const argv = readFileSync(join(stand, 'argv'), 'utf8');
  assert.ok(!argv.includes(server!.password) && !argv.includes(encodeURIComponent(server!.password)), argv);
  assert.match(argv, new RegExp(`^--dbname=postgres://${server!.user}@127\\.0\\.0\\.1:${server!.port}/dump$`, 'm'));
  assert.equal(readFileSync(join(stand, 'env'), 'utf8'), server!.password);

  // A failing pg_dump: its message, without the password.
  writeFileSync(join(stand, 'pg_dump'), `#!/bin/sh\necho "pg_dump: error: connection to server failed: password $PGPASSWORD rejected" >&2\nexit 1\n`);
  const f = run(['checkpoint', join(dir, 'dump3'), '--format', 'pg_dump', '--db', url], { PATH: `${stand}:${process.env['PATH'] ?? ''}` });
  assert.equal(f.status, 2, f.stderr);
  assert.match(f.stderr, new RegExp(`checkpoint --format pg_dump: pg_dump of postgres://${server!.user}@127\\.0\\.0\\.1:${server!.port}/dump failed \\(exit 1\\): pg_dump: error: connection to server failed: password <password> rejected`));

  // No pg_dump on PATH (node itself given by its absolute path).
  const none = run(['checkpoint', join(dir, 'dump4'), '--format', 'pg_dump', '--db', url], { PATH: join(dir, 'empty-path') });
  assert.notEqual(none.status, 0);
  assert.match(none.stderr, /checkpoint --format pg_dump: pg_dump is not on PATH \(install the PostgreSQL client, e\.g\. apt-get install postgresql-client, or use the default format\)/);

  // An SQLite store.
  const lite = run(['checkpoint', join(dir, 'dump5'), '--format', 'pg_dump', '--db', join(dir, 'x.db')]);
  assert.equal(lite.status, 2, lite.stderr);
  assert.match(lite.stderr, /--format pg_dump: the store \S+x\.db is an SQLite file; pg_dump dumps a PostgreSQL store/);
  const bad = run(['checkpoint', join(dir, 'dump6'), '--format', 'sql', '--db', url]);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /option '--format <format>' argument 'sql' is invalid\. Allowed choices are csv-arrow, pg_dump\./);
});
