/**
 * Opening a store by location: how a location is read and shown (never with its password), and the
 * refusals of a PostgreSQL database that is not a fracflow store, is older than this fracflow (read
 * only), or was migrated by a newer one.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { openQueue, openQueueStore, openStores } from '../../src/store/index.js';
import { describeLocation, parseLocation, redactUrl, resolveDb, scrub } from '../../src/store/location.js';
import { skipWithoutPostgres, startPostgres, type PgServer } from '../support/postgres.js';
import { PG_LATEST_MIGRATION } from '../../src/store/postgres/migrations.js';

test('a location is an SQLite path or a PostgreSQL URL; what is shown never holds the password', () => {
  assert.deepEqual(parseLocation('runs/a.db'), { kind: 'sqlite', path: 'runs/a.db' });
  assert.deepEqual(parseLocation(':memory:'), { kind: 'sqlite', path: ':memory:' });
  assert.equal(describeLocation('postgres://me:s3cret@db.example:5433/screen'), 'postgres://me@db.example:5433/screen');
  assert.equal(describeLocation('postgresql://me:s3cret@db/screen?sslmode=require&password=s3cret'), 'postgresql://me@db/screen?sslmode=require');
  assert.equal(describeLocation('postgres://me@db/screen'), 'postgres://me@db/screen');
  assert.equal(redactUrl('postgres://me:s3cret@[broken'), 'postgres://<unparsed URL>');
  assert.equal(scrub('failed for postgres://me:s3cret@db: s3cret', ['s3cret']), 'failed for postgres://me:<password>@db: <password>');
  assert.equal(resolveDb(undefined, {}), 'fracflow.db');
  assert.equal(resolveDb(undefined, { FRACFLOW_DB: 'postgres://me@db/x' }), 'postgres://me@db/x');
  assert.equal(resolveDb('mine.db', { FRACFLOW_DB: 'postgres://me@db/x' }), 'mine.db');
  assert.throws(() => openQueueStore('postgres://me:s3cret@db/x'), (e: Error) => e.message === 'store postgres://me@db/x: a PostgreSQL database, and this opens SQLite stores only (open either backend with openQueue or openDashboardStore)');
});

const skip = skipWithoutPostgres();
let server: PgServer | null = null;
before(async () => {
  if (!skip) server = await startPostgres();
});
after(() => server?.stop());

test('PostgreSQL: a database that is not a fracflow store, an older one read-only, and a newer one are refused with the way out', { skip }, async () => {
  const empty = await server!.createDatabase('empty');
  const shown = server!.urlWithoutPassword('empty');
  await assert.rejects(openQueue(empty, { readonly: true }), (e: Error) => e.message === `store ${shown}: not a fracflow store (no schema_migrations table)`);
  // The engine's tables only (a queue opened for writing): the workflow's store, read-only, lacks migration 1.
  await (await openQueue(empty)).close();
  await assert.rejects(openStores(empty, { readonly: true }), (e: Error) => e.message.startsWith(`store ${shown}: schema version ${PG_LATEST_MIGRATION} is older than this fracflow's (it lacks migration 1, structures); run a command that writes to the store`));
  const stores = await openStores(empty);
  assert.equal(await stores.structureCount(), 0);
  await stores.close();
  const c = new pg.Client({ connectionString: empty });
  await c.connect();
  await c.query("INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')");
  await c.end();
  for (const readonly of [false, true]) {
    await assert.rejects(openQueue(empty, { readonly }), (e: Error & { code?: string }) => e.code === 'FRACFLOW_NEW_SCHEMA' && e.message.startsWith(`store ${shown}: it has migration 99 (from the future), newer than this fracflow's ${PG_LATEST_MIGRATION}`));
  }
});
