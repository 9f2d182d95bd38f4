"""Bad input raises clear exceptions naming the problem; a failed solve never leaves NaN."""

from __future__ import annotations

import math

import numpy as np
import pytest
from pb_helpers import LOWER, UPPER, two_region_box

import poreflux
from meshes import names
from meshes.boxes import wall_mesh
from meshes.record import ChannelMesh
from pnp.problems.electrostatics import (
    DirichletPotential,
    Electrostatics,
    PBProblem,
    PointCharges,
    SurfaceCharge,
    VolumeCharge,
)
from pnp.problems.pqr import read_pqr
from pnp.solvers.pb import PBSolver
from poreflux.errors import ConvergenceError, InputError, MeshTagError

T = 298.15


@pytest.fixture(scope="module")
def wall():
    return wall_mesh(8.0, h_wall=0.02, h_far=0.4, dim=1, growth=0.2)


def _es(**kw):
    base = {"temperature": T, "permittivity": {names.SOLVENT: 78.5}}
    base.update(kw)
    return Electrostatics(**base)


# --- descriptions (no mesh needed) -----------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: poreflux.salt("KCl", -10.0), ValueError, "must be >= 0"),
        (
            lambda: poreflux.Electrolyte({"K+": 100.0, "Cl-": 50.0}),
            ValueError,
            "not electroneutral",
        ),
        (lambda: poreflux.Electrolyte({"Xx+": 1.0}), KeyError, "unknown species"),
        (lambda: _es(permittivity={names.SOLVENT: 0.0}), InputError, "must be > 0"),
        (lambda: _es(permittivity={names.SOLVENT: -2.0}), InputError, "must be > 0"),
        (lambda: _es(permittivity={names.SOLVENT: math.nan}), InputError, "finite"),
        (lambda: _es(temperature=math.nan), InputError, "temperature"),
        (lambda: _es(temperature=-5.0), InputError, "temperature"),
        (lambda: SurfaceCharge(names.WALL, math.nan), InputError, "finite"),
        (lambda: SurfaceCharge(names.WALL, 50.0), InputError, "C/m"),
        (lambda: VolumeCharge(names.SOLVENT, 1e6), InputError, "e/nm"),
        (lambda: DirichletPotential(names.WALL, math.inf), InputError, "finite"),
        (lambda: DirichletPotential("", 1.0), InputError, "non-empty name"),
        (
            lambda: _es(dirichlet=[DirichletPotential("far", 0), DirichletPotential("far", 1)]),
            InputError,
            "two Dirichlet",
        ),
        (
            lambda: PBProblem(_es(), poreflux.salt("KCl", 100), model="debye"),
            InputError,
            "PB model",
        ),
        (
            lambda: PBProblem(_es(), poreflux.salt("KCl", 100), model="bikerman"),
            InputError,
            "ion_size",
        ),
        (
            lambda: PBProblem(_es(), poreflux.salt("KCl", 5000), model="bikerman", ion_size=1.0),
            InputError,
            "packing fraction",
        ),
        (lambda: PBProblem(_es(), {"K+": 1.0}), InputError, "Electrolyte"),
        (lambda: PointCharges(np.zeros((2, 3)), [1.0]), InputError, "one charge per position"),
        (lambda: PointCharges(np.zeros((1, 3)), [1.0], width=0.0), InputError, "width"),
        (lambda: PointCharges(np.full((1, 3), np.nan), [1.0]), InputError, "finite"),
    ],
)
def test_bad_description(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_bad_pqr(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_pqr(tmp_path / "missing.pqr")
    bad = tmp_path / "bad.pqr"
    bad.write_text("ATOM      1  NA  ION     1       0.000   0.000   zero  1.0000 1.2000\n")
    with pytest.raises(InputError, match=r"bad\.pqr:1"):
        read_pqr(bad)
    empty = tmp_path / "empty.pqr"
    empty.write_text("REMARK nothing here\nEND\n")
    with pytest.raises(InputError, match="no ATOM"):
        read_pqr(empty)


# --- descriptions against a mesh -------------------------------------------------------------
def test_unknown_region_name(wall):
    es = _es(permittivity={names.SOLVENT: 78.5, "protien": 4.0})
    with pytest.raises(MeshTagError, match="no region 'protien'"):
        PBSolver(wall, PBProblem(es, poreflux.salt("KCl", 100)))


def test_region_without_permittivity():
    cm = two_region_box(2, 2)
    es = Electrostatics(T, {LOWER: 2.0})
    with pytest.raises(InputError, match=r"no permittivity given for region\(s\) \['upper'\]"):
        PBSolver(cm, PBProblem(es, None))


@pytest.mark.parametrize("where", ["surface", "dirichlet", "volume"])
def test_unknown_boundary_name(wall, where):
    kw = {
        "surface": {"surface_charges": [SurfaceCharge("wal", -0.1)]},
        "dirichlet": {"dirichlet": [DirichletPotential("top", 10.0)]},
        "volume": {"volume_charges": [VolumeCharge("membrane", 0.1)]},
    }[where]
    with pytest.raises(MeshTagError, match="mesh has no"):
        PBSolver(wall, PBProblem(_es(**kw), poreflux.salt("KCl", 100)))


def test_mesh_without_tags(wall):
    untagged = ChannelMesh(wall.mesh, None, None, {names.SOLVENT: 1}, {}, False, (names.SOLVENT,))
    with pytest.raises(MeshTagError, match="no cell tags"):
        PBSolver(untagged, PBProblem(_es(), poreflux.salt("KCl", 100)))


def test_electrolyte_without_water_regions():
    cm = two_region_box(2, 2)
    cm = ChannelMesh(cm.mesh, cm.cell_tags, cm.facet_tags, cm.regions, cm.boundaries, False, ())
    es = Electrostatics(T, {LOWER: 2.0, UPPER: 80.0})
    with pytest.raises(MeshTagError, match="no water regions"):
        PBSolver(cm, PBProblem(es, poreflux.salt("KCl", 100)))


def test_off_axis_point_charge_in_axisymmetric_mesh():
    cm = two_region_box(4, 2, axisymmetric=True)
    pc = PointCharges(np.array([[0.3, 0.0, 0.5]]), [1.0], width=0.1)
    es = Electrostatics(T, {LOWER: 2.0, UPPER: 80.0}, point_charges=pc)
    with pytest.raises(InputError, match="off-axis"):
        PBSolver(cm, PBProblem(es, None))


def test_point_charge_outside_mesh(wall):
    pc = PointCharges(np.array([[50.0, 0.0, 0.0]]), [1.0], width=0.1)
    with pytest.raises(InputError, match="do not overlap the mesh"):
        PBSolver(wall, PBProblem(_es(point_charges=pc), poreflux.salt("KCl", 100)))


@pytest.mark.parametrize(("kw", "match"), [({"degree": 5}, "degree"), ({"solver": "lu"}, "solver")])
def test_bad_solver_options(wall, kw, match):
    with pytest.raises(InputError, match=match):
        PBSolver(wall, PBProblem(_es(), poreflux.salt("KCl", 100)), **kw)


# --- Newton failure and continuation ---------------------------------------------------------
def _charged_wall(sigma, c=10.0):
    es = _es(
        surface_charges=[SurfaceCharge(names.WALL, sigma)],
        dirichlet=[DirichletPotential(names.FAR, 0.0)],
    )
    return PBProblem(es, poreflux.salt("KCl", c))


def test_newton_divergence_raises_with_history(wall):
    solver = PBSolver(wall, _charged_wall(-0.5), max_it=2)
    with pytest.raises(ConvergenceError, match="also with continuation") as info:
        solver.solve()
    err = info.value
    assert len(err.attempts) >= 3
    assert not err.attempts[0].converged and err.attempts[0].residuals
    assert "DIVERGED" in err.attempts[0].reason
    # the solver's field was restored: no NaN is left behind, and a later solve works
    assert np.all(np.isfinite(solver.psi.x.array))


def test_newton_without_continuation_raises(wall):
    solver = PBSolver(wall, _charged_wall(-0.5), max_it=2)
    with pytest.raises(ConvergenceError, match="no continuation") as info:
        solver.solve(continuation=[])
    assert len(info.value.attempts) == 1
    assert len(info.value.attempts[0].residuals) == 3  # initial + 2 Newton steps


def test_continuation_rescues_and_matches_direct(wall):
    direct = PBSolver(wall, _charged_wall(-0.5), max_it=50).solve()
    assert not direct.report.continued
    continued = PBSolver(wall, _charged_wall(-0.5), max_it=6).solve()
    assert continued.report.continued
    assert any(not a.converged for a in continued.report.attempts)
    diff = np.max(np.abs(continued.potential.x.array - direct.potential.x.array))
    assert diff < 1e-6 * np.max(np.abs(direct.potential.x.array))


def test_warm_start_converges_at_once(wall):
    solver = PBSolver(wall, _charged_wall(-0.1, c=100.0))
    first = solver.solve()
    again = solver.solve(initial=first)
    assert again.report.iterations <= 1
    assert again.energy_kT == pytest.approx(first.energy_kT, rel=1e-9)
    # a solution is a private copy: solving again with another charge does not touch it
    before = first.potential.x.array.copy()
    solver.charge_scale.value = 0.5
    half = solver.solve(continuation=[])
    solver.charge_scale.value = 1.0
    assert np.array_equal(first.potential.x.array, before)
    assert abs(half.energy_kT) < abs(first.energy_kT)
