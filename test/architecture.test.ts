/**
 * The architecture's rules that are not import edges (those are `npm run depcheck`): SQL is written
 * only under src/store, and each database driver has one importer.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'node:test';

const SRC = join(import.meta.dirname, '..', 'src');

function sources(dir = SRC): { path: string; text: string }[] {
  const out: { path: string; text: string }[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (e.name.endsWith('.ts')) out.push({ path: p.slice(SRC.length + 1), text: readFileSync(p, 'utf8') });
  }
  return out;
}

/** Source text without comments (block and line), keeping string literals. */
function code(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
}

const SQL_STATEMENT = /\b(SELECT\s[\s\S]{0,200}?\sFROM\s|INSERT\s+(OR\s+\w+\s+)?INTO\s|UPDATE\s+["\w$.{}]+\s+SET\s|DELETE\s+FROM\s|CREATE\s+(TEMP\s+)?(TABLE|(UNIQUE\s+)?INDEX|VIEW|TRIGGER)\s|ALTER\s+TABLE\s|DROP\s+(TABLE|INDEX)\s|PRAGMA\s+\w|BEGIN\s+(IMMEDIATE|EXCLUSIVE)|WITH\s+RECURSIVE\s)/;

function sqlLines(text: string): string[] {
  return code(text).split('\n').filter((l) => SQL_STATEMENT.test(l));
}

test('the SQL detector finds statements of every kind and skips comments', () => {
  const planted = [
    "const a = db.prepare('SELECT key FROM t WHERE state = ?');",
    'db.exec(`INSERT OR IGNORE INTO ${t} (key) VALUES (?)`);',
    "run('UPDATE queue SET state = 1');",
    "run('DELETE FROM t');",
    "run('CREATE UNIQUE INDEX i ON t (k)');",
    "run('ALTER TABLE t ADD COLUMN c')",
    "db.pragma; run('PRAGMA journal_mode = WAL')",
    "run('BEGIN IMMEDIATE')",
  ];
  for (const l of planted) assert.equal(sqlLines(l).length, 1, l);
  assert.deepEqual(sqlLines("/* SELECT a FROM t */\n// DELETE FROM t\nconst ok = 'select the stage';"), []);
});

test('no SQL statement is written outside src/store', () => {
  const all = sources();
  assert.ok(all.length > 100, `walked ${all.length} source files`);
  const inStore = all.filter((f) => f.path.startsWith('store/'));
  assert.ok(inStore.some((f) => sqlLines(f.text).length > 0), 'the detector finds the store\'s own SQL');
  const outside = all.filter((f) => !f.path.startsWith('store/')).flatMap((f) => sqlLines(f.text).map((l) => `${f.path}: ${l.trim()}`));
  assert.deepEqual(outside, []);
});

test('each database driver has one importer: better-sqlite3 the SQLite connection module, pg the PostgreSQL backend', () => {
  const importers = (pkg: string) =>
    sources()
      .filter((f) => new RegExp(`from ['"]${pkg}['"]|import\\(['"]${pkg}['"]\\)|require\\(['"]${pkg}['"]\\)`).test(f.text))
      .map((f) => f.path);
  assert.deepEqual(importers('better-sqlite3'), ['store/sqlite/connection.ts']);
  assert.ok(importers('pg').every((p) => p.startsWith('store/postgres/')), importers('pg').join(', '));
});

/** Identifiers written as code in README.md (inline `…` spans and fenced blocks). */
function documentedNames(): Set<string> {
  const readme = readFileSync(join(SRC, '..', 'README.md'), 'utf8');
  const spans = [...readme.matchAll(/```[\s\S]*?```|`[^`]+`/g)].map((m) => m[0]);
  return new Set(spans.flatMap((s) => s.match(/[A-Za-z_$][\w$]*/g) ?? []));
}

test('the library entry point exports the documented API only: every runtime name is written as code in README.md', async () => {
  const api = await import('../src/index.js');
  const names = Object.keys(api);
  assert.ok(names.length > 40, `the entry point exports ${names.length} names`);
  const documented = documentedNames();
  assert.ok(documented.has('readStructure') && documented.has('defineStage'), 'README names the API as code');
  assert.deepEqual(names.filter((n) => !documented.has(n)).sort(), []);
});
