"""Manufactured solutions for the steric PNP forms (pnp.forms.steric) and the BSK correlation
forms (pnp.forms.correlations), P1 and P2, 2D axisymmetric and 3D.

Two species (z = +1, -1, D = 1, 2), chemical-potential unknowns ``w_i``, scaled volumes
(0.3, 0.2), Poisson with K = 2. Exact fields smooth (even in r on the axisymmetric rectangle);
the steric concentrations of the exact ``w`` reach a packing fraction ~0.5. With correlations
(``l = 0.3``) the smoothed charge ``f`` has its own exact field, the source of
``-l^2 div grad f + f = rho`` is manufactured and the natural condition carries the exact normal
derivative ``l^2 grad f_e . n`` on the outer boundary. Sources by UFL from the strong forms;
Dirichlet data for psi and w on the outer boundary. Fitted orders (np.polyfit of log err vs log
h, pnp.results.refinement.fitted_order): P1 L2 2 / H1 1, P2 L2 3 / H1 2, each within 0.2.
"""

from __future__ import annotations

import math

import dolfinx
import numpy as np
import pytest
import ufl

from meshes.boxes import axisymmetric_rectangle, unit_box
from pnp.forms import nernst_planck as transport
from pnp.forms import poisson as forms
from pnp.forms import steric
from pnp.forms.correlations import correlation_residual
from pnp.forms.measures import build_measures
from pnp.results.refinement import error_norms, fitted_order
from pnp.solvers.newton import NewtonSolver

K = 2.0
VALENCES = (1, -1)
DIFFUSION = (1.0, 2.0)
VOLUMES = (0.3, 0.2)
ELL = 0.3


def exact_fields(x, ax: bool):
    """(psi, w1, w2, f) as UFL expressions."""
    pi = math.pi
    zc = x[x.ufl_shape[0] - 1]
    if ax:
        a, b = ufl.cos(pi * x[0]), ufl.sin(pi * zc)
    else:
        a = ufl.sin(pi * x[0]) * ufl.cos(pi * x[1])
        b = ufl.cos(pi * zc) if x.ufl_shape[0] == 3 else ufl.sin(pi * x[1])
    psi = 0.8 * a * b + 0.3 * zc
    w1 = 0.5 + 0.6 * a * b
    w2 = 0.2 + 0.4 * ufl.cos(pi * x[0]) * ufl.cos(pi * zc)
    f = 0.5 * ufl.cos(pi * x[0]) * (1 + zc * zc)
    return psi, w1, w2, f


def div_w(vec, r):
    """``(1/w) div(w vec)`` with w = 2 pi r (axisymmetric) or 1."""
    out = ufl.div(vec)
    return out + vec[0] / r if r is not None else out


def _solve(cmesh, degree: int, correlations: bool):
    msh, ax = cmesh.mesh, cmesh.axisymmetric
    meas = build_measures(cmesh)
    x = ufl.SpatialCoordinate(msh)
    r = x[0] if ax else None
    w8 = meas.weight
    dx = meas.dx(metadata={"quadrature_degree": 2 * degree + 3})
    nfields = 4 if correlations else 3
    spaces = [dolfinx.fem.functionspace(msh, ("Lagrange", degree)) for _ in range(nfields)]
    funcs = [dolfinx.fem.Function(S) for S in spaces]
    tests = [ufl.TestFunction(S) for S in spaces]
    psi, ws = funcs[0], funcs[1:3]
    exact = exact_fields(x, ax)
    psi_e, ws_e, f_e = exact[0], list(exact[1:3]), exact[3]
    c_e = steric.concentrations(ws_e, VOLUMES)
    rho_e = sum(z * c for z, c in zip(VALENCES, c_e, strict=True))
    src_e = f_e if correlations else rho_e
    conc = steric.concentrations(ws, VOLUMES)
    rho = sum(z * c for z, c in zip(VALENCES, conc, strict=True))
    source = funcs[3] if correlations else rho
    s0 = forms.strong_poisson(psi_e, 1.0, r) - K * src_e
    F = [
        forms.poisson_operator(psi, tests[0], 1.0, w8, dx) - (K * source + s0) * tests[0] * w8 * dx
    ]
    for k, (z, d) in enumerate(zip(VALENCES, DIFFUSION, strict=True)):
        j_e = transport.electrochemical_flux(c_e[k], ws_e[k], psi_e, valence=z, diffusion=d)
        j = transport.electrochemical_flux(conc[k], ws[k], psi, valence=z, diffusion=d)
        Fi = transport.transport_residual(j, tests[k + 1], dx, weight=w8)
        F.append(Fi - div_w(j_e, r) * tests[k + 1] * w8 * dx)
    if correlations:
        g = tests[3]
        s_f = -(ELL**2) * div_w(ufl.grad(f_e), r) + f_e - rho_e
        n = ufl.FacetNormal(msh)
        ds = ufl.Measure("ds", domain=msh, subdomain_data=cmesh.facet_tags)(
            cmesh.boundary("boundary")
        )
        Ff = correlation_residual(funcs[3], g, rho, ELL, dx, weight=w8) - s_f * g * w8 * dx
        F.append(Ff - ELL**2 * ufl.inner(ufl.grad(f_e), n) * g * w8 * ds)
    facets = cmesh.facet_tags.find(cmesh.boundary("boundary"))
    fdim = msh.topology.dim - 1
    exprs = [psi_e, *ws_e, f_e][:nfields]
    pts = spaces[0].element.interpolation_points
    bcs = []
    for k, (e, S, u) in enumerate(zip(exprs, spaces, funcs, strict=True)):
        u.interpolate(dolfinx.fem.Expression(e, pts))
        if k < 3:
            g_bc = dolfinx.fem.Function(S)
            g_bc.x.array[:] = u.x.array
            bcs.append(
                dolfinx.fem.dirichletbc(g_bc, dolfinx.fem.locate_dofs_topological(S, fdim, facets))
            )
        u.x.array[:] *= 0.9  # the discretisation is under test, not Newton's basin
    newton = NewtonSolver(
        F, funcs, bcs, name="steric_mms", solver="direct", symmetric=False, kind="mpi"
    )
    newton.solve()
    newton.close()
    weight = 2 * np.pi * x[0] if ax else 1.0
    return [error_norms(u, lambda _x, e=e: e, weight) for u, e in zip(funcs, exprs, strict=True)]


def _study(kind: str, degree: int, correlations: bool):
    hs, errs = [], []
    ns = {
        ("2d", 1): (8, 16, 32),
        ("2d", 2): (4, 8, 16),
        ("3d", 1): (4, 6, 10),
        ("3d", 2): (3, 4, 6),
    }
    for n in ns[(kind, degree)]:
        if kind == "2d":
            cm = axisymmetric_rectangle(1.0 / n, r_max=1.0, z_range=(0.0, 1.0))
            hs.append(1.0 / n)
        else:
            cm = unit_box(1.0 / n, dim=3)
            hs.append(cm.meta["h"])
        errs.append(_solve(cm, degree, correlations))
    labels = ("psi", "w1", "w2", "f")
    for k in range(len(errs[0])):
        l2 = [e[k]["L2"] for e in errs]
        h1 = [e[k]["H1"] for e in errs]
        p2, p1 = fitted_order(hs, l2), fitted_order(hs, h1)
        print(f"{kind} P{degree} {labels[k]}: L2 order {p2:.3f}, H1 order {p1:.3f}")
        assert abs(p2 - (degree + 1)) < 0.2, (labels[k], p2, l2)
        assert abs(p1 - degree) < 0.2, (labels[k], p1, h1)


@pytest.mark.parametrize("correlations", [False, True], ids=["steric", "steric+bsk"])
def test_mms_axisymmetric_p1(correlations):
    _study("2d", 1, correlations)


@pytest.mark.slow
@pytest.mark.parametrize("correlations", [False, True], ids=["steric", "steric+bsk"])
def test_mms_axisymmetric_p2(correlations):
    _study("2d", 2, correlations)


@pytest.mark.slow
@pytest.mark.parametrize("correlations", [False, True], ids=["steric", "steric+bsk"])
@pytest.mark.parametrize("degree", [1, 2])
def test_mms_3d(degree, correlations):
    _study("3d", degree, correlations)
