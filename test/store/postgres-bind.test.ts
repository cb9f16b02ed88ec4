/**
 * PostgreSQL's named-parameter binding (src/store/postgres/connection.ts bind): `@name` outside quotes
 * becomes `$n`; inside a string literal or a quoted identifier it is text. The screen's fast IDPP keys
 * end in the literal '@idpp-fast', and the binding once took it for a parameter, so `fracflow screen
 * --db postgres://…` in the default (fast) mode failed with "statement names @idpp, which no parameter
 * gives".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bind } from '../../src/store/postgres/connection.js';

test('regression (parameter names inside string literals): a key template literal stays text, the parameters around it are bound', () => {
  const b = bind(`SELECT u.key || '@idpp-fast' AS key FROM t u WHERE u.x > @min AND u.tag = 'it''s @min' AND "odd@col" = @idpp`, { min: 3, idpp: 'fast' });
  assert.equal(b.text, `SELECT u.key || '@idpp-fast' AS key FROM t u WHERE u.x > $1 AND u.tag = 'it''s @min' AND "odd@col" = $2`);
  assert.deepEqual(b.values, [3, 'fast']);
});

test('bind: one parameter used twice is bound once; a name no parameter gives is refused with its name; positional arrays pass', () => {
  assert.deepEqual(bind('SELECT @a, @b, @a', { a: 1, b: null }), { text: 'SELECT $1, $2, $1', values: [1, null] });
  assert.throws(() => bind('SELECT @missing', { a: 1 }), /statement names @missing, which no parameter gives/);
  assert.deepEqual(bind('SELECT $1', [7]), { text: 'SELECT $1', values: [7] });
});
