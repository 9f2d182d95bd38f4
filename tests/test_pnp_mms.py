"""Manufactured solutions for the PNP forms (pnp.forms.nernst_planck + pnp.forms.poisson), steady
and transient.

Two species (z = +1, -1, different D), log-concentration unknowns, the potential coupled through
Poisson with K = 2. Exact fields are smooth, positive concentrations; on the axisymmetric
rectangle they are even in r (symmetry on the axis). Sources are computed by UFL from the strong
forms ``-(1/w) div(w eps grad psi) - K sum z c = f0`` and ``-(1/w) div(w J_i) = f_i``; Dirichlet
data from the exact fields on the outer boundary. Orders are fitted with
``pnp.results.refinement.fitted_order`` (np.polyfit of log err vs log h). Expected for P1: L2 2, H1
1.

Transient: BDF2 with dt proportional to h (errors O(h^2 + dt^2)) from exact data at t = 0 and
t = dt (the first step uses the exact history), integrated to t = 0.5; expected L2 order 2.
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
from pnp.forms.measures import build_measures
from pnp.results.refinement import error_norms, fitted_order
from pnp.solvers.newton import NewtonSolver

K = 2.0
VALENCES = (1, -1)
DIFFUSION = (1.0, 2.0)


def exact_fields(x, ax: bool, t=None):
    """(psi, c1, c2) as UFL expressions; ``t`` a UFL constant or None (steady)."""
    pi = math.pi
    zc = x[x.ufl_shape[0] - 1]
    if ax:
        r, z = x[0], x[1]
        a, b = ufl.cos(pi * r), ufl.sin(pi * z)
    else:
        a = ufl.sin(pi * x[0]) * ufl.cos(pi * x[1])
        b = ufl.cos(pi * zc) if x.ufl_shape[0] == 3 else ufl.sin(pi * x[1])
    decay = 1.0 if t is None else ufl.exp(-t)
    psi = 0.8 * a * b + 0.3 * zc
    c1 = 1.0 + 0.5 * a * b * decay
    c2 = 1.0 + 0.4 * ufl.cos(pi * x[0]) * ufl.cos(pi * zc) * decay
    return psi, c1, c2


def div_w(vec, r):
    """``(1/w) div(w vec)`` with w = 2 pi r (axisymmetric) or 1."""
    out = ufl.div(vec)
    return out + vec[0] / r if r is not None else out


def build_problem(cmesh, t_const=None, dt=None):
    msh = cmesh.mesh
    ax = cmesh.axisymmetric
    meas = build_measures(cmesh)
    x = ufl.SpatialCoordinate(msh)
    r = x[0] if ax else None
    w8 = meas.weight
    md = {"quadrature_degree": 4}
    dx = meas.dx(metadata=md)
    # one space object per field: block Dirichlet conditions are matched to spaces
    spaces = [dolfinx.fem.functionspace(msh, ("Lagrange", 1)) for _ in range(3)]
    V = spaces[0]
    psi = dolfinx.fem.Function(V)
    us = [dolfinx.fem.Function(S) for S in spaces[1:]]
    v = ufl.TestFunction(V)
    ws = [ufl.TestFunction(S) for S in spaces[1:]]
    eps = 1.0
    psi_e, c1_e, c2_e = exact_fields(x, ax, t_const)
    ce = (c1_e, c2_e)
    f0 = forms.strong_poisson(psi_e, eps, r) - K * sum(
        z * c for z, c in zip(VALENCES, ce, strict=True)
    )
    F = [
        forms.poisson_operator(psi, v, eps, w8, dx)
        - K * transport.charge_density(us, VALENCES) * v * w8 * dx
        - f0 * v * w8 * dx
    ]
    hist = []
    for u, w, z, d, c in zip(us, ws, VALENCES, DIFFUSION, ce, strict=True):
        j_e = transport.flux(ufl.ln(c), psi_e, valence=z, diffusion=d)
        f = div_w(j_e, r)  # strong: div_w(J) = f (steady), dc/dt + div_w(J) = f + dc/dt
        Fi = transport.steady_residual(u, w, psi, dx, valence=z, diffusion=d, weight=w8)
        Fi = Fi - f * w * w8 * dx
        if t_const is not None:
            u1 = dolfinx.fem.Function(u.function_space)
            u2 = dolfinx.fem.Function(u.function_space)
            a = [dolfinx.fem.Constant(msh, 0.0) for _ in range(3)]
            Fi = Fi + transport.mass_term(u, [u1, u2], a, w, dx, weight=w8)
            # dc/dt of the exact solution: c = 1 + g exp(-t) -> dc/dt = -(c - 1)
            Fi = Fi - (-(c - 1.0)) * w * w8 * dx
            hist.append((u1, u2, a))
        F.append(Fi)
    # Dirichlet data on the outer boundary (not on the axis)
    tdim = msh.topology.dim
    bname = "boundary"
    facets = cmesh.facet_tags.find(cmesh.boundary(bname))
    exprs = [psi_e, ufl.ln(c1_e), ufl.ln(c2_e)]
    gs = [dolfinx.fem.Function(S) for S in spaces]
    pts = V.element.interpolation_points
    compiled = [dolfinx.fem.Expression(e, pts) for e in exprs]
    bcs = []
    for g, e, S in zip(gs, compiled, spaces, strict=True):
        g.interpolate(e)
        dofs = dolfinx.fem.locate_dofs_topological(S, tdim - 1, facets)
        bcs.append(dolfinx.fem.dirichletbc(g, dofs))
    return {
        "F": F,
        "u": [psi, *us],
        "bcs": bcs,
        "bc_funcs": (gs, compiled),
        "hist": hist,
        "exact": exprs,
    }


def _errors(prob, cmesh):
    x = ufl.SpatialCoordinate(cmesh.mesh)
    weight = 2 * np.pi * x[0] if cmesh.axisymmetric else 1.0
    out = []
    for uh, ex in zip(prob["u"], prob["exact"], strict=True):
        out.append(error_norms(uh, lambda _x, ex=ex: ex, weight))
    return out


def _steady(cmesh):
    prob = build_problem(cmesh)
    for f, e in zip(prob["u"], prob["bc_funcs"][1], strict=True):
        f.interpolate(e)  # the discretisation is under test, not Newton's basin
        f.x.array[:] *= 0.9
    newton = NewtonSolver(
        prob["F"],
        prob["u"],
        prob["bcs"],
        name="pnp_mms",
        solver="direct",
        symmetric=False,
        kind="mpi",
    )
    newton.solve()
    return _errors(prob, cmesh)


def _check(hs, errs):
    for k, label in enumerate(("psi", "ln c1", "ln c2")):
        l2 = [e[k]["L2"] for e in errs]
        h1 = [e[k]["H1"] for e in errs]
        p2, p1 = fitted_order(hs, l2), fitted_order(hs, h1)
        assert abs(p2 - 2.0) < 0.15, (label, p2, l2)
        assert abs(p1 - 1.0) < 0.15, (label, p1, h1)


def test_mms_steady_axisymmetric():
    hs, errs = [], []
    for n in (8, 16, 32):
        cm = axisymmetric_rectangle(1.0 / n, r_max=1.0, z_range=(0.0, 1.0))
        hs.append(1.0 / n)
        errs.append(_steady(cm))
    _check(hs, errs)


def test_mms_steady_3d():
    hs, errs = [], []
    for n in (6, 10, 16):
        cm = unit_box(1.0 / n, dim=3)
        hs.append(cm.meta["h"])
        errs.append(_steady(cm))
    _check(hs, errs)


def _transient(cmesh, dt, t_end=0.5):
    msh = cmesh.mesh
    t = dolfinx.fem.Constant(msh, 0.0)
    prob = build_problem(cmesh, t_const=t)
    gs, compiled = prob["bc_funcs"]
    newton = NewtonSolver(
        prob["F"],
        prob["u"],
        prob["bcs"],
        name="pnp_mms_t",
        solver="direct",
        symmetric=False,
        kind="mpi",
    )
    conc_exprs = [
        dolfinx.fem.Expression(e, prob["u"][0].function_space.element.interpolation_points)
        for e in prob["exact"][1:]
    ]

    steps = round(t_end / dt)
    # history levels hold ln c (mass_term exponentiates): exact values at t = 0 and t = dt
    for (u1, u2, _), e in zip(prob["hist"], conc_exprs, strict=True):
        t.value = 0.0
        u2.interpolate(e)
        t.value = dt
        u1.interpolate(e)
    for f, e in zip(prob["u"], compiled, strict=True):
        t.value = dt
        f.interpolate(e)
    for n in range(2, steps + 1):
        time = n * dt
        t.value = time
        for _, _, a in prob["hist"]:
            a[0].value, a[1].value, a[2].value = 1.5 / dt, -2.0 / dt, 0.5 / dt
        for g, e in zip(gs, compiled, strict=True):
            g.interpolate(e)
        newton.solve()
        for (u1, u2, _), u in zip(prob["hist"], prob["u"][1:], strict=True):
            u2.x.array[:] = u1.x.array
            u1.x.array[:] = u.x.array
    return _errors(prob, cmesh)


def test_mms_transient_bdf2_axisymmetric():
    hs, errs = [], []
    for n in (8, 16, 32):
        cm = axisymmetric_rectangle(1.0 / n, r_max=1.0, z_range=(0.0, 1.0))
        hs.append(1.0 / n)
        errs.append(_transient(cm, dt=0.5 / n))
    l2 = [[e[k]["L2"] for e in errs] for k in range(3)]
    for k, label in enumerate(("psi", "ln c1", "ln c2")):
        p = fitted_order(hs, l2[k])
        assert abs(p - 2.0) < 0.15, (label, p, l2[k])


@pytest.mark.parametrize("variables", ["log", "primitive"])
def test_concentration_expression(variables):
    """c(u) is exp(u) for log variables and u itself for primitive ones."""
    from mpi4py import MPI

    msh = dolfinx.mesh.create_unit_interval(MPI.COMM_WORLD, 2)
    c = dolfinx.fem.Constant(msh, 0.3)
    expr = transport.concentration(c, variables)
    val = dolfinx.fem.assemble_scalar(dolfinx.fem.form(expr * ufl.dx(domain=msh)))
    expected = math.exp(0.3) if variables == "log" else 0.3
    assert val == pytest.approx(expected)
