"""Diagnostics on the real PB and PNP solvers and channel meshes (pnp.diagnostics.adapters).

Case (tests/mpi_scripts/diag_pb.py): a 0.6 nm-radius pore with a -0.1 C/m^2 wall in 150 mM KCl.
"""

from __future__ import annotations

import importlib.util
import json
import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import run_mpi
from scipy import constants as sc

from pnp.diagnostics import Severity, diagnose
from pnp.diagnostics.adapters import inputs_from_problem, profile_from_channel
from poreflux import InputError, salt

SCRIPT = Path(__file__).parent / "mpi_scripts" / "diag_pb.py"
_spec = importlib.util.spec_from_file_location("diag_pb", SCRIPT)
case = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(case)


def _comm():
    from mpi4py import MPI

    return MPI.COMM_WORLD


def l_bjerrum(eps_r: float) -> float:
    return sc.e**2 / (4 * math.pi * sc.epsilon_0 * eps_r * sc.k * case.TEMPERATURE) / 1e-9


def eval_at(func, point):
    from dolfinx import geometry

    msh = func.function_space.mesh
    x = np.array([point], dtype=float)
    tree = geometry.bb_tree(msh, msh.topology.dim)
    cells = geometry.compute_colliding_cells(msh, geometry.compute_collisions_points(tree, x), x)
    return float(func.eval(x, np.array([cells.links(0)[0]], dtype=np.int32))[0])


@pytest.fixture(scope="module")
def pb_case():
    cm, problem, solution = case.solve(_comm())
    return cm, problem, solution, diagnose(solution)


def test_profile_from_channel_geometry_and_from_the_mesh(pb_case):
    cm = pb_case[0]
    exact = profile_from_channel(cm)  # the mesh's geometry record: exact polyline
    pore = exact.indices("pore")
    assert np.allclose(exact.radius[pore], case.RADIUS)
    assert exact.z[pore].min() == pytest.approx(-1.5) and exact.z[pore].max() == pytest.approx(1.5)
    assert np.all(exact.radius[exact.indices("bath")] == 4.0)
    measured = profile_from_channel(replace(cm, geometry=None), num=121)  # from the wall facets
    inner = np.abs(measured.z) < 1.4
    assert np.allclose(measured.radius[inner], case.RADIUS, atol=1e-9)
    assert set(np.asarray(measured.region)[inner]) == {"pore"}


def test_pb_problem_level_from_the_channel(pb_case):
    cm, problem, _, _ = pb_case
    bulk = diagnose(problem)  # no geometry: the bulk electrolyte only
    assert bulk.regions == ("bulk",) and bulk.worst == Severity.OK
    report = diagnose(problem, cmesh=cm)
    f = next(f for f in report.by_check("finite_size") if f.region == "pore")
    # R = 0.6 nm < 2 a(Cl-) = 0.724 nm
    assert f.severity == Severity.BREAKDOWN
    assert f.values["R_over_a"] == pytest.approx(0.6 / 0.362, rel=1e-9)
    du = next(f for f in report.by_check("surface_conduction"))
    assert du.values["surface_charge_C_m2"] == case.SIGMA
    res = next(f for f in report.by_check("debye_resolution"))
    assert res.values["mesh_size_nm"] == 0.1  # h_pore of the geometry


def test_pb_solution_gamma_at_the_worst_cell_by_hand(pb_case):
    _, _, solution, report = pb_case
    pore = next(f for f in report.by_check("correlations", level="solution") if f.region == "pore")
    bath_bulk = l_bjerrum(78.46) / ((sc.N_A * 300.0) ** (-1 / 3) / 1e-9)
    assert pore.values["Gamma_max"] > 2 * bath_bulk  # counter-ion excess at the charged wall
    # hand computation from the solved concentrations at the reported point
    point = pore.position
    c_k = eval_at(solution.concentration("K+"), point)
    c_cl = eval_at(solution.concentration("Cl-"), point)
    assert c_k > 10 * c_cl  # counter-ions dominate
    d = (sc.N_A * (c_k + c_cl)) ** (-1 / 3) / 1e-9
    assert pore.values["Gamma_max"] == pytest.approx(l_bjerrum(78.46) / d, rel=1e-9)
    assert pore.severity == Severity.BREAKDOWN
    assert abs(pore.z) <= 1.5 and point[0] <= case.RADIUS
    # no ions in the membrane, although the PB concentration expression is defined there
    assert not report.by_region("membrane")


def test_pnp_solution_on_the_water_submesh():
    from pnp.problems.transport import channel_problem
    from pnp.solvers.steady import SteadyPNPSolver

    cm = pytest.importorskip("meshes.channel").build_channel(case.geometry(), dim=2, comm=_comm())
    problem = channel_problem(
        cm, salt("KCl", 150.0), voltage=50.0, surface_charge=case.SIGMA,
        permittivity=case.EPS, temperature=case.TEMPERATURE,
    )  # fmt: skip
    solution = SteadyPNPSolver(cm, problem).solve()
    with pytest.raises(InputError, match="cmesh"):
        diagnose(solution)
    report = diagnose(solution, cmesh=cm, memory_time=0.001, hopping_time=0.1)
    pore = next(f for f in report.by_check("correlations", level="solution") if f.region == "pore")
    c_k = eval_at(solution.concentration("K+"), pore.position)
    c_cl = eval_at(solution.concentration("Cl-"), pore.position)
    d = (sc.N_A * (c_k + c_cl)) ** (-1 / 3) / 1e-9
    assert pore.values["Gamma_max"] == pytest.approx(l_bjerrum(78.46) / d, rel=1e-6)
    assert pore.severity == Severity.BREAKDOWN
    mem = report.by_check("non_markovian")[0]
    assert not mem.skipped and mem.values["ratio"] == pytest.approx(0.01)


def test_hourglass_constriction_located_from_the_geometry():
    from meshes.channel import hourglass_pore
    from pnp.problems.electrostatics import Electrostatics, PBProblem

    g = hourglass_pore(1.5, 1.5, 0.3, thickness=4.0, constriction_z=0.8, h_pore=0.1)
    es = Electrostatics(case.TEMPERATURE, {"bath": 78.46, "pore": 78.46, "membrane": 2.0})
    inputs = inputs_from_problem(PBProblem(es, salt("KCl", 150.0)), g)
    f = next(f for f in diagnose(inputs).by_check("finite_size") if f.region == "pore")
    assert f.severity == Severity.BREAKDOWN and f.z == pytest.approx(0.8, abs=1e-12)
    assert f.values["R_over_a[K+]"] == pytest.approx(0.3 / 0.276, rel=1e-9)
    assert all(
        b.severity == Severity.OK for b in diagnose(inputs).by_check("finite_size")
        if b.region == "bath"
    )  # fmt: skip


@pytest.mark.mpi
def test_pb_report_identical_on_two_ranks(pb_case):
    serial = pb_case[3]
    out = run_mpi(SCRIPT, nprocs=2, timeout=300)
    lines = sorted(line for line in out.splitlines() if line.startswith("RANK "))
    assert len(lines) == 2
    payloads = [line.split(" ", 2)[2] for line in lines]
    assert payloads[0] == payloads[1]
    parallel = json.loads(payloads[0])["dict"]
    reference = json.loads(serial.to_json())
    # the PB solve itself differs at round-off between partitions: compare verdicts and places
    # exactly, numbers to 1e-6
    assert parallel["worst_by_region"] == reference["worst_by_region"]
    for a, b in zip(parallel["findings"], reference["findings"], strict=True):
        assert (a["check"], a["region"], a["severity"], a["level"]) == (
            b["check"], b["region"], b["severity"], b["level"],
        )  # fmt: skip
        for key, value in a["values"].items():
            if isinstance(value, float):
                assert value == pytest.approx(b["values"][key], rel=1e-6, abs=1e-12), key
