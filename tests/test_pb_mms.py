"""Manufactured solutions for linear, nonlinear and Bikerman PB with piecewise permittivity.

The exact solution (tests/pb_helpers.exact_piecewise) is smooth in each of two regions with
permittivities 2 and 8, continuous with continuous flux ``eps du/dz`` across the interface at
z = 1/2 (which the meshes resolve), and satisfies the symmetry condition on the axis in the
axisymmetric case. The source is ``f = -(1/w) div(w eps grad u) - K sum_i z_i c_i(u)`` computed
symbolically by UFL. Observed orders from ``np.polyfit(log h, log err, 1)``: P1 L2 ~ 2, H1 ~ 1;
P2 L2 ~ 3, H1 ~ 2 (each within 0.15).
"""

from __future__ import annotations

import dolfinx
import numpy as np
import pytest
import ufl
from pb_helpers import BOUNDARY, LOWER, UPPER, exact_piecewise, two_region_box

from pnp.forms import poisson as forms
from pnp.forms.measures import build_measures, permittivity_field
from pnp.results.refinement import convergence_study
from pnp.solvers.newton import NewtonSolver

EPS = (2.0, 8.0)
K = 3.0  # (L0/lambda0)^2: kappa^2 = 2 K / eps ~ 0.75..3, so the ions matter


def solve_mms(cmesh, degree: int, model: str):
    """Solve the manufactured PB problem on ``cmesh``; returns (psi, exact(x))."""
    msh = cmesh.mesh
    ax = cmesh.axisymmetric
    meas = build_measures(cmesh)
    eps_r = permittivity_field(cmesh, {LOWER: EPS[0], UPPER: EPS[1]})
    V = dolfinx.fem.functionspace(msh, ("Lagrange", degree))
    psi = dolfinx.fem.Function(V)
    v = ufl.TestFunction(V)
    x = ufl.SpatialCoordinate(msh)
    z = x[msh.geometry.dim - 1]

    def exact(xx):
        return exact_piecewise(xx, ufl, EPS[0], EPS[1], ax)

    ue = exact(x)
    eps_exact = ufl.conditional(ufl.lt(z, 0.5), EPS[0], EPS[1])
    valences = (1, -1)
    bulk = [dolfinx.fem.Constant(msh, 1.0), dolfinx.fem.Constant(msh, 1.0)]
    coef = dolfinx.fem.Constant(msh, K)
    nus = [dolfinx.fem.Constant(msh, 0.2)] * 2 if model == "bikerman" else []
    f = forms.strong_poisson(ue, eps_exact, meas.r) - coef * forms.mobile_charge(
        ue, valences, bulk, model, nus
    )
    dxq = meas.dx(metadata={"quadrature_degree": 2 * degree + 2})
    w = meas.weight
    F = (
        forms.pb_residual(
            psi,
            v,
            eps_r=eps_r,
            weight=w,
            dx=dxq,
            coefficient=coef,
            mobile=forms.mobile_charge(psi, valences, bulk, model, nus),
            dx_water=dxq,
        )
        - f * v * w * dxq
    )
    ub = dolfinx.fem.Function(V)
    ub.interpolate(dolfinx.fem.Expression(ue, V.element.interpolation_points))
    fdim = msh.topology.dim - 1
    dofs = dolfinx.fem.locate_dofs_topological(
        V, fdim, cmesh.facet_tags.find(cmesh.boundary(BOUNDARY))
    )
    report = NewtonSolver(F, psi, [dolfinx.fem.dirichletbc(ub, dofs)], name="mms").solve()
    assert report.iterations <= 8
    return psi, exact


def _study(dim: int, axisymmetric: bool, degree: int, model: str, ns: list[int]):
    return convergence_study(
        lambda n: two_region_box(n, dim, axisymmetric),
        lambda cm: solve_mms(cm, degree, model),
        ns,
        exact=lambda x: exact_piecewise(x, ufl, EPS[0], EPS[1], axisymmetric),
        field_of=lambda res: res[0],
    )


CASES = [
    # (dim, axisymmetric, degree, model, mesh divisions)
    pytest.param(2, True, 1, "linear", [8, 16, 32, 64], id="axisym-P1-linear"),
    pytest.param(2, True, 1, "nonlinear", [8, 16, 32, 64], id="axisym-P1-nonlinear"),
    pytest.param(2, True, 2, "linear", [4, 8, 16, 32], id="axisym-P2-linear"),
    pytest.param(2, True, 2, "nonlinear", [4, 8, 16, 32], id="axisym-P2-nonlinear"),
    pytest.param(3, False, 1, "linear", [4, 8, 16], id="3d-P1-linear"),
    pytest.param(3, False, 1, "nonlinear", [4, 8, 16], id="3d-P1-nonlinear"),
    pytest.param(3, False, 2, "nonlinear", [4, 6, 8], id="3d-P2-nonlinear"),
    pytest.param(2, True, 1, "bikerman", [8, 16, 32, 64], id="axisym-P1-bikerman"),
    pytest.param(3, False, 1, "bikerman", [4, 8, 16], id="3d-P1-bikerman"),
]


@pytest.mark.parametrize(("dim", "axisymmetric", "degree", "model", "ns"), CASES)
def test_mms_orders(dim, axisymmetric, degree, model, ns):
    res = _study(dim, axisymmetric, degree, model, ns)
    print(f"\n{dim}D axisym={axisymmetric} P{degree} {model}\n{res.table()}")
    assert abs(res.orders["L2"] - (degree + 1)) < 0.15, res.table()
    assert abs(res.orders["H1"] - degree) < 0.15, res.table()
    # the error really is small on the finest mesh (not just decaying)
    assert res.errors["L2"][-1] < 1e-2


@pytest.mark.parametrize(
    ("dim", "axisymmetric", "degree", "model", "ns"),
    [
        pytest.param(2, True, 1, "nonlinear", [16, 32, 64, 128], id="axisym-P1-fine"),
        pytest.param(3, False, 1, "nonlinear", [8, 12, 16, 24], id="3d-P1-fine"),
        pytest.param(3, False, 2, "linear", [4, 8, 12, 16], id="3d-P2-fine"),
    ],
)
def test_mms_orders_fine(dim, axisymmetric, degree, model, ns):
    """Finer series (4 meshes each), still ~10 s."""
    res = _study(dim, axisymmetric, degree, model, ns)
    print(f"\n{dim}D axisym={axisymmetric} P{degree} {model}\n{res.table()}")
    assert abs(res.orders["L2"] - (degree + 1)) < 0.15, res.table()
    assert abs(res.orders["H1"] - degree) < 0.15, res.table()


def test_exact_solution_has_continuous_flux_and_axis_symmetry():
    """The manufactured solution itself: continuous u and eps du/dz at z = 1/2, du/dr(0) = 0."""
    r = np.linspace(0.0, 1.0, 7)
    h = 1e-7
    for ax in (True, False):
        pts_lo = np.array([r, np.full_like(r, 0.3), np.full_like(r, 0.5 - h)])
        pts_hi = np.array([r, np.full_like(r, 0.3), np.full_like(r, 0.5 + h)])
        if ax:
            pts_lo, pts_hi = pts_lo[[0, 2]], pts_hi[[0, 2]]
        u_lo = exact_piecewise(pts_lo, np, *EPS, ax)
        u_hi = exact_piecewise(pts_hi, np, *EPS, ax)
        assert np.allclose(u_lo, u_hi, atol=1e-6)
    # axis symmetry: u(r) - u(0) = O(r^2)
    z = 0.7
    dr = 1e-4
    u0 = exact_piecewise(np.array([[0.0], [z]]), np, *EPS, True)
    u1 = exact_piecewise(np.array([[dr], [z]]), np, *EPS, True)
    assert abs(u1 - u0)[0] / dr < 1e-3
