/**
 * `fracflow errors` as a real process: failed rows grouped by their cause with the key, the
 * structure id and paths moved out of the message (71 disk-full failures that differ only by their
 * path are one group, not 71), and the import errors grouped the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, toyModule } from '../engine/fixtures/run.js';
import { toyRows } from '../engine/fixtures/toy-stages.js';
import { openSql } from '../../src/store/sqlite/diffusion.js';
import { fixturesDir } from '../helpers/reference.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-cli-errors-'));

function ok(r: { status: number | null; stderr: string }) {
  assert.equal(r.status, 0, r.stderr);
}

test('errors: failures that differ only by key or path form one group, with example keys and paths', () => {
  const dir = tmp();
  const db = join(dir, 'e.db');
  const rows = join(dir, 'rows.jsonl');
  writeFileSync(rows, toyRows(1, 81).map((r) => JSON.stringify(r)).join('\n') + '\n');
  ok(cli(['engine', 'enqueue', '--module', toyModule, 'flaky', rows, '--db', db]));
  const sql = openSql(db);
  const fail = (key: string, message: string) => sql.run("UPDATE flaky SET state = 'failed', attempts = 1, last_error = ? WHERE key = ?", [message, key]);
  // 71 rows out of disk space, each naming its own key and its own folder; 4 rows with a cause that
  // differs by a number (not a placeholder: a different value is a different cause); one without a message.
  for (let x = 1; x <= 71; x++) fail(`k${x}`, `k${x}: Error: ENOSPC: no space left on device, write '${dir}/out/images/k${x}-0a1b/vasp_neb/relax_start/POSCAR'`);
  for (const x of [72, 73]) fail(`k${x}`, `bad input x=${x}`);
  fail('k74', 'bad input x=74');
  fail('k75', 'bad input x=74');
  sql.run("UPDATE flaky SET state = 'failed', attempts = 2, last_error = NULL WHERE key = 'k76'");
  sql.close();

  const r = cli(['errors', 'flaky', '--db', db]);
  ok(r);
  const lines = r.stdout.trimEnd().split('\n');
  assert.equal(lines[0], "flaky: 71 rows (up to 1 attempts): <key>: Error: ENOSPC: no space left on device, write '<path>'");
  assert.equal(lines[1], '  e.g. k1, k2, k3');
  assert.equal(lines[2], `  paths: ${[1, 2, 3].map((x) => `${dir}/out/images/k${x}-0a1b/vasp_neb/relax_start/POSCAR`).join(', ')}`);
  assert.match(r.stdout, /^flaky: 2 rows \(up to 1 attempts\): bad input x=74\n {2}e\.g\. k74, k75$/m);
  assert.match(r.stdout, /^flaky: 1 rows \(up to 1 attempts\): bad input x=72\n {2}e\.g\. k72$/m);
  assert.match(r.stdout, /^flaky: 1 rows \(up to 2 attempts\): \(no message\)\n {2}e\.g\. k76$/m);
  assert.equal(lines.filter((l) => !l.startsWith(' ')).length, 5, r.stdout);

  const json = JSON.parse(cli(['errors', '--json', '--db', db]).stdout) as { stage: string; rows: number; paths: string[]; examples: string[] }[];
  assert.deepEqual(json.map((g) => [g.stage, g.rows]), [['flaky', 71], ['flaky', 2], ['flaky', 1], ['flaky', 1], ['flaky', 1]]);
  assert.equal(json[0]!.paths.length, 3);
  assert.equal(json.reduce((n, g) => n + g.rows, 0), 76);
});

test('errors: import errors are listed too, grouped per dataset by cause with the file and line moved out', () => {
  const dir = tmp();
  const db = join(dir, 'i.db');
  const data = join(dir, 'data');
  mkdirSync(data);
  copyFileSync(join(fixturesDir, 'structures', 'CaF2_fluorite_Fm-3m.cif'), join(data, 'CaF2.cif'));
  for (const name of ['a.cif', 'b.cif', 'c.cif']) writeFileSync(join(data, name), `# ${name}\n\nhello\n`);
  writeFileSync(join(data, 'd.cif'), 'data_d\n_cell_length_a 5\n');
  const imp = cli(['import', data, '--db', db]);
  assert.equal(imp.status, 1, imp.stderr);

  const r = cli(['errors', '--db', db]);
  ok(r);
  assert.equal(
    r.stdout,
    `import_errors (user): 3 inputs: <file>:<line>: "hello" appears before the first data_ block\n` +
      `  e.g. user:${data}/a.cif, user:${data}/b.cif, user:${data}/c.cif\n` +
      `  files: ${data}/a.cif, ${data}/b.cif, ${data}/c.cif\n` +
      `import_errors (user): 1 input: <file>:<line>: no data block has an atom-site loop (_atom_site_fract_x ...); blocks: data_d\n` +
      `  e.g. user:${data}/d.cif\n` +
      `  files: ${data}/d.cif\n`,
  );
  const only = cli(['errors', 'import_errors', '--db', db, '--json']);
  ok(only);
  const groups = JSON.parse(only.stdout) as Record<string, unknown>[];
  assert.deepEqual(groups[0], {
    stage: 'import_errors',
    dataset: 'user',
    message: '<file>:<line>: "hello" appears before the first data_ block',
    rows: 3,
    examples: ['a', 'b', 'c'].map((n) => `user:${data}/${n}.cif`),
    paths: ['a', 'b', 'c'].map((n) => `${data}/${n}.cif`),
    attempts: 1,
  });
  const none = cli(['errors', 'import_errors', '--db', join(dir, 'empty.db')]);
  assert.equal(none.status, 2, 'a store that does not exist is named');
  ok(cli(['import', join(fixturesDir, 'structures', 'CaF2_fluorite_Fm-3m.cif'), '--db', join(dir, 'clean.db')]));
  const clean = cli(['errors', 'import_errors', '--db', join(dir, 'clean.db')]);
  ok(clean);
  assert.equal(clean.stdout, 'no import errors\n');
});
