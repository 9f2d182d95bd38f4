"""Field and table output of PB solutions."""

from __future__ import annotations

import json

import numpy as np

import poreflux
from meshes import names
from meshes.boxes import wall_mesh
from pnp.problems.electrostatics import DirichletPotential, Electrostatics, PBProblem, SurfaceCharge
from pnp.results.io import plot_axial_profile, write_csv, write_json, write_solution
from pnp.solvers.pb import PBSolver


def _solution(degree=1):
    cm = wall_mesh(5.0, h_wall=0.05, h_far=0.5, dim=2, growth=0.3)
    es = Electrostatics(
        298.15,
        {names.SOLVENT: 78.5},
        surface_charges=[SurfaceCharge(names.WALL, -0.05)],
        dirichlet=[DirichletPotential(names.FAR, 0.0)],
    )
    return PBSolver(cm, PBProblem(es, poreflux.salt("NaCl", 50.0)), degree=degree).solve()


def test_write_fields(tmp_path):
    sol = _solution(degree=2)
    bp = write_solution(sol, tmp_path / "pb", fmt="vtx")
    assert bp.is_dir() and any(bp.iterdir())
    xdmf = write_solution(sol, tmp_path / "pb", fmt="xdmf")
    assert xdmf.exists() and xdmf.with_suffix(".h5").exists()
    text = xdmf.read_text()
    assert "potential_mV" in text and "c_Na+" in text


def test_tables_and_plot(tmp_path):
    sol = _solution()
    z = np.linspace(0.0, 5.0, 20)
    prof = {"z": z, "potential": np.exp(-z), "Na+": 50 + z, "Cl-": 50 - z}
    write_json(tmp_path / "a.json", {"energy": sol.energy_kT, "nan": float("nan"), "z": z})
    data = json.loads((tmp_path / "a.json").read_text())
    assert data["nan"] is None and len(data["z"]) == 20
    write_csv(tmp_path / "p.csv", prof)
    assert (tmp_path / "p.csv").read_text().splitlines()[0] == "z,potential,Na+,Cl-"
    png = plot_axial_profile(prof, tmp_path / "p.png")
    assert png.stat().st_size > 1000
