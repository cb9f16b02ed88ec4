#!/usr/bin/python3
"""Reference final energies of the VASP output fixtures, for test/analysis/vasp-outputs.test.ts.

What it computes
----------------
For every ``*.vasprun.xml.gz`` in test/fixtures/vasp/ (copied from Debian's
``pymatgen-test-files`` 2022.11.7-3, see the README there), pymatgen's
``Vasprun(...)`` with ``exception_on_bad_xml=False`` (so a truncated file keeps
the calculations that were complete, as fracflow does) and parse_dos /
parse_eigen / parse_potcar_file off:

  * ``final_energy`` (``Vasprun.final_energy``: e_0_energy of the last ionic
    step, or the rounded bug-fix value when VASP wrote a wrong e_0_energy),
  * ``converged_electronic``, ``converged_ionic``, ``n_ionic_steps``,
    ``nelm`` / ``nsw`` (from <parameters>) and ``bad_xml`` (whether parsing
    with exception_on_bad_xml=True raises).

For every ``*.OUTCAR.gz``: ``Outcar(f).final_energy`` (last "energy(sigma->0)"),
``final_energy_wo_entrp`` and ``final_fr_energy`` (last "free  energy   TOTEN").

Run: /usr/bin/python3 scripts/ref/vasprun_reference.py
(Debian python3-pymatgen 2022.11.7; writes test/fixtures/vasp/reference.json)
"""
import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_v] = "1"

import glob
import json
import warnings
import xml.etree.ElementTree as ET

import pymatgen
from pymatgen.io.vasp.outputs import Outcar, Vasprun

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "..", "test", "fixtures", "vasp")


def main():
    warnings.simplefilter("ignore")
    out = {"pymatgen": getattr(pymatgen, "__version__", "2022.11.7"), "vasprun": {}, "outcar": {}}
    for path in sorted(glob.glob(os.path.join(FIX, "*.vasprun.xml.gz"))):
        name = os.path.basename(path)
        v = Vasprun(path, parse_dos=False, parse_eigen=False, parse_potcar_file=False, exception_on_bad_xml=False)
        try:
            Vasprun(path, parse_dos=False, parse_eigen=False, parse_potcar_file=False)
            bad = False
        except ET.ParseError:
            bad = True
        out["vasprun"][name] = {
            "final_energy": float(v.final_energy),
            "converged_electronic": bool(v.converged_electronic),
            "converged_ionic": bool(v.converged_ionic),
            "n_ionic_steps": len(v.ionic_steps),
            "nelm": int(v.parameters["NELM"]),
            "nsw": int(v.parameters.get("NSW", 0)),
            "bad_xml": bad,
        }
    for path in sorted(glob.glob(os.path.join(FIX, "*.OUTCAR.gz"))):
        o = Outcar(path)
        out["outcar"][os.path.basename(path)] = {
            "final_energy": o.final_energy,
            "final_energy_wo_entrp": o.final_energy_wo_entrp,
            "final_fr_energy": o.final_fr_energy,
        }
    with open(os.path.join(FIX, "reference.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
