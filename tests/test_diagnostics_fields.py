"""Solution-level diagnostics on DOLFINx fields: local Gamma by hand, location, output, MPI.

The case (tests/mpi_scripts/diag_report.py) is a charged narrow pore stand-in: a Boltzmann
counter-ion excess (psi = -2 kT/e) in a 1 nm-radius pore, bulk 150 mM KCl in the baths.
"""

from __future__ import annotations

import importlib.util
import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import run_mpi
from scipy import constants as sc

from pnp.diagnostics import Severity, diagnose
from pnp.diagnostics import fields as fl
from poreflux import InputError

SCRIPT = Path(__file__).parent / "mpi_scripts" / "diag_report.py"
_spec = importlib.util.spec_from_file_location("diag_report", SCRIPT)
case = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(case)


def _comm():
    from mpi4py import MPI

    return MPI.COMM_WORLD


def l_bjerrum(eps_r: float) -> float:
    return sc.e**2 / (4 * math.pi * sc.epsilon_0 * eps_r * sc.k * case.TEMPERATURE) / 1e-9


def eval_at(func, point):
    """Value of a dolfinx Function at a point (serial helper)."""
    from dolfinx import geometry

    msh = func.function_space.mesh
    x = np.array([[point[0], point[1], 0.0]])
    tree = geometry.bb_tree(msh, msh.topology.dim)
    cells = geometry.compute_colliding_cells(msh, geometry.compute_collisions_points(tree, x), x)
    cell = cells.links(0)[0]
    return float(func.eval(x, np.array([cell], dtype=np.int32))[0]), int(cell)


@pytest.fixture(scope="module")
def solved():
    sol = case.build_case(_comm())
    return sol, diagnose(sol)


def test_counterion_excess_raises_local_gamma_checked_by_hand(solved):
    sol, report = solved
    fields = report.fields
    c_k, c_cl = sol.concentrations["K+"], sol.concentrations["Cl-"]
    # a point on the axis in the pore core: hand computation from the solved concentrations there
    point = (0.1, 0.3)
    k_val, cell = eval_at(c_k, point)
    cl_val, _ = eval_at(c_cl, point)
    assert k_val == pytest.approx(150.0 * math.exp(2.0), rel=1e-12)  # the counter-ion excess
    d_hand = (sc.N_A * (k_val + cl_val)) ** (-1.0 / 3.0) / 1e-9
    gamma_hand = l_bjerrum(78.46) / d_hand  # K+-K+ and K+-Cl- pairs: |z_i z_j| = 1
    k_local = int(np.flatnonzero(fields.data.cells == cell)[0])
    assert fields.gamma[k_local] == pytest.approx(gamma_hand, rel=1e-12)
    assert gamma_hand == pytest.approx(0.627, abs=0.002)
    # ... above the bulk value 0.404 of the baths
    gamma_bulk = l_bjerrum(78.46) / ((sc.N_A * 300.0) ** (-1.0 / 3.0) / 1e-9)
    pore = next(f for f in report.by_check("correlations", level="solution") if f.region == "pore")
    bath = next(f for f in report.by_check("correlations", level="solution") if f.region == "bath")
    assert bath.values["Gamma_max"] == pytest.approx(gamma_bulk, rel=1e-12)
    assert pore.values["Gamma_max"] == pytest.approx(gamma_hand, rel=1e-12)
    assert pore.values["Gamma_max"] > bath.values["Gamma_max"]
    assert pore.severity == Severity.WARNING and bath.severity == Severity.OK
    # the worst pore cell lies in the core (|z| <= 1.5 nm) and the finding says where
    assert abs(pore.z) <= 1.5 and pore.position[1] == pore.z and pore.position[0] <= 1.0
    assert pore.values["c[K+]_mM"] == pytest.approx(k_val, rel=1e-12)


def test_no_ions_in_the_membrane_and_local_permittivity_used(solved):
    _, report = solved
    fields = report.fields
    membrane = fields.data.region_names.index("membrane")
    in_membrane = fields.data.region == membrane
    assert np.all(fields.data.concentrations[in_membrane] == 0.0)
    assert np.all(fields.gamma[in_membrane] == 0.0)
    assert fields.bjerrum_nm[in_membrane] == pytest.approx(l_bjerrum(2.0), rel=1e-12)
    assert not report.by_region("membrane")


def test_axisymmetric_cell_volumes_sum_to_the_cylinder(solved):
    # Pappus: area times 2 pi r_centroid is exact for triangles, so the sum is pi R^2 H
    _, report = solved
    data = report.fields.data
    total = sum(data.comm.allgather(float(data.volumes.sum())))
    assert total == pytest.approx(math.pi * 4.0**2 * 12.0, rel=1e-12)


def test_solution_finite_size_uses_the_profile_at_each_cell(solved):
    _, report = solved
    pore = next(f for f in report.by_check("finite_size", level="solution") if f.region == "pore")
    # R = 1 nm vs the Cl- diameter 0.362 nm: 2.76 diameters, warning (below 4)
    assert pore.values["R_over_a"] == pytest.approx(1.0 / 0.362, rel=1e-9)
    assert pore.severity == Severity.WARNING
    # packing from the local concentrations: K+ 1108 mM, Cl- 20 mM in the core
    eta = (
        sc.N_A * 4 / 3 * math.pi * (150 * math.e**2 * 0.138e-9**3 + 150 * math.e**-2 * 0.181e-9**3)
    )
    assert pore.values["packing_fraction"] == pytest.approx(eta, rel=1e-9)


def test_report_mentions_checks_and_skips_without_duplicates(solved):
    _, report = solved
    assert report.level == "solution"
    assert not any(f.check == "debye_resolution" and f.skipped for f in report.findings)
    assert any(f.check == "non_markovian" and f.skipped for f in report.findings)
    text = str(report)
    assert "solution level" in text and "(solution, pore @ z=" in text
    assert json.loads(report.to_json())["level"] == "solution"


def test_fields_written_for_paraview(solved, tmp_path):
    sol, report = solved
    funcs = fl.to_functions(report.fields, sol.mesh)
    assert {"coupling_gamma", "packing_fraction", "severity"} <= set(funcs)
    assert np.max(funcs["severity"].x.array) == int(Severity.WARNING)
    path = fl.write_fields(tmp_path / "diag", report.fields, sol.mesh)
    assert path.exists() and path.with_suffix(".h5").exists()
    assert "coupling_gamma" in path.read_text()


def test_bad_solution_inputs(solved):
    sol, _ = solved
    from dataclasses import replace

    bad_eps = replace(sol, permittivity={"bath": 78.46, "pore": 0.0, "membrane": 2.0})
    with pytest.raises(InputError, match="permittivity"):
        diagnose(bad_eps)
    with pytest.raises(InputError, match="ion_regions"):
        diagnose(replace(sol, ion_regions=("bath", "lumen")))


def test_three_dimensional_mesh_with_dg0_fields():
    from dolfinx import fem, mesh

    from pnp.diagnostics import DiagnosticInputs, SolutionFields
    from poreflux import salt

    msh = mesh.create_box(_comm(), [[-1.0, -1.0, -2.0], [1.0, 1.0, 2.0]], [4, 4, 8])
    tdim = msh.topology.dim
    n = msh.topology.index_map(tdim).size_local + msh.topology.index_map(tdim).num_ghosts
    cells = np.arange(n, dtype=np.int32)
    tags = mesh.meshtags(msh, tdim, cells, np.ones(n, dtype=np.int32))
    dg0 = fem.functionspace(msh, ("DG", 0))
    c_ca, c_cl = fem.Function(dg0), fem.Function(dg0)
    c_ca.x.array[:] = 500.0
    c_cl.x.array[:] = 1000.0
    electrolyte = salt("CaCl2", 500.0)
    inputs = DiagnosticInputs(electrolyte, case.TEMPERATURE, 78.46)
    sol = SolutionFields(
        inputs, msh, tags, {"bulk": 1}, {"Ca2+": c_ca, "Cl-": c_cl}, {"bulk": 78.46}
    )
    report = diagnose(sol)
    f = report.by_check("correlations", level="solution")[0]
    d = (sc.N_A * 1500.0) ** (-1 / 3) / 1e-9
    assert f.values["Gamma_max"] == pytest.approx(4 * l_bjerrum(78.46) / d, rel=1e-12)
    assert f.values["pair"] == "Ca2+-Ca2+" and f.severity == Severity.BREAKDOWN
    assert f.values["volume_nm3"] == pytest.approx(16.0, rel=1e-12)
    # all cells tie: the reported cell is the one with the smallest z, then x, then y
    assert f.z == pytest.approx(-2.0 + 0.25, abs=0.2)


def test_species_without_radius_at_the_solution_level(solved):
    from dataclasses import replace

    from poreflux import Electrolyte, Species

    sol, _ = solved
    bare = Species("X-", -1, 2.0)  # no ionic radius
    conc = {"K+": sol.concentrations["K+"], bare: sol.concentrations["Cl-"]}
    inputs = replace(sol.inputs, electrolyte=Electrolyte({"K+": 150.0, bare: 150.0}))
    odd = replace(sol, inputs=inputs, concentrations=conc)
    with pytest.raises(InputError, match="'X-' has no ionic_radius"):
        diagnose(odd)
    report = diagnose(odd, checks=["correlations"])
    pore = next(f for f in report.by_check("correlations", level="solution") if f.region == "pore")
    assert pore.values["Gamma_max"] == pytest.approx(0.627, abs=0.002)
    assert not report.by_check("finite_size")


@pytest.mark.mpi
def test_reports_identical_on_two_ranks_and_equal_to_serial(solved):
    _, serial = solved
    out = run_mpi(SCRIPT, nprocs=2, timeout=120)
    lines = sorted(line for line in out.splitlines() if line.startswith("RANK "))
    assert len(lines) == 2
    payloads = [line.split(" ", 2)[2] for line in lines]
    assert payloads[0] == payloads[1]  # byte-identical on every rank
    parallel = json.loads(payloads[0])
    assert parallel["str"] == str(serial)
    _assert_close(parallel["dict"], json.loads(serial.to_json()))


def _assert_close(a, b, path="report"):
    if isinstance(a, dict):
        assert set(a) == set(b), path
        for k in a:
            _assert_close(a[k], b[k], f"{path}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), path
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _assert_close(x, y, f"{path}[{i}]")
    elif isinstance(a, float) and isinstance(b, float):
        assert a == pytest.approx(b, rel=1e-9, abs=1e-12), path
    else:
        assert a == b, path
