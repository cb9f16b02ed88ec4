/**
 * Where a store lives, as the user names it: `--db`, else `FRACFLOW_DB`, else the SQLite default
 * `fracflow.db`. A `postgres://` or `postgresql://` URL (or `postgres:` alone, everything taken from
 * the standard PG* variables) names a PostgreSQL database; anything else is an SQLite file path or
 * `:memory:`.
 *
 * A PostgreSQL password may come from the URL, PGPASSWORD or a password file (PGPASSFILE,
 * ~/.pgpass); it never appears in a store's `location`, a message or a log line: {@link describeLocation}
 * is what every command prints.
 */

/** The SQLite file used when neither `--db` nor `FRACFLOW_DB` names a store. */
export const DEFAULT_DB = 'fracflow.db';

export type StoreLocation =
  | { kind: 'sqlite'; path: string }
  | {
      kind: 'postgres';
      /** The URL as given (may hold a password); for the driver only. */
      url: string;
      /** The same URL with its password taken out: what messages show. */
      display: string;
    };

/** Is `location` a PostgreSQL URL? */
export function isPostgresLocation(location: string): boolean {
  return /^postgres(ql)?:/i.test(location.trim());
}

/** The store named by `--db` (when given), else `FRACFLOW_DB`, else {@link DEFAULT_DB}. */
export function resolveDb(db: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (db !== undefined && db !== '') return db;
  const fromEnv = env['FRACFLOW_DB'];
  return fromEnv !== undefined && fromEnv.trim() !== '' ? fromEnv.trim() : DEFAULT_DB;
}

/**
 * The URL without its password (user, host, port, database and parameters kept), for messages. A
 * `password` query parameter goes too. A text that does not parse as a URL is shown as
 * `postgres://<unparsed URL>` rather than echoed (it might hold a password).
 */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch {
    return 'postgres://<unparsed URL>';
  }
  if (u.password !== '') u.password = '';
  if (u.searchParams.has('password')) u.searchParams.delete('password');
  // `new URL` keeps an empty `user:@` as `user@`: nothing of the password is left.
  return u.toString().replace(/^(postgres(?:ql)?:\/\/[^@/]*):@/i, '$1@');
}

/** Parse a location (see the module comment). */
export function parseLocation(location: string): StoreLocation {
  if (isPostgresLocation(location)) {
    const url = location.trim();
    return { kind: 'postgres', url, display: redactUrl(url) };
  }
  return { kind: 'sqlite', path: location };
}

/** What messages and status lines show for a location: the path, or the URL without its password. */
export function describeLocation(location: string): string {
  const l = parseLocation(location);
  return l.kind === 'sqlite' ? l.path : l.display;
}

/**
 * Take every occurrence of `secrets` (passwords in force) out of a message: the last guard on what a
 * PostgreSQL error may echo back (a server message quoting a connection string).
 */
export function scrub(message: string, secrets: readonly (string | undefined)[]): string {
  let m = message;
  for (const s of secrets) if (s !== undefined && s.length >= 1) m = m.split(s).join('<password>');
  return m;
}
