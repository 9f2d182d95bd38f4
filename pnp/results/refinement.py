"""Mesh-convergence studies: errors on a sequence of refined meshes and fitted orders.

:func:`convergence_study` runs a solver on meshes built by the same builder with decreasing
sizes and compares with an exact solution (a UFL expression of the spatial coordinate) or a
reference value of a scalar quantity. The observed order is the slope of
``np.polyfit(log h, log err, 1)``; a scalar quantity is also Richardson-extrapolated.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import ufl
from mpi4py import MPI

from pnp.results.observables import assemble_scalar
from poreflux.errors import InputError

logger = logging.getLogger(__name__)


def fitted_order(h: Sequence[float], errors: Sequence[float]) -> float:
    """Slope of ``log(err)`` against ``log(h)`` by least squares (``np.polyfit``)."""
    h = np.asarray(h, dtype=float)
    e = np.asarray(errors, dtype=float)
    if h.size < 2 or h.size != e.size:
        raise InputError("a fitted order needs >= 2 (h, error) pairs of equal length")
    if np.any(h <= 0) or np.any(e <= 0) or not np.all(np.isfinite(e)):
        raise InputError(f"h and errors must be positive and finite; got h={h}, errors={e}")
    return float(np.polyfit(np.log(h), np.log(e), 1)[0])


def richardson(
    h: Sequence[float], values: Sequence[float], order: float | None = None
) -> tuple[float, float]:
    """Richardson extrapolation to ``h -> 0``: returns ``(value, order)``.

    With ``order`` given the last two values are used,
    ``Q = Q_2 + (Q_2 - Q_1) / ((h_1/h_2)^p - 1)``. Otherwise the last three values determine the
    order from ``(Q_1 - Q_2)/(Q_2 - Q_3) = ((h_1/h_2)^p - 1) / ((h_2/h_3)^p - 1) * (h_2/h_3)^p``
    (solved numerically; for a constant ratio r it reduces to ``p = log(d_12/d_23)/log r``).
    """
    h = np.asarray(h, dtype=float)
    q = np.asarray(values, dtype=float)
    if h.size < 2:
        raise InputError("Richardson extrapolation needs >= 2 values")
    if order is None:
        if h.size < 3:
            raise InputError("Richardson extrapolation without an order needs >= 3 values")
        h1, h2, h3 = h[-3:]
        q1, q2, q3 = q[-3:]
        d12, d23 = q1 - q2, q2 - q3
        if d23 == 0 or d12 / d23 <= 0:
            return float(q3), float("nan")
        from scipy.optimize import brentq

        def g(p: float) -> float:
            a, b = (h1 / h2) ** p, (h2 / h3) ** p
            return (a - 1) * b / (b - 1) - d12 / d23

        try:
            order = brentq(g, 0.05, 12.0)
        except ValueError:
            return float(q3), float("nan")
    r = h[-2] / h[-1]
    value = q[-1] + (q[-1] - q[-2]) / (r**order - 1)
    return float(value), float(order)


def mesh_size(cmesh: Any) -> float:
    """Largest cell diameter of the mesh (MPI-reduced); ``meta["h"]`` when the builder gives one."""
    if isinstance(getattr(cmesh, "meta", None), dict) and "h" in cmesh.meta:
        return float(cmesh.meta["h"])
    msh = cmesh.mesh
    tdim = msh.topology.dim
    n = msh.topology.index_map(tdim).size_local
    hloc = float(np.max(msh.h(tdim, np.arange(n, dtype=np.int32)))) if n else 0.0
    return float(msh.comm.allreduce(hloc, op=MPI.MAX))


def error_norms(
    uh: Any, exact: Callable[[Any], Any], weight: Any = 1.0, quadrature_degree: int | None = None
) -> dict[str, float]:
    """L2 norm and H1 seminorm of ``uh - exact(x)``, with the integration weight (``2 pi r``).

    ``exact`` maps the UFL spatial coordinate to an expression; the quadrature degree defaults to
    ``2 degree(uh) + 4`` (even: some odd-degree tetrahedron rules measured a spuriously slow H1
    convergence of P2 interpolants of smooth functions).
    """
    msh = uh.function_space.mesh
    x = ufl.SpatialCoordinate(msh)
    e = uh - exact(x)
    p = uh.function_space.ufl_element().embedded_superdegree
    deg = 2 * p + 4 if quadrature_degree is None else int(quadrature_degree)
    dx = ufl.dx(domain=msh, metadata={"quadrature_degree": deg})
    l2 = assemble_scalar(e * e * weight * dx, msh.comm)
    h1 = assemble_scalar(ufl.inner(ufl.grad(e), ufl.grad(e)) * weight * dx, msh.comm)
    return {"L2": math.sqrt(max(l2, 0.0)), "H1": math.sqrt(max(h1, 0.0))}


@dataclass(frozen=True)
class ConvergenceResult:
    """Outcome of :func:`convergence_study`.

    Attributes
    ----------
    h
        Mesh sizes.
    errors
        Norm name (``"L2"``, ``"H1"``, ``"quantity"``) -> errors per mesh.
    orders
        Norm name -> fitted observed order.
    values
        The scalar quantity per mesh (if one was given).
    extrapolated
        Richardson-extrapolated quantity (if >= 3 meshes, or 2 with ``expected_order``).
    dofs
        Global dofs per mesh (when the solution exposes a function space).
    """

    h: np.ndarray
    errors: dict[str, np.ndarray]
    orders: dict[str, float]
    values: np.ndarray | None = None
    extrapolated: float | None = None
    extrapolation_order: float | None = None
    dofs: np.ndarray = field(default_factory=lambda: np.zeros(0))

    def table(self) -> str:
        """A printable table of h, errors and orders."""
        keys = sorted(self.errors)
        lines = ["h".rjust(12) + "".join(k.rjust(14) for k in keys)]
        for i, h in enumerate(self.h):
            lines.append(f"{h:12.4e}" + "".join(f"{self.errors[k][i]:14.4e}" for k in keys))
        lines.append("order".rjust(12) + "".join(f"{self.orders[k]:14.3f}" for k in keys))
        return "\n".join(lines)


def convergence_study(
    build: Callable[[float], Any],
    solve: Callable[[Any], Any],
    sizes: Sequence[float],
    *,
    exact: Callable[[Any], Any] | None = None,
    field_of: Callable[[Any], Any] = lambda result: result,
    weight_of: Callable[[Any], Any] | None = None,
    quantity: Callable[[Any], float] | None = None,
    reference: float | None = None,
    expected_order: float | None = None,
    h_of: Callable[[Any], float] = mesh_size,
) -> ConvergenceResult:
    """Run ``solve(build(size))`` for each size and measure the convergence.

    Parameters
    ----------
    build
        Mesh builder ``size -> ChannelMesh`` (the same geometry with another mesh size).
    solve
        ``ChannelMesh -> result``.
    sizes
        Decreasing mesh-size parameters passed to ``build``.
    exact
        Exact solution ``x -> UFL expression``; gives ``"L2"`` and ``"H1"`` errors of
        ``field_of(result)``.
    weight_of
        ``cmesh -> weight`` of the norms (default ``2 pi r`` for axisymmetric meshes, else 1).
    quantity
        ``result -> float``; with ``reference`` gives ``"quantity"`` errors, and is
        Richardson-extrapolated.
    expected_order
        Order used by the Richardson extrapolation when fewer than 3 meshes are given.
    h_of
        ``cmesh -> h`` (default :func:`mesh_size`).
    """
    sizes = list(sizes)
    if len(sizes) < 2:
        raise InputError("a convergence study needs at least 2 mesh sizes")
    if exact is None and quantity is None:
        raise InputError("give an exact solution (exact=) or a scalar quantity (quantity=)")
    hs, errs, vals, dofs = [], {}, [], []
    for size in sizes:
        cmesh = build(size)
        result = solve(cmesh)
        hs.append(h_of(cmesh))
        if exact is not None:
            uh = field_of(result)
            if weight_of is not None:
                w = weight_of(cmesh)
            elif getattr(cmesh, "axisymmetric", False):
                w = 2 * np.pi * ufl.SpatialCoordinate(cmesh.mesh)[0]
            else:
                w = 1.0
            for k, v in error_norms(uh, exact, w).items():
                errs.setdefault(k, []).append(v)
            V = uh.function_space
            dofs.append(V.dofmap.index_map.size_global * V.dofmap.index_map_bs)
        if quantity is not None:
            vals.append(float(quantity(result)))
            if reference is not None:
                errs.setdefault("quantity", []).append(abs(vals[-1] - reference))
        logger.info("convergence: size %g -> h %g", size, hs[-1])
    h = np.asarray(hs)
    errors = {k: np.asarray(v) for k, v in errs.items()}
    orders = {k: fitted_order(h, v) for k, v in errors.items() if np.all(v > 0)}
    extrapolated = ext_order = None
    if vals and (len(vals) >= 3 or expected_order is not None):
        extrapolated, ext_order = richardson(h, vals, expected_order)
    return ConvergenceResult(
        h=h,
        errors=errors,
        orders=orders,
        values=np.asarray(vals) if vals else None,
        extrapolated=extrapolated,
        extrapolation_order=ext_order,
        dofs=np.asarray(dofs),
    )
