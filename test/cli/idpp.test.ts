/**
 * `fracflow idpp`: JSON and extended-XYZ output, options reaching the kernel, and how bad input is
 * reported: the CLI from source in a real process for the end-to-end cases; the command module on a
 * program set up like src/cli/index.ts, in this process (commander's own parse, output captured),
 * for the rest, which keeps the file fast.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command, CommanderError } from 'commander';
import { register } from '../../src/cli/commands/idpp.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { referenceDir } from '../helpers/reference.js';
import { createStructure, type Structure } from '../../src/structure/structure.js';
import { writeStructure, readStructures } from '../../src/structure/io.js';
import { fracToCart } from '../../src/structure/lattice.js';
import { idpp } from '../../src/kernels/idpp.js';

const runIdpp = (args: string[]): CliResult => runCli(['idpp', ...args]);

/** The command parsed in this process: stdout/stderr captured, commander's exit turned into a status. */
function runIdppHere(args: string[]): CliResult {
  let stdout = '', stderr = '';
  const program = new Command()
    .name('fracflow')
    .showHelpAfterError()
    .exitOverride()
    .configureOutput({ writeOut: (x) => void (stdout += x), writeErr: (x) => void (stderr += x) });
  register(program);
  const write = process.stdout.write;
  // The action is synchronous, so the patch covers exactly the command's own output.
  process.stdout.write = ((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }) as typeof process.stdout.write;
  let status = 0;
  try {
    program.parse(['node', 'fracflow', 'idpp', ...args]);
  } catch (e) {
    if (e instanceof CommanderError) status = e.exitCode;
    else {
      stderr += `fracflow: ${(e as Error).message}\n`;
      status = 2;
    }
  } finally {
    process.stdout.write = write;
  }
  return { status, stdout, stderr };
}

interface RefHop {
  image_species: string[];
  start_frac_coords: number[][];
  end_frac_coords: number[][];
  frac_coords: number[][][];
}

const caf2 = JSON.parse(readFileSync(join(referenceDir, 'idpp', 'jittered', 'CaF2.json'), 'utf8')) as { lattice: number[][]; hops: RefHop[] };

function endpoints(hop: number): [Structure, Structure] {
  const h = caf2.hops[hop]!;
  const make = (frac: number[][]) => createStructure({ lattice: caf2.lattice, species: h.image_species, frac }, { checkOverlap: false });
  return [make(h.start_frac_coords), make(h.end_frac_coords)];
}

/** start.json / end.json (pymatgen JSON keeps the unwrapped end coordinates exactly). */
function writeEndpoints(hop: number): { dir: string; start: string; end: string } {
  const dir = mkdtempSync(join(tmpdir(), 'fracflow-idpp-'));
  const [s, e] = endpoints(hop);
  const start = join(dir, 'start.json');
  const end = join(dir, 'end.json');
  writeFileSync(start, writeStructure(s, 'pymatgen-json'));
  writeFileSync(end, writeStructure(e, 'pymatgen-json'));
  return { dir, start, end };
}

test('idpp --json prints the images, iteration count and flag; the images are pymatgen\'s', () => {
  const { start, end } = writeEndpoints(0);
  const r = runIdpp([start, end, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { images: { frac_coords: number[][] }[]; iterations: number; converged: boolean };
  assert.deepEqual(Object.keys(out), ['images', 'iterations', 'converged']);
  assert.equal(out.images.length, 7);
  assert.equal(out.iterations, 1000);
  assert.equal(out.converged, false);
  const L = new Float64Array(caf2.lattice.flat());
  out.images.forEach((img, k) => {
    const a = fracToCart(L, img.frac_coords.flat());
    const b = fracToCart(L, caf2.hops[0]!.frac_coords[k]!.flat());
    for (let q = 0; q < a.length; q++) assert.ok(Math.abs(a[q]! - b[q]!) < 1e-6, `image ${k} coordinate ${q}`);
  });
});

test('idpp --format extxyz writes a multi-frame trajectory that reads back as the same images', () => {
  const { start, end } = writeEndpoints(1);
  const r = runIdppHere([start, end, '--format', 'extxyz', '--images', '3', '--maxiter', '40']);
  assert.equal(r.status, 0, r.stderr);
  const frames = readStructures(r.stdout, 'extxyz');
  assert.equal(frames.length, 5);
  const [s, e] = endpoints(1);
  const lib = idpp(s, e, { images: 3, maxIter: 40 });
  frames.forEach((f, k) => {
    assert.equal(f.info['image'], k);
    const a = fracToCart(f.lattice, f.frac), b = fracToCart(s.lattice, lib.images[k]!.frac);
    for (let q = 0; q < a.length; q++) assert.ok(Math.abs(a[q]! - b[q]!) < 1e-9, `frame ${k} coordinate ${q}`);
  });
});

test('idpp options reach the solver: --maxiter, --tol/--gtol, --species, --backend, --mic', () => {
  const { start, end } = writeEndpoints(0);
  const json = (args: string[]) => {
    const r = runIdppHere([start, end, '--json', ...args]);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { images: { frac_coords: number[][] }[]; iterations: number; converged: boolean };
  };
  assert.equal(json(['--maxiter', '7']).iterations, 7);
  const loose = json(['--tol', '1000', '--gtol', '1000']);
  assert.equal(loose.iterations, 1);
  assert.equal(loose.converged, true);
  const frozen = json(['--species', 'F', '--maxiter', '20', '--backend', 'ts']);
  const [s, e] = endpoints(0);
  const lib = idpp(s, e, { species: ['F'], maxIter: 20 });
  assert.deepEqual(frozen.images[2]!.frac_coords.flat(), Array.from(lib.images[2]!.frac));
  const mic = json(['--mic', '--maxiter', '5', '--images', '2']);
  assert.equal(mic.images.length, 4);
});

test('idpp text summary names the iterations and the largest shift off the straight line per image', () => {
  const { start, end } = writeEndpoints(0);
  const r = runIdppHere([start, end, '--maxiter', '50']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^IDPP: 11 sites, 5 interior images, 50 iterations, not converged \(maxiter 50\)$/m);
  assert.match(r.stdout, /^image\s+max shift from straight line \(Å\)\s+site$/m);
  assert.match(r.stdout, /^\s*0\s+0\.0000\s+-$/m);
  assert.match(r.stdout, /^\s*3\s+0\.\d{4}\s+\d+ \((Ca|F)\)$/m);
});

test('idpp reports a path through an atom, bad options and mismatched endpoints with exit code 2 or 1 and a message naming the cause', () => {
  const { dir, start, end } = writeEndpoints(2);
  const guard = runIdpp([start, end, '--json']);
  assert.equal(guard.status, 2);
  assert.equal(guard.stdout, '');
  assert.match(guard.stderr, /^fracflow: idpp: straight-line image 3 puts atoms 0 \(F\) and \d+ \(Ca\) 0\.00130\d* Å apart, closer than minDistanceAng = 0\.5 Å/);
  // With the guard lowered the (jittered) hop relaxes.
  const lowered = runIdppHere([start, end, '--json', '--min-distance', '0.001', '--maxiter', '3']);
  assert.equal(lowered.status, 0, lowered.stderr);

  const badImages = runIdppHere([start, end, '--images', '0']);
  assert.equal(badImages.status, 1);
  assert.match(badImages.stderr, /--images must be an integer >= 1, got "0"/);
  const badIter = runIdppHere([start, end, '--maxiter', '2.5']);
  assert.match(badIter.stderr, /--maxiter must be an integer >= 0, got "2\.5"/);
  const badTol = runIdppHere([start, end, '--tol', '-1']);
  assert.match(badTol.stderr, /--tol must be a number >= 0, got "-1"/);
  const badSpecies = runIdppHere([start, end, '--species', ' , ']);
  assert.match(badSpecies.stderr, /--species must list element symbols separated by commas, got " , "/);
  const absent = runIdppHere([start, end, '--species', 'Li']);
  assert.equal(absent.status, 2);
  assert.match(absent.stderr, /^fracflow: idpp: species \["Li"\]: none of these elements is in the structure/);
  const badFormat = runIdppHere([start, end, '--format', 'cif']);
  assert.equal(badFormat.status, 1);
  assert.match(badFormat.stderr, /argument 'cif' is invalid\. Allowed choices are text, json, extxyz/);

  const other = join(dir, 'other.json');
  const [s] = endpoints(2);
  writeFileSync(other, writeStructure(createStructure({ lattice: s.lattice, species: s.species.slice(1), frac: s.frac.slice(3) }, { checkOverlap: false }), 'pymatgen-json'));
  const mismatch = runIdppHere([start, other]);
  assert.equal(mismatch.status, 2);
  assert.match(mismatch.stderr, /^fracflow: idpp: start has 11 sites but end has 10; the endpoints must list the same sites in the same order/);
  const missing = runIdppHere([start, join(dir, 'nope.json')]);
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /nope\.json/);
});

test('idpp --idpp fast: the fast mode through the CLI, its result that of the library; an unknown mode is refused', () => {
  const { start, end } = writeEndpoints(0);
  const r = runIdppHere([start, end, '--idpp', 'fast', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { images: { frac_coords: number[][] }[]; iterations: number; converged: boolean };
  const [s, e] = endpoints(0);
  const lib = idpp(s, e, { mode: 'fast' });
  assert.equal(out.iterations, lib.iterations);
  assert.equal(out.converged, lib.converged);
  assert.deepEqual(out.images[3]!.frac_coords.flat(), Array.from(lib.images[3]!.frac));
  const text = runIdppHere([start, end, '--idpp', 'fast', '--maxiter', '7']);
  assert.match(text.stdout, /^IDPP \(fast mode\): 11 sites, 5 interior images, 7 iterations, not converged \(maxiter 7\)$/m);
  const bad = runIdppHere([start, end, '--idpp', 'slow']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /option '--idpp <mode>' argument 'slow' is invalid\. Allowed choices are exact, fast\./);
});
