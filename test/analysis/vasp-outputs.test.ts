/**
 * VASP output parsing against pymatgen 2022.11.7 on real files from Debian's pymatgen-test-files
 * (test/fixtures/vasp, reference.json made by scripts/ref/vasprun_reference.py): final energy
 * exactly, convergence flags and ionic step counts; truncated and malformed files; OUTCAR
 * fallback; the barrier formula; every error message.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { readOutcar, readVaspRun, readVasprun } from '../../src/io/vasp-outputs.js';
import { barrier, VaspOutputError } from '../../src/analysis/vasp-outputs.js';

const FIX = fileURLToPath(new URL('../fixtures/vasp/', import.meta.url));
interface RefRun { final_energy: number; converged_electronic: boolean; converged_ionic: boolean; n_ionic_steps: number; bad_xml: boolean }
interface RefOutcar { final_energy: number; final_energy_wo_entrp: number; final_fr_energy: number }
const ref = JSON.parse(readFileSync(join(FIX, 'reference.json'), 'utf8')) as { vasprun: Record<string, RefRun>; outcar: Record<string, RefOutcar> };

function scratch(): string {
  return mkdtempSync(join(tmpdir(), 'fracflow-vasp-out-'));
}
function plain(name: string): string {
  return gunzipSync(readFileSync(join(FIX, name))).toString('latin1');
}

test('vasprun.xml: final energy, convergence and ionic steps equal pymatgen on every fixture', () => {
  const names = Object.keys(ref.vasprun);
  assert.ok(names.length >= 6);
  for (const name of names) {
    const r = ref.vasprun[name]!;
    const got = readVasprun(join(FIX, name));
    assert.equal(got.finalEnergyEv, r.final_energy, `${name}: final energy`);
    assert.equal(got.electronicConverged, r.converged_electronic, `${name}: electronic`);
    assert.equal(got.ionicConverged, r.converged_ionic, `${name}: ionic`);
    assert.equal(got.ionicSteps, r.n_ionic_steps, `${name}: ionic steps`);
    assert.equal(got.finished, !r.bad_xml, `${name}: finished`);
    assert.equal(got.source, 'vasprun');
  }
});

test('the VASP e_0_energy bug: a zero e_0_energy is replaced by the value rebuilt from the last electronic step', () => {
  const text = plain('bad.vasprun.xml.gz');
  assert.match(text, /<i name="e_0_energy">\s+0\.00000000 <\/i>\s*<\/energy>\s*<time[^>]*>[^<]*<\/time>\s*<\/calculation>\s*$/);
  const got = readVasprun(join(FIX, 'bad.vasprun.xml.gz'));
  assert.equal(got.finalEnergyEv, ref.vasprun['bad.vasprun.xml.gz']!.final_energy);
  assert.notEqual(got.finalEnergyEv, 0);
});

test('truncated vasprun.xml: energy of the last complete calculation, finished false and the cut named', () => {
  const got = readVasprun(join(FIX, 'bad.vasprun.xml.gz'));
  assert.equal(got.finished, false);
  assert.match(got.truncation!, /file ends inside <modeling> \(line \d+\): truncated vasprun.xml/);

  // cut a finished multi-step relaxation in the middle of its 5th ionic step
  const text = plain('etest1.vasprun.xml.gz');
  const starts = [...text.matchAll(/<calculation>/g)].map((m) => m.index!);
  assert.ok(starts.length === 8);
  const dir = scratch();
  try {
    const f = join(dir, 'vasprun.xml');
    writeFileSync(f, text.slice(0, starts[4]! + 200));
    const cut = readVasprun(f);
    assert.equal(cut.finished, false);
    assert.equal(cut.ionicSteps, 4);
    assert.match(cut.truncation!, /file ends inside <\w+> \(line \d+\)/);
    // the 4th step's closing e_0_energy is VASP's wrong -0.08252286; its e_fr_energy equals that of
    // its last electronic step, so the rebuilt final energy is that step's e_0_energy
    const calc4 = text.slice(starts[3]!, starts[4]!);
    assert.match(calc4, /<i name="e_0_energy">\s+-0\.08252286 <\/i>\s*<\/energy>/);
    const steps = [...calc4.matchAll(/<i name="e_0_energy">\s*(\S+)\s*<\/i>/g)].map((x) => Number(x[1]));
    assert.equal(cut.finalEnergyEv, steps[steps.length - 2]);

    // cut before the first calculation ends: an error naming the file and the cause
    writeFileSync(f, text.slice(0, starts[0]! + 300));
    assert.throws(() => readVasprun(f), (e: unknown) => e instanceof VaspOutputError && e.file === f &&
      /: file ends inside <\w+> \(line \d+\): truncated vasprun.xml, and no complete <calculation> before the cut$/.test(e.message));

    // a gzip stream cut short is read as far as it goes
    const gz = readFileSync(join(FIX, 'etest1.vasprun.xml.gz'));
    const fz = join(dir, 'vasprun.xml.gz');
    writeFileSync(fz, gz.subarray(0, Math.floor(gz.length * 0.6)));
    const partial = readVasprun(fz);
    assert.equal(partial.finished, false);
    assert.ok(partial.ionicSteps! >= 1 && partial.ionicSteps! < 8);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('vasprun.xml error branches name the file and the cause', () => {
  const dir = scratch();
  try {
    const f = join(dir, 'vasprun.xml');
    assert.throws(() => readVasprun(join(dir, 'missing.xml')), { name: 'VaspOutputError', message: `${join(dir, 'missing.xml')}: file not found` });
    assert.throws(() => readVasprun(dir), { message: `${dir}: not a regular file` });
    writeFileSync(f, '');
    assert.throws(() => readVasprun(f), { message: `${f}: no <modeling> element: not a vasprun.xml (empty or not XML)` });
    writeFileSync(f, '<?xml version="1.0"?>\n<cml><x/></cml>\n');
    assert.throws(() => readVasprun(f), { message: `${f}: line 2: root element is <cml>, expected <modeling>: not a vasprun.xml` });
    writeFileSync(f, '<modeling>\n <calculation>\n </energy>\n</modeling>\n');
    assert.throws(() => readVasprun(f), { message: `${f}: line 3: </energy> closes <calculation>: malformed XML` });
    writeFileSync(f, '<modeling></modeling>\n<modeling>');
    assert.throws(() => readVasprun(f), { message: `${f}: line 2: content after </modeling>` });
    writeFileSync(f, '<modeling>\n <generator/>\n</modeling>\n');
    assert.throws(() => readVasprun(f), { message: `${f}: no <calculation> element: no energy found` });
    writeFileSync(f, '<modeling>\n <calculation>\n  <structure/>\n </calculation>\n</modeling>\n');
    assert.throws(() => readVasprun(f), { message: `${f}: the last <calculation> (ionic step 1) has no e_0_energy/e_fr_energy with electronic steps: no energy found` });
    writeFileSync(f, '<modeling>\n <calculation>\n  <scstep><energy><i name="e_fr_energy"> 1.5x </i></energy></scstep>\n </calculation>\n</modeling>\n');
    assert.throws(() => readVasprun(f), { message: `${f}: line 3: e_fr_energy: not a number: "1.5x"` });
    writeFileSync(join(dir, 'bad.gz'), 'not gzip at all');
    assert.throws(() => readVasprun(join(dir, 'bad.gz')), (e: unknown) => e instanceof Error && e.message.startsWith(`${join(dir, 'bad.gz')}: cannot decompress: `));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('electronic convergence: NELM reached in the last ionic step is not converged; Fortran overflow reads as NaN', () => {
  const dir = scratch();
  try {
    const f = join(dir, 'vasprun.xml');
    const step = (e: string): string => `<scstep><energy><i name="e_fr_energy"> ${e} </i><i name="e_wo_entrp"> ${e} </i><i name="e_0_energy"> ${e} </i></energy></scstep>`;
    const doc = (nsteps: number): string => `<modeling>\n<parameters><separator name="x"><i type="int" name="NELM"> 3</i><i type="int" name="NSW"> 0</i></separator></parameters>\n` +
      `<calculation>${Array.from({ length: nsteps }, () => step('-1.0')).join('')}<energy><i name="e_fr_energy"> -1.0 </i><i name="e_wo_entrp"> ******** </i><i name="e_0_energy"> -1.0 </i></energy></calculation>\n</modeling>\n`;
    writeFileSync(f, doc(2));
    let r = readVasprun(f);
    assert.equal(r.electronicConverged, true);
    assert.equal(r.ionicConverged, true);
    assert.ok(Number.isNaN(r.energyWithoutEntropyEv));
    writeFileSync(f, doc(3));
    r = readVasprun(f);
    assert.equal(r.electronicConverged, false);
    assert.equal(r.finalEnergyEv, -1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('LEPSILON runs: the leading three-term electronic steps are skipped before comparing with NELM', () => {
  const dir = scratch();
  try {
    const f = join(dir, 'vasprun.xml');
    const three = '<scstep><energy><i name="e_fr_energy"> -2.0 </i><i name="e_wo_entrp"> -2.0 </i><i name="e_0_energy"> -2.0 </i></energy></scstep>';
    const full = '<scstep><energy><i name="alphaZ"> 1.0 </i><i name="e_fr_energy"> -2.0 </i><i name="e_wo_entrp"> -2.0 </i><i name="e_0_energy"> -2.0 </i></energy></scstep>';
    const doc = (nelm: number): string => `<modeling>\n<incar><i type="logical" name="LEPSILON"> T </i></incar>\n` +
      `<parameters><i type="int" name="NELM"> ${nelm}</i><separator name="response functions"><i type="int" name="NELM"> 1</i></separator></parameters>\n` +
      `<calculation>${full}${three}${three}${full}${full}<energy><i name="e_fr_energy"> -2.0 </i><i name="e_0_energy"> -2.0 </i></energy></calculation>\n</modeling>\n`;
    // steps 1 and 2 hold only the three terms, so i stops at 3 and the run is unconverged iff 3 + 1 == NELM
    writeFileSync(f, doc(4));
    assert.equal(readVasprun(f).electronicConverged, false);
    writeFileSync(f, doc(5));
    assert.equal(readVasprun(f).electronicConverged, true);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('OUTCAR: final energy (sigma->0), TOTEN and energy without entropy equal pymatgen', () => {
  for (const [name, r] of Object.entries(ref.outcar)) {
    const got = readOutcar(join(FIX, name));
    assert.equal(got.finalEnergyEv, r.final_energy, name);
    assert.equal(got.freeEnergyEv, r.final_fr_energy, name);
    assert.equal(got.energyWithoutEntropyEv, r.final_energy_wo_entrp, name);
    assert.equal(got.source, 'outcar');
    assert.equal(got.finished, true, name);
  }
  const dir = scratch();
  try {
    const f = join(dir, 'OUTCAR');
    writeFileSync(f, ' running on 4 nodes\n nothing converged yet\n');
    assert.throws(() => readOutcar(f), { message: `${f}: no "energy(sigma->0) =" line: no energy found (not an OUTCAR, or VASP stopped before the first electronic step converged)` });
    writeFileSync(f, '  energy  without entropy=      -10.5  energy(sigma->0) =      -10.25\n');
    const r = readOutcar(f);
    assert.equal(r.finalEnergyEv, -10.25);
    assert.equal(r.finished, false);
    assert.equal(r.freeEnergyEv, null);
    assert.match(r.truncation!, /timing footer/);
    writeFileSync(f, '  energy(sigma->0) =      -1.2.3\n');
    assert.throws(() => readOutcar(f), { message: `${f}: energy value "-1.2.3" is not a number` });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readVaspRun: vasprun.xml first, OUTCAR when vasprun is unusable, errors naming every file', () => {
  const dir = scratch();
  try {
    assert.throws(() => readVaspRun(join(dir, 'nope')), { message: `${join(dir, 'nope')}: folder not found` });
    assert.throws(() => readVaspRun(dir), { message: `${dir}: no vasprun.xml, vasprun.xml.gz, OUTCAR or OUTCAR.gz in the folder` });
    copyFileSync(join(FIX, 'relaxation.OUTCAR.gz'), join(dir, 'OUTCAR.gz'));
    assert.equal(readVaspRun(dir).source, 'outcar');
    writeFileSync(join(dir, 'vasprun.xml'), '<modeling>\n<calc');
    const r = readVaspRun(dir);
    assert.equal(r.source, 'outcar');
    assert.equal(r.finalEnergyEv, ref.outcar['relaxation.OUTCAR.gz']!.final_energy);
    copyFileSync(join(FIX, 'relaxation.vasprun.xml.gz'), join(dir, 'vasprun.xml.gz'));
    const v = readVaspRun(dir);
    assert.equal(v.source, 'vasprun');
    assert.equal(v.finalEnergyEv, ref.vasprun['relaxation.vasprun.xml.gz']!.final_energy);
    const sub = join(dir, 'broken');
    mkdirSync(sub);
    writeFileSync(join(sub, 'vasprun.xml'), '<modeling>\n');
    writeFileSync(join(sub, 'OUTCAR'), 'nothing\n');
    assert.throws(() => readVaspRun(sub), {
      message: `${sub}: no final energy: ${sub}/vasprun.xml: file ends inside <modeling> (line 2): truncated vasprun.xml, and no complete <calculation> before the cut; ` +
        `${sub}/OUTCAR: no "energy(sigma->0) =" line: no energy found (not an OUTCAR, or VASP stopped before the first electronic step converged)`,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('barrier = max(E_mid - E_start, E_mid - E_end) and rejects non-finite energies', () => {
  assert.equal(barrier(-10, -9.5, -10.2), Math.max(0.5, -9.5 + 10.2));
  assert.equal(barrier(-10.2, -9.5, -10), -9.5 + 10.2);
  assert.equal(barrier(1, 1, 1), 0);
  assert.throws(() => barrier(Number.NaN, 0, 0), { name: 'RangeError', message: 'barrier: eStartEv must be a finite energy in eV, got NaN' });
  assert.throws(() => barrier(0, Infinity, 0), { message: 'barrier: eMidEv must be a finite energy in eV, got Infinity' });
  assert.throws(() => barrier(0, 0, Number.NEGATIVE_INFINITY), { message: 'barrier: eEndEv must be a finite energy in eV, got -Infinity' });
});
