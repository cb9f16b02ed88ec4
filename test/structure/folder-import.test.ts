import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, copyFileSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { readFolder, SNIFF_BYTES } from '../../src/io/folder-import.js';
import { StructureError } from '../../src/structure/errors.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fx = (name: string) => join(root, 'test', 'fixtures', 'structures', name);
const temps: string[] = [];
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'fracflow-folder-'));
  temps.push(d);
  return d;
}

/** A folder with one file of each supported kind, two broken files and some non-structure files. */
function populate(): string {
  const d = tempDir();
  copyFileSync(fx('CaF2_fluorite_Fm-3m.cif'), join(d, 'CaF2.cif'));
  copyFileSync(fx('multi_block.cif'), join(d, 'blocks.cif'));
  copyFileSync(fx('frames.extxyz'), join(d, 'frames.extxyz'));
  copyFileSync(fx('LiF_P1_no_extension'), join(d, 'relaxed_LiF'));
  copyFileSync(fx('CaF2_pymatgen.json'), join(d, 'caf2.json'));
  writeFileSync(join(d, 'mp.json.gz'), gzipSync(readFileSync(fx('mp_api_envelope.json'))));
  mkdirSync(join(d, 'run1'));
  mkdirSync(join(d, 'run2', 'deeper'), { recursive: true });
  copyFileSync(fx('POSCAR_CaF2_cartesian_sd'), join(d, 'run1', 'POSCAR'));
  copyFileSync(fx('POSCAR_CaF2_cartesian_sd'), join(d, 'run2', 'CONTCAR'));
  copyFileSync(fx('CaF2_fluorite_Fm-3m.cif'), join(d, 'run2', 'deeper', 'x.vasp.cif'));
  // Broken: a CIF whose cell length is not a number; an extxyz frame count that lies.
  writeFileSync(join(d, 'broken.cif'), readFileSync(fx('CaF2_fluorite_Fm-3m.cif'), 'utf8').replace(/(_cell_length_a\s+)\S+/, '$15.46x'));
  writeFileSync(join(d, 'truncated.xyz'), '5\nLattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3\nF 0 0 0\n');
  // Not structures.
  writeFileSync(join(d, 'INCAR'), 'ISYM = 0\nNSW = 0\nIBRION = -1\n');
  writeFileSync(join(d, 'README.md'), '# my runs\n');
  writeFileSync(join(d, 'blob.bin'), Buffer.from([1, 2, 0, 3, 4]));
  writeFileSync(join(d, 'empty'), '');
  copyFileSync(fx('CaF2_fluorite_Fm-3m.cif'), join(d, '.hidden.cif'));
  return d;
}

test('reads every structure file, reports broken ones, skips the rest', () => {
  const d = populate();
  const r = readFolder(d);
  const byFile = new Map<string, number>();
  for (const s of r.structures) byFile.set(s.relativePath, (byFile.get(s.relativePath) ?? 0) + 1);
  assert.deepEqual([...byFile], [
    ['CaF2.cif', 1],
    ['blocks.cif', 2],
    ['caf2.json', 1],
    ['frames.extxyz', 2],
    ['mp.json.gz', 2],
    ['relaxed_LiF', 1],
  ]);
  assert.deepEqual(r.errors.map((e) => e.relativePath), ['broken.cif', 'truncated.xyz']);
  // A CIF fails per data block (index 0, the block name as id); a truncated extxyz fails as a file.
  assert.equal(r.errors[0]!.message, `${join(d, 'broken.cif')}:16: _cell_length_a: not a number: "5.46x"`);
  assert.ok(r.errors[0]!.error instanceof StructureError);
  assert.deepEqual([r.errors[0]!.index, r.errors[0]!.id], [0, 'CaF2_fluorite']);
  assert.equal(r.errors[1]!.message, `${join(d, 'truncated.xyz')}:4: frame declares 5 atoms (line 1) but has only 1 atom lines: the file is truncated`);
  assert.deepEqual([r.errors[1]!.index, r.errors[1]!.id], [undefined, undefined]);
  assert.deepEqual(r.skipped, ['INCAR', 'README.md', 'blob.bin', 'empty']);

  const caf2 = r.structures.find((s) => s.relativePath === 'CaF2.cif')!;
  assert.equal(caf2.file, join(d, 'CaF2.cif'));
  assert.equal(caf2.structure.info['file'], join(d, 'CaF2.cif'));
  assert.deepEqual(r.structures.filter((s) => s.relativePath === 'frames.extxyz').map((s) => s.index), [0, 1]);
  assert.deepEqual(r.structures.filter((s) => s.relativePath === 'mp.json.gz').map((s) => s.structure.info.id), ['mp-2741', 'mp-1138']);
  const lif = r.structures.find((s) => s.relativePath === 'relaxed_LiF')!;
  assert.deepEqual([...new Set(lif.structure.species)].sort(), ['F', 'Li']);
});

test('recursive mode walks sub-folders in path order and prefixes file-stem ids with the folder', () => {
  const d = populate();
  const r = readFolder(d, { recursive: true });
  const files = [...new Set(r.structures.map((s) => s.relativePath))];
  assert.deepEqual(files, ['CaF2.cif', 'blocks.cif', 'caf2.json', 'frames.extxyz', 'mp.json.gz', 'relaxed_LiF', 'run1/POSCAR', 'run2/CONTCAR', 'run2/deeper/x.vasp.cif']);
  const id = (rel: string) => r.structures.find((s) => s.relativePath === rel)!.structure.info.id;
  assert.equal(id('run1/POSCAR'), 'run1/POSCAR');
  assert.equal(id('run2/CONTCAR'), 'run2/CONTCAR');
  assert.equal(id('CaF2.cif'), readFolder(d).structures[0]!.structure.info.id, 'top-level ids are unchanged');
  // A CIF's data block name is its own id, not a file stem: kept as is.
  const blockId = readFolder(join(d, 'run2', 'deeper')).structures[0]!.structure.info.id;
  assert.equal(id('run2/deeper/x.vasp.cif'), blockId);
  assert.equal(r.structures.find((s) => s.relativePath === 'run1/POSCAR')!.structure.species.length, 12);
});

test('per-item errors of a multi-structure file keep the good items', () => {
  const d = tempDir();
  const env = JSON.parse(readFileSync(fx('mp_api_envelope.json'), 'utf8')) as { data: Record<string, unknown>[] };
  env.data[0]!['structure'] = { lattice: { matrix: [[1, 0, 0]] }, sites: [] };
  writeFileSync(join(d, 'docs.json'), JSON.stringify(env));
  const r = readFolder(d);
  assert.deepEqual(r.structures.map((s) => [s.structure.info.id, s.index]), [['mp-1138', 1]]);
  assert.equal(r.errors.length, 1);
  assert.deepEqual([r.errors[0]!.index, r.errors[0]!.id, r.errors[0]!.relativePath], [0, 'mp-2741', 'docs.json']);
  assert.match(r.errors[0]!.message, /docs\.json.*lattice\.matrix/);
});

test('a JSON file that is no structure layout and a broken symbolic link are errors naming the file', () => {
  const d = tempDir();
  writeFileSync(join(d, 'meta.json'), '{"name": "not a structure"}');
  symlinkSync(join(d, 'missing.cif'), join(d, 'dangling.cif'));
  const r = readFolder(d);
  assert.equal(r.structures.length, 0);
  assert.deepEqual(r.errors.map((e) => e.relativePath), ['dangling.cif', 'meta.json']);
  assert.equal(r.errors[0]!.message, `${join(d, 'dangling.cif')}: cannot read (ENOENT: broken symbolic link)`);
  assert.match(r.errors[1]!.message, /meta\.json: JSON content matches none of the supported layouts/);
});

test('symbolic-link cycles are walked once; non-recursive mode ignores folders', () => {
  const d = tempDir();
  mkdirSync(join(d, 'a'));
  copyFileSync(fx('CaF2_fluorite_Fm-3m.cif'), join(d, 'a', 'CaF2.cif'));
  symlinkSync(d, join(d, 'a', 'loop'));
  assert.deepEqual(readFolder(d, { recursive: true }).structures.map((s) => s.relativePath), ['a/CaF2.cif']);
  assert.deepEqual(readFolder(d), { structures: [], errors: [], skipped: [] });
});

test('files without a structure name are recognised from their first bytes only', () => {
  const d = tempDir();
  // A long comment block pushes the CIF data_ line beyond the examined bytes.
  const cif = readFileSync(fx('CaF2_fluorite_Fm-3m.cif'), 'utf8');
  writeFileSync(join(d, 'late'), '#'.repeat(SNIFF_BYTES) + '\n' + cif);
  writeFileSync(join(d, 'early'), cif);
  const r = readFolder(d);
  assert.deepEqual(r.structures.map((s) => s.relativePath), ['early']);
  assert.deepEqual(r.skipped, ['late']);
});

test('a missing folder or a file throws', () => {
  const d = tempDir();
  assert.throws(() => readFolder(join(d, 'nope')), (e: unknown) => e instanceof StructureError && e.message === `folder not found: ${join(d, 'nope')}`);
  writeFileSync(join(d, 'f.cif'), '');
  assert.throws(() => readFolder(join(d, 'f.cif')), (e: unknown) => e instanceof StructureError && e.message === `not a folder: ${join(d, 'f.cif')}`);
});

/** The error code `fn` throws, or null. */
function errnoOf(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? null;
  }
}

// Unreadable entries, made with Linux /proc files that fail even for root (tests may run as root,
// where file modes do not stop reads): a symbolic-link loop fails stat, /proc/self/mem fails a read
// at offset 0 (EIO), /proc/1/map_files fails listing without CAP_SYS_ADMIN (EACCES).
const memCode = errnoOf(() => {
  const fd = openSync('/proc/self/mem', 'r');
  try {
    readSync(fd, Buffer.alloc(8), 0, 8, 0);
  } finally {
    closeSync(fd);
  }
});
const mapFilesCode = errnoOf(() => readdirSync('/proc/1/map_files'));

test('unreadable files and folders are errors naming them; the rest is read', { skip: memCode === null || mapFilesCode === null ? 'this system lets the /proc probes through' : false }, () => {
  const d = tempDir();
  copyFileSync(fx('CaF2_fluorite_Fm-3m.cif'), join(d, 'CaF2.cif'));
  symlinkSync(join(d, 'loop.cif'), join(d, 'loop.cif'));
  symlinkSync('/proc/self/mem', join(d, 'mem'));
  symlinkSync('/proc/1/map_files', join(d, 'sub'));
  const r = readFolder(d, { recursive: true });
  assert.deepEqual(r.structures.map((s) => s.relativePath), ['CaF2.cif']);
  assert.deepEqual(
    r.errors.map((e) => [e.relativePath, e.message]),
    [
      ['loop.cif', `${join(d, 'loop.cif')}: cannot read (ELOOP)`],
      ['mem', `${join(d, 'mem')}: cannot read (${memCode})`],
      ['sub', `${join(d, 'sub')}: cannot list the folder (${mapFilesCode})`],
    ],
  );
});
