"""Whole-process time of a small electrostatics answer: the Born ion to 0.5%.

Each case runs in a fresh Python process (``python -c``), as a user's script would: import,
mesh (from the mesh cache after the first run), forms (from the FFCx cache after the first run),
two PB solves (water and vacuum) and the solvation energy, compared with Born's formula. The
first run of each case warms the caches; the reported figure is the best of the next runs.
The import of ``pnp`` alone is timed the same way (``import_s``): DOLFINx's import (which loads
numba through FFCx) sets the floor.

Writes ``bench/results/startup.json`` with ``born_2d_s``, ``born_3d_s``, ``import_s``, each
case's relative error, all timed runs, and the best run's breakdown (``*_phases``: imports, mesh,
the two solves, and the interpreter's own start-up and shut-down); ``*_gmsh_imported`` says
whether gmsh was loaded at all (false once the mesh comes from the cache: a cached mesh is read
without gmsh).

Usage::

    python bench/startup.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "startup.json"

BORN = """
import time
_t0 = time.perf_counter()
import json, math, sys
from meshes.sphere import SphereGeometry, build_sphere
from pnp.forms.measures import build_measures
from pnp.problems.electrostatics import (
    DirichletPotential, Electrostatics, PBProblem, SurfaceCharge)
from pnp.results.observables import solvation_energy_kj_per_mol
from pnp.solvers.pb import PBSolver
from poreflux.units import E_CHARGE, EPS0, MV, N_A, NM
from poreflux.water import EPS_WATER_25C as EPS_W
_t1 = time.perf_counter()
dim, a, h, growth, T = {dim}, 0.2, {h}, {growth}, 298.15
R = 10 * a
geo = SphereGeometry(radius=a, outer_radius=R, h_surface=h, h_far=R / 4, growth=growth)
cm = build_sphere(geo, dim=dim)
_t2 = time.perf_counter()
sigma = E_CHARGE / (build_measures(cm).area("solute_surface") * NM**2)
energies = []
for eps_out in (EPS_W, 1.0):
    outer = E_CHARGE / (4 * math.pi * EPS0 * eps_out * R * NM) / MV
    es = Electrostatics(T, {{"solute": 1.0, "solvent": eps_out}},
                        surface_charges=[SurfaceCharge("solute_surface", sigma)],
                        dirichlet=[DirichletPotential("outer", outer)])
    energies.append(PBSolver(cm, PBProblem(es, None, model="linear"), degree=2).solve())
dG = solvation_energy_kj_per_mol(*energies)
exact = E_CHARGE**2 * N_A / (8 * math.pi * EPS0 * a * NM) * (1 / EPS_W - 1) / 1e3
_t3 = time.perf_counter()
print(json.dumps({{"dG": dG, "exact": exact, "import_s": _t1 - _t0, "mesh_s": _t2 - _t1,
                  "solve_s": _t3 - _t2, "gmsh_imported": "gmsh" in sys.modules,
                  "cells": cm.mesh.topology.index_map(dim).size_global}}))
"""

#: mesh settings that give the Born energy to 0.5% (as in tests/test_pb_validation.py)
CASES = {
    "born_2d": {"dim": 2, "h": 0.02, "growth": 0.3},
    "born_3d": {"dim": 3, "h": 0.04, "growth": 0.4},
}


def run(code: str, env: dict[str, str]) -> tuple[float, str]:
    """Wall time of ``python -c code`` in a fresh process, and its stdout."""
    t0 = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"startup case failed:\n{proc.stderr[-3000:]}")
    return elapsed, proc.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per case (after one)")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    env["POREFLUX_MESH_CACHE"] = tempfile.mkdtemp(prefix="poreflux-startup-")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    data: dict[str, object] = {}
    load0 = os.getloadavg()[0]
    times = [run("import pnp", env)[0] for _ in range(args.repeat + 1)]
    data["import_s"] = min(times[1:])
    for name, params in CASES.items():
        code = BORN.format(**params)
        runs = [run(code, env) for _ in range(args.repeat + 1)]
        outs = [json.loads(text.strip().splitlines()[-1]) for _, text in runs]
        best = 1 + min(range(args.repeat), key=lambda i: runs[1 + i][0])
        out = outs[best]
        data[f"{name}_s"] = runs[best][0]
        data[f"{name}_runs_s"] = [t for t, _ in runs[1:]]
        data[f"{name}_first_s"] = runs[0][0]
        data[f"{name}_rel_error"] = abs(out["dG"] - out["exact"]) / abs(out["exact"])
        # where the best run's time went: in-script phases, and the rest of the process
        # (interpreter start-up before the first import and shut-down after the answer)
        phases = {k: out[k] for k in ("import_s", "mesh_s", "solve_s")}
        phases["interpreter_s"] = runs[best][0] - sum(phases.values())
        data[f"{name}_phases"] = phases
        data[f"{name}_cells"] = out["cells"]
        data[f"{name}_gmsh_imported"] = out["gmsh_imported"]
        data[f"{name}_first_gmsh_imported"] = outs[0]["gmsh_imported"]
    data["target_born_2d_s"] = 1.2
    data["machine"] = {
        "logical_cpus": os.cpu_count(),
        "load_average_1min": os.getloadavg()[0],
        "python": platform.python_version(),
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "load_average_1min_start": load0,
    }
    print(f"{'case':<10} {'best s':>8} {'first s':>8} {'rel err':>9}")
    print(f"{'import':<10} {data['import_s']:>8.2f}")
    for name in CASES:
        print(
            f"{name:<10} {data[f'{name}_s']:>8.2f} {data[f'{name}_first_s']:>8.2f} "
            f"{data[f'{name}_rel_error']:>9.2e}  "
            + " ".join(f"{k[:-2]} {v:.2f}" for k, v in data[f"{name}_phases"].items())
        )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(data, indent=2) + "\n")
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
