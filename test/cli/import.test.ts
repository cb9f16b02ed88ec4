/**
 * `fracflow import` from folders and from the Materials Project API (a loopback stand-in server
 * built from the bundled data, with a 429 and a malformed document), run as a real process: bad
 * files among good ones, identity of same-named inputs and content duplicates, missing paths, and
 * the size limits in a child with a small heap.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, runCli, tsxLoader } from '../helpers/cli.js';
import { fixturesDir } from '../helpers/reference.js';
import { bundledMpDocuments, startMpServer } from '../helpers/mp-server.js';
import { openStore } from '../../src/store/sqlite/diffusion.js';

const tmp = () => mkdtempSync(join(tmpdir(), 'fracflow-import-'));

/** The CLI in a child process without blocking this process's event loop (the server runs here). */
function runCliAsync(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(repoRoot, 'src', 'cli', 'index.ts'), ...args], {
      cwd: repoRoot,
      env: { ...process.env, NODE_OPTIONS: '', MP_API_KEY: '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

test('import of a folder: every structure file, recursively; a broken file is recorded and the rest goes on', () => {
  const dir = tmp();
  mkdirSync(join(dir, 'sub'));
  copyFileSync(join(fixturesDir, 'structures', 'CaF2_fluorite_Fm-3m.cif'), join(dir, 'CaF2.cif'));
  copyFileSync(join(fixturesDir, 'structures', 'LiF_P1_oxidation.cif'), join(dir, 'sub', 'LiF.cif'));
  writeFileSync(join(dir, 'sub', 'broken.cif'), 'data_x\n_cell_length_a 5\n');
  writeFileSync(join(dir, 'README.txt'), 'not a structure\n');
  const db = join(dir, 'f.db');
  const flat = runCli(['import', dir, '--db', db]);
  assert.equal(flat.status, 0, flat.stderr);
  assert.match(flat.stdout, /^user\s+1\s+0\s+0\s+0\s+0$/m);
  const deep = runCli(['import', dir, '--recursive', '--db', db]);
  assert.equal(deep.status, 1);
  assert.match(deep.stdout, /^user\s+1\s+0\s+1\s+0\s+1$/m);
  assert.ok(deep.stderr.includes(`failed: user:${dir}/sub/broken.cif: ${dir}/sub/broken.cif:`), deep.stderr);
  const store = openStore(db);
  assert.equal(store.structureCount(), 2);
  store.close();
});

test('import --mp-api-key pages through the API (429 retried, a malformed document recorded) into the store', async () => {
  const docs = bundledMpDocuments().slice(0, 120);
  (docs[7]!['structure'] as { lattice: { matrix: number[][] } }).lattice.matrix[0] = [0, 0, 0];
  const server = await startMpServer({ documents: docs, apiKey: 'k-123', faults: [{ request: 1, status: 429, headers: { 'Retry-After': '0' } }] });
  try {
    const db = join(tmp(), 'mp.db');
    const r = await runCliAsync(['import', '--mp-api-key', 'k-123', '--mp-base-url', server.baseUrl, '--db', db]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^mp-api\s+119\s+0\s+0\s+0\s+1$/m);
    assert.match(r.stderr, /mp-api: page \d+: HTTP 429; retry 1/);
    assert.match(r.stderr, /failed: mp-api:mp-\d+: .*volume is zero/);
    assert.ok(!r.stderr.includes('k-123') && !r.stdout.includes('k-123'), 'the key is never printed');
    assert.ok(server.requests.every((q) => q.headers['x-api-key'] === 'k-123'));
    const store = openStore(db);
    assert.equal(store.structureCount(), 119);
    assert.ok(store.getStructure(`mp-api:${String(docs[0]!['material_id'])}`));
    store.close();
    // A second import updates nothing and doubles nothing.
    const again = await runCliAsync(['import', '--mp-api-key', 'k-123', '--mp-base-url', server.baseUrl, '--db', db]);
    assert.match(again.stdout, /^mp-api\s+0\s+0\s+119\s+0\s+1$/m);
  } finally {
    await server.close();
  }
});

test('import --mp-api without a key, or with a wrong one, stops with the hint', async () => {
  const server = await startMpServer({ documents: bundledMpDocuments().slice(0, 5), apiKey: 'right' });
  try {
    const none = await runCliAsync(['import', '--mp-api', '--mp-base-url', server.baseUrl, '--db', ':memory:']);
    assert.equal(none.status, 2);
    assert.match(none.stderr, /missing API key: set MP_API_KEY or pass --mp-api-key/);
    const wrong = await runCliAsync(['import', '--mp-api', '--mp-base-url', server.baseUrl, '--db', ':memory:'], { MP_API_KEY: 'wrong' });
    assert.equal(wrong.status, 2);
    assert.match(wrong.stderr, /invalid or missing API key/);
    const nothing = runCli(['import', '--db', ':memory:']);
    assert.equal(nothing.status, 2);
    assert.match(nothing.stderr, /give structure files or folders to import, or --mp-api/);
  } finally {
    await server.close();
  }
});

const poscar = (a: number, lattice = `${a} 0 0\n0 ${a} 0\n0 0 ${a}`, coords = '0 0 0\n0.5 0.5 0.5') => `LiF\n1.0\n${lattice}\nLi F\n1 1\nDirect\n${coords}\n`;
const record = (id: unknown, a = 3.9) => ({ material_id: id, lattice: [[a, 0, 0], [0, a, 0], [0, 0, a]], species: ['Li', 'F'], frac_coords: [[0, 0, 0], [0.5, 0.5, 0.5]] });

interface ErrorRow {
  source_id: string;
  file: string | null;
  record: number | null;
  record_id: string | null;
  message: string;
}

test('import DIR with bad files among good ones imports the good ones and records each bad file and record with its cause', () => {
  const dir = tmp();
  const data = join(dir, 'data');
  mkdirSync(data);
  copyFileSync(join(fixturesDir, 'structures', 'CaF2_fluorite_Fm-3m.cif'), join(data, 'CaF2.cif'));
  copyFileSync(join(fixturesDir, 'structures', 'LiF_P1_oxidation.cif'), join(data, 'LiF.cif'));
  // Regression: a lattice of 1e308 reached the neighbour kernel, whose plain Error ("the cell is
  // singular") escaped the per-file handling and sank the whole folder (nothing inserted).
  writeFileSync(join(data, 'POSCAR_big'), poscar(1e308));
  writeFileSync(join(data, 'POSCAR_frac'), poscar(4, undefined, '0 0 0\n1e308 0.5 0.5'));
  writeFileSync(join(data, 'bad.cif'), 'hello\n');
  writeFileSync(join(data, 'ids.jsonl'), [record('ok-1'), record({ oid: 1 }), record('ok-3', 4.2)].map((r) => JSON.stringify(r)).join('\n') + '\n');
  writeFileSync(join(data, 'empty.json'), '{"records": []}\n');
  writeFileSync(join(data, 'notes.txt'), 'not a structure\n');
  const db = join(dir, 'i.db');
  const r = runCli(['import', 'data', '--db', db], { cwd: dir });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /^user\s+4\s+0\s+0\s+0\s+5$/m);
  const store = openStore(db);
  try {
    assert.deepEqual(store.sql.all<{ source_id: string }>('SELECT source_id FROM structures ORDER BY source_id').map((x) => x.source_id), [
      'user:data/CaF2.cif',
      'user:data/LiF.cif',
      'user:data/ids.jsonl#0',
      'user:data/ids.jsonl#2',
    ]);
    const errors = store.sql.all<ErrorRow>('SELECT source_id, file, record, record_id, message FROM import_errors ORDER BY id');
    assert.deepEqual(
      errors.map((e) => [e.source_id, e.file, e.record, e.record_id]),
      [
        ['user:data/POSCAR_big', 'data/POSCAR_big', null, null],
        ['user:data/POSCAR_frac', 'data/POSCAR_frac', null, null],
        ['user:data/bad.cif', 'data/bad.cif', null, null],
        ['user:data/empty.json', 'data/empty.json', null, null],
        ['user:data/ids.jsonl#1', 'data/ids.jsonl', 1, null],
      ],
    );
    assert.equal(errors[0]!.message, 'data/POSCAR_big:3: lattice: lattice vector 1 is 1.00000e+308 Å long, over the limit of 10000 Å: a unit mistake or a corrupt number, not a crystal cell');
    assert.match(errors[1]!.message, /^data\/POSCAR_frac:10: coordinates: site 1 \(F\) has the fractional coordinate 1e\+308, beyond ±1000 cells/);
    assert.equal(errors[2]!.message, 'data/bad.cif:1: "hello" appears before the first data_ block');
    assert.equal(errors[3]!.message, 'data/empty.json: the file holds no structure');
    assert.equal(errors[4]!.message, 'data/ids.jsonl:2: material_id: expected an id (a string or a number), got an object');
  } finally {
    store.close();
  }
  for (const e of ['user:data/POSCAR_big: data/POSCAR_big:3:', 'user:data/ids.jsonl#1: data/ids.jsonl:2:']) assert.ok(r.stderr.includes(`failed: ${e}`), r.stderr);
});

test('identity comes from the source: same block names, same file names and colliding ids stay apart; content duplicates are reported, not screened twice', () => {
  const dir = tmp();
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  writeFileSync(join(dir, 'a', 'POSCAR'), poscar(4));
  writeFileSync(join(dir, 'b', 'POSCAR'), poscar(4.1));
  // Two different CIFs whose blocks carry one name (as VASP tools write them), a copy of the first,
  // and one file holding two blocks of the same name.
  const caf2 = readFileSync(join(fixturesDir, 'structures', 'CaF2_fluorite_Fm-3m.cif'), 'utf8').replace('data_CaF2_fluorite', 'data_POSCAR');
  writeFileSync(join(dir, 'x.cif'), caf2);
  writeFileSync(join(dir, 'y.cif'), caf2.replace(/5\.4631\(2\)/g, '5.5'));
  writeFileSync(join(dir, 'z.cif'), caf2);
  const lif = readFileSync(join(fixturesDir, 'structures', 'LiF_P1_oxidation.cif'), 'utf8').replace('data_LiF', 'data_same');
  writeFileSync(join(dir, 'multi.cif'), lif + '\n' + lif.replace(/2\.88743700/g, '2.9'));
  // Two records with one material id in one file, and the same id in another file.
  writeFileSync(join(dir, 'mp.jsonl'), [record('mp-1'), record('mp-1', 4.3)].map((x) => JSON.stringify(x)).join('\n') + '\n');
  writeFileSync(join(dir, 'mp2.json'), JSON.stringify(record('mp-1', 4.4)));
  const db = join(dir, 'id.db');
  const r = runCli(['import', 'a', 'b', 'x.cif', 'y.cif', 'z.cif', 'multi.cif', 'mp.jsonl', 'mp2.json', '--db', db], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^user\s+10\s+0\s+0\s+1\s+0$/m);
  assert.match(r.stdout, /^user: 1 structure has the content of an earlier one \(kept, not screened again\), e\.g\. user:z\.cif = user:x\.cif$/m);
  const rows = () => {
    const store = openStore(db);
    try {
      return store.sql.all<{ source_id: string; duplicate_of: string | null; id: string | null }>(
        "SELECT source_id, duplicate_of, json_extract(info_json, '$.id') AS id FROM structures ORDER BY structures.id",
      );
    } finally {
      store.close();
    }
  };
  assert.deepEqual(rows(), [
    { source_id: 'user:a/POSCAR', duplicate_of: null, id: 'POSCAR' },
    { source_id: 'user:b/POSCAR', duplicate_of: null, id: 'POSCAR' },
    { source_id: 'user:x.cif', duplicate_of: null, id: 'POSCAR' },
    { source_id: 'user:y.cif', duplicate_of: null, id: 'POSCAR' },
    { source_id: 'user:z.cif', duplicate_of: 'user:x.cif', id: 'POSCAR' },
    { source_id: 'user:multi.cif#0', duplicate_of: null, id: 'same' },
    { source_id: 'user:multi.cif#1', duplicate_of: null, id: 'same' },
    { source_id: 'user:mp.jsonl#0', duplicate_of: null, id: 'mp-1' },
    { source_id: 'user:mp.jsonl#1', duplicate_of: null, id: 'mp-1' },
    { source_id: 'user:mp2.json', duplicate_of: null, id: 'mp-1' },
  ]);
  // The same file by another spelling is the same source; a changed file updates its own row only.
  writeFileSync(join(dir, 'y.cif'), caf2.replace(/5\.4631\(2\)/g, '5.6'));
  const again = runCli(['import', './x.cif', 'y.cif', '--db', db], { cwd: dir });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /^user\s+0\s+1\s+1\s+0\s+0$/m);
  // Outside the working directory the path is absolute: another source, with the content of x.cif.
  const outside = runCli(['import', '../x.cif', '--db', db], { cwd: join(dir, 'a') });
  assert.equal(outside.status, 0, outside.stderr);
  assert.match(outside.stdout, /^user\s+1\s+0\s+0\s+1\s+0$/m);
  assert.deepEqual(rows().slice(-1), [{ source_id: `user:${join(dir, 'x.cif')}`, duplicate_of: 'user:x.cif', id: 'POSCAR' }]);
  assert.equal(rows().length, 11);
});

test('import of a missing path stops before importing anything; a folder with nothing readable fails with the reason; bad limit options are named', () => {
  const dir = tmp();
  copyFileSync(join(fixturesDir, 'structures', 'CaF2_fluorite_Fm-3m.cif'), join(dir, 'CaF2.cif'));
  mkdirSync(join(dir, 'empty'));
  mkdirSync(join(dir, 'docs'));
  writeFileSync(join(dir, 'docs', 'README.md'), '# notes\n');
  const db = join(dir, 'm.db');
  const missing = runCli(['import', 'CaF2.cif', 'nope.cif', 'gone/', '--db', db], { cwd: dir });
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr, 'fracflow: no such file or folder: nope.cif, gone/\n');
  const store = openStore(db);
  assert.equal(store.structureCount(), 0, 'nothing imported');
  store.close();
  const empty = runCli(['import', 'empty', 'docs', '--db', db], { cwd: dir });
  assert.equal(empty.status, 1);
  assert.match(empty.stdout, /^user\s+0\s+0\s+0\s+0\s+2$/m);
  assert.match(empty.stderr, /^failed: user:empty: empty: no structure file in the folder \(it is empty\); sub-folders are read with --recursive$/m);
  assert.match(empty.stderr, /^failed: user:docs: docs: no structure file in the folder \(not structure files: README\.md\); sub-folders are read with --recursive$/m);
  for (const [args, re] of [
    [['--max-sites', '0'], /--max-sites must be a positive integer, got "0"/],
    [['--max-file-mb', '1.5'], /--max-file-mb must be a positive integer, got "1\.5"/],
    [['--max-file-mb', '100000'], /--max-file-mb must be at most 511, got "100000"/],
  ] as [string[], RegExp][]) {
    const bad = runCli(['import', 'CaF2.cif', ...args, '--db', db], { cwd: dir });
    assert.notEqual(bad.status, 0, args.join(' '));
    assert.match(bad.stderr, re);
  }
});

/** The CLI in a child process limited to a 64 MB heap; its peak RSS from the `MAX_RSS_KB` line. */
function cliSmallHeap(args: string[], cwd: string): { status: number | null; stdout: string; stderr: string; maxRssMb: number } {
  const r = spawnSync(process.execPath, ['--max-old-space-size=64', '--import', tsxLoader, join(repoRoot, 'test', 'helpers', 'cli-max-rss.ts'), ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
    timeout: 120_000,
  });
  const m = /MAX_RSS_KB (\d+)/.exec(r.stderr);
  assert.ok(m, `no MAX_RSS_KB line (status ${r.status}, signal ${r.signal}): ${r.stderr.slice(-2000)}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, maxRssMb: Number(m[1]) / 1024 };
}

test('a POSCAR with counts 1 999999999 and a gzip bomb are refused with a message, in bounded memory (64 MB heap)', () => {
  const dir = tmp();
  writeFileSync(join(dir, 'POSCAR_huge'), `huge\n1.0\n4 0 0\n0 4 0\n0 0 4\nLi F\n1 999999999\nDirect\n0 0 0\n0.5 0.5 0.5\n`);
  // 64 gzip members of 16 MiB of spaces each: 1 GiB inflated from about 1 MiB.
  const member = gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20), { level: 9 });
  writeFileSync(join(dir, 'bomb.json.gz'), Buffer.concat(Array.from({ length: 64 }, () => member)));
  const db = join(dir, 'b.db');

  const huge = cliSmallHeap(['import', 'POSCAR_huge', '--db', db], dir);
  assert.equal(huge.status, 1, huge.stderr);
  assert.match(huge.stderr, /failed: user:POSCAR_huge: POSCAR_huge:7: counts: the counts 1 999999999 give 1000000000 sites, over the limit of 100000 sites per structure; raise it with --max-sites/);
  const raised = cliSmallHeap(['import', 'POSCAR_huge', '--max-sites', '2000000000', '--db', db], dir);
  assert.equal(raised.status, 1, raised.stderr);
  assert.match(raised.stderr, /POSCAR_huge:11: expected 1000000000 coordinate lines \(counts 1 999999999 on line 7\) from line 9, found only 2: the file is truncated/);

  const bomb = cliSmallHeap(['import', 'bomb.json.gz', '--db', db], dir);
  assert.equal(bomb.status, 1, bomb.stderr);
  assert.match(bomb.stderr, /failed: user:bomb\.json\.gz: bomb\.json\.gz: gzip content decompresses to more than 256 MiB \(from 1\d{3}\.\d KiB compressed\): refused as over the size limit \(a gzip bomb\?\); raise it with --max-file-mb/);
  const small = cliSmallHeap(['import', 'bomb.json.gz', '--max-file-mb', '8', '--db', db], dir);
  assert.equal(small.status, 1, small.stderr);
  assert.match(small.stderr, /gzip content decompresses to more than 8 MiB/);
  // Memory follows the limit, not the 1 GiB the stream would inflate to: the 256 MiB default costs
  // about that much on top of the process, the 8 MiB limit next to nothing.
  for (const r of [huge, raised, small]) assert.ok(r.maxRssMb < 300, `${r.maxRssMb.toFixed(0)} MB peak RSS`);
  assert.ok(bomb.maxRssMb < 600, `${bomb.maxRssMb.toFixed(0)} MB peak RSS at the default limit`);
  assert.ok(bomb.maxRssMb - small.maxRssMb > 150, `the default limit holds up to 256 MiB (${bomb.maxRssMb.toFixed(0)} vs ${small.maxRssMb.toFixed(0)} MB)`);
});
