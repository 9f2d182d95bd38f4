"""The convergence utility: fitted orders, Richardson extrapolation, a reference-quantity study."""

from __future__ import annotations

import numpy as np
import pytest

from meshes import names
from meshes.boxes import wall_mesh
from pnp.problems.electrostatics import DirichletPotential, Electrostatics, PBProblem, VolumeCharge
from pnp.results.refinement import convergence_study, fitted_order, richardson
from pnp.solvers.pb import PBSolver
from poreflux.errors import InputError
from poreflux.units import E_CHARGE, EPS0, K_B, NM

T = 298.15


def test_fitted_order_and_richardson_on_synthetic_data():
    h = np.array([0.4, 0.2, 0.1, 0.05])
    assert fitted_order(h, 3.0 * h**2) == pytest.approx(2.0, abs=1e-12)
    q = 1.5 + 0.7 * h**2 - 0.2 * h**3
    value, order = richardson(h[:3], q[:3])  # order estimated from three values
    assert order == pytest.approx(2.0, abs=0.2)
    assert abs(value - 1.5) < abs(q[2] - 1.5) / 10
    value2, _ = richardson(h, 1.5 + 0.7 * h**2, order=2.0)
    assert value2 == pytest.approx(1.5, abs=1e-12)
    # non-uniform refinement ratios
    hh = np.array([0.3, 0.2, 0.07])
    v3, p3 = richardson(hh, 2.0 + hh**1.5)
    assert p3 == pytest.approx(1.5, abs=1e-6) and v3 == pytest.approx(2.0, abs=1e-9)
    with pytest.raises(InputError):
        fitted_order([0.1], [0.2])
    with pytest.raises(InputError):
        fitted_order([0.2, 0.1], [0.0, 1.0])


def test_convergence_study_with_reference_quantity():
    """Energy of a uniformly charged slab between grounded plates (1D, P1): observed order 2
    against the exact rho^2 L^3 / (24 eps0 eps) and a Richardson value closer than the finest."""
    rho_e, eps, L = 0.02, 4.0, 2.0
    rho = rho_e * E_CHARGE / NM**3
    exact_kT = rho**2 * (L * NM) ** 3 / (24 * EPS0 * eps) * NM**2 / (K_B * T)

    def build(h):
        return wall_mesh(L, h_wall=h, h_far=h, dim=1)

    def solve(cm):
        es = Electrostatics(
            T,
            {names.SOLVENT: eps},
            volume_charges=[VolumeCharge(names.SOLVENT, rho_e)],
            dirichlet=[DirichletPotential(names.WALL, 0.0), DirichletPotential(names.FAR, 0.0)],
        )
        return PBSolver(cm, PBProblem(es, None)).solve()

    res = convergence_study(
        build, solve, [0.4, 0.2, 0.1, 0.05], quantity=lambda s: s.energy_kT, reference=exact_kT
    )
    assert res.orders["quantity"] == pytest.approx(2.0, abs=0.15)
    assert abs(res.extrapolated - exact_kT) < 0.1 * res.errors["quantity"][-1]
    assert res.extrapolation_order == pytest.approx(2.0, abs=0.15)
    assert "order" in res.table()
