"""Channel observables from PNP solutions: currents, conductance, I-V, reversal potential, ...

Currents through the bath ends are computed **conservatively**: for species ``i`` the weak
(residual-based) flux ``int J_i . grad(w) dV`` with ``w`` the discrete P1 function equal to 1 on
the end's nodes and 0 at every other node. Because the steady Nernst-Planck residual vanishes for
every test function that is zero on the bath ends, this is the exact discrete boundary flux:
the currents through the two ends agree to the Newton tolerance (Galerkin ``J_h . n`` does not,
by ~1% on charged pores). Currents through interior cross-sections ``z = const`` are
computed from the field gradients (cut-cell quadrature of ``J_h . e_z`` over the exact
intersection of the water mesh with the plane) and converge to the conservative value under
refinement.

Units: currents in pA (positive = positive charge from top to bottom), conductance in pS,
voltages in mV, concentrations in mM, lengths in nm.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dolfinx
import numpy as np
import ufl
from mpi4py import MPI

from pnp.forms import nernst_planck as transport
from pnp.problems.transport import conductivity_S_per_m
from poreflux.errors import ConvergenceError, InputError
from poreflux.units import NM, PS_SIEMENS

log = logging.getLogger(__name__)


# ------------------------------------------------------------------------------ bath ends
def boundary_indicator(space: Any, dofs: np.ndarray, name: str = "w") -> Any:
    """P1 function equal to 1 at ``dofs`` (located on this rank's facets) and 0 elsewhere,
    made consistent across ranks (a dof found only by a neighbour rank is set too)."""
    w = dolfinx.fem.Function(space, name=name)
    w.x.array[dofs] = 1.0
    w.x.scatter_reverse(dolfinx.la.InsertMode.add)
    nowned = space.dofmap.index_map.size_local * space.dofmap.index_map_bs
    w.x.array[:nowned] = np.minimum(w.x.array[:nowned], 1.0)
    w.x.scatter_forward()
    return w


class _EndForms:
    """Compiled weak-flux functionals of every species for both bath ends (built once)."""

    def __init__(self, solver: Any) -> None:
        pb, opts = solver.problem, solver.options
        self.w_top = boundary_indicator(solver.W, solver.top_dofs_w, "w_top")
        self.w_bottom = boundary_indicator(solver.W, solver.bottom_dofs_w, "w_bottom")
        self.forms: dict[str, list[Any]] = {}
        for end, w in (("top", self.w_top), ("bottom", self.w_bottom)):
            self.forms[end] = [
                dolfinx.fem.form(
                    transport.weak_flux(
                        u,
                        solver.psi,
                        w,
                        solver.dx_water,
                        valence=z,
                        diffusion=d,
                        weight=solver.measures.weight,
                        mu_ex=mu,
                        variables=opts.variables,
                    ),
                    entity_maps=[solver.entity_map],
                )
                for u, z, d, mu in zip(
                    solver.us, pb.valences, pb.diffusivities, solver.mu, strict=True
                )
            ]
        self.valences = pb.valences
        self.scale = solver.scales.current_scale_pA

    def evaluate(self, comm: Any) -> tuple[list[float], list[float]]:
        out = {}
        for end, forms in self.forms.items():
            local = np.array([dolfinx.fem.assemble_scalar(f) for f in forms], dtype=float)
            out[end] = comm.allreduce(local, op=MPI.SUM)
        # flux leaving through top = charge moving up; current is positive top -> bottom
        top = [-z * f * self.scale for z, f in zip(self.valences, out["top"], strict=True)]
        bottom = [z * f * self.scale for z, f in zip(self.valences, out["bottom"], strict=True)]
        return top, bottom


def end_currents(solver: Any) -> tuple[list[float], list[float]]:
    """Conservative species currents [pA] through the top and bottom ends of a solver's state."""
    forms = getattr(solver, "_end_forms", None)
    if forms is None:
        forms = _EndForms(solver)
        solver._end_forms = forms
    return forms.evaluate(solver.comm)


# ------------------------------------------------------------------------------ cross-sections
def _axis_index(solution: Any) -> int:
    return solution.psi.function_space.mesh.geometry.dim - 1


def _cut_quadrature(
    msh: Any, z0: float, axis: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Quadrature on the intersection of the plane ``x[axis] = z0`` with the owned cells.

    Returns ``(cells, points, weights, bary)``: for each quadrature point its cell, coordinates
    ``(n, gdim)``, area weight (without the axisymmetric ``2 pi r``) and barycentric coordinates
    in its cell. Exact geometry: the plane cuts each simplex along a segment (2D) or a triangle
    or quadrilateral (3D).
    """
    gdim = msh.geometry.dim
    tdim = msh.topology.dim
    nowned = msh.topology.index_map(tdim).size_local
    geo = msh.geometry.dofmaps[0][:nowned]
    X = msh.geometry.x[geo][:, :, :gdim]  # (ncell, nv, gdim)
    d = X[:, :, axis] - z0
    tol = 1e-9 * max(1.0, abs(z0))
    d = np.where(np.abs(d) < tol, tol, d)  # nodes on the plane count as above it
    cut = (d.min(axis=1) < 0) & (d.max(axis=1) > 0)
    cells = np.flatnonzero(cut).astype(np.int32)
    if gdim == 2:
        rule_s = np.array([0.5 - math.sqrt(15) / 10, 0.5, 0.5 + math.sqrt(15) / 10])
        rule_w = np.array([5 / 18, 8 / 18, 5 / 18])
    out_c, out_p, out_w = [], [], []
    for c in cells:
        xs, ds = X[c], d[c]
        pts = []
        nv = len(ds)
        for i in range(nv):
            for j in range(i + 1, nv):
                if ds[i] * ds[j] < 0:
                    t = ds[i] / (ds[i] - ds[j])
                    pts.append(xs[i] + t * (xs[j] - xs[i]))
        pts = np.array(pts)
        if gdim == 2:
            if len(pts) != 2:
                continue
            a, b = pts
            length = float(np.linalg.norm(b - a))
            for s, w in zip(rule_s, rule_w, strict=True):
                out_c.append(c)
                out_p.append(a + s * (b - a))
                out_w.append(w * length)
        else:
            centre = pts.mean(axis=0)
            rel = pts - centre
            other = [k for k in range(3) if k != axis]
            order = np.argsort(np.arctan2(rel[:, other[1]], rel[:, other[0]]))
            poly = pts[order]
            for k in range(len(poly)):
                tri = np.array([centre, poly[k], poly[(k + 1) % len(poly)]])
                area = 0.5 * float(np.linalg.norm(np.cross(tri[1] - tri[0], tri[2] - tri[0])))
                for bary in ((2 / 3, 1 / 6, 1 / 6), (1 / 6, 2 / 3, 1 / 6), (1 / 6, 1 / 6, 2 / 3)):
                    out_c.append(c)
                    out_p.append(np.asarray(bary) @ tri)
                    out_w.append(area / 3)
    if not out_c:
        return (np.zeros(0, np.int32), np.zeros((0, gdim)), np.zeros(0), np.zeros((0, gdim + 1)))
    cells_q = np.asarray(out_c, dtype=np.int32)
    points = np.asarray(out_p)
    weights = np.asarray(out_w)
    # barycentric coordinates of each point in its cell
    Xc = X[cells_q]
    B = np.transpose(Xc[:, 1:, :] - Xc[:, :1, :], (0, 2, 1))  # (n, gdim, tdim)
    lam = np.linalg.solve(B, (points - Xc[:, 0, :])[..., None])[..., 0]
    bary = np.concatenate([1 - lam.sum(axis=1, keepdims=True), lam], axis=1)
    return cells_q, points, weights, bary


def _cell_values(f: Any, cells: np.ndarray) -> np.ndarray:
    """P1 nodal values of ``f`` on ``cells`` in the geometry's vertex order, ``(n, nv)``."""
    dofs = f.function_space.dofmap.list[cells]
    return f.x.array[dofs]


def _cell_gradients(msh: Any, cells: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Constant gradient of a P1 field on each cell, ``(n, gdim)``."""
    gdim = msh.geometry.dim
    X = msh.geometry.x[msh.geometry.dofmaps[0][cells]][:, :, :gdim]
    B = X[:, 1:, :] - X[:, :1, :]  # rows: edge vectors
    dv = values[:, 1:] - values[:, :1]
    return np.linalg.solve(B, dv[..., None])[..., 0]


@dataclass(frozen=True)
class CrossSection:
    """Integrals over the water cross-section ``z = z0`` (from the field gradients).

    Attributes
    ----------
    z
        Position [nm].
    area
        Water area [nm^2].
    species_currents
        Current of each species through the section [pA] (positive top -> bottom).
    mean_concentrations
        Area-averaged concentration of each species [mM].
    mean_potential
        Area-averaged potential [mV].
    """

    z: float
    area: float
    species_currents: tuple[float, ...]
    mean_concentrations: tuple[float, ...]
    mean_potential: float

    @property
    def current(self) -> float:
        """Total current [pA]."""
        return float(sum(self.species_currents))


def cross_section(solution: Any, z: float) -> CrossSection:
    """Current and averages through the plane ``z`` = const of the water domain.

    The current is ``sum_i z_i e N_A int J_i . (-e_z) dA`` with ``J_i`` from the Galerkin
    gradients, integrated exactly on the cut of each cell (Gauss rules on the segment / polygon).
    Unlike the conservative end currents it carries the O(h) gradient error and converges to them
    under refinement.
    """
    W = solution.unknowns[0].function_space
    sub = W.mesh
    axis = _axis_index(solution)
    cells, points, weights, bary = _cut_quadrature(sub, float(z), axis)
    if solution.axisymmetric:
        weights = weights * 2 * np.pi * points[:, 0]
    pb = solution.problem
    psi_v = _cell_values(solution.psi_water, cells)
    grad_psi = _cell_gradients(sub, cells, psi_v)
    sc = solution.current_scale_pA
    local = [float(np.sum(weights)), float(np.sum(weights * np.sum(bary * psi_v, axis=1)))]
    for k, (u, z_i, d_i) in enumerate(
        zip(solution.unknowns, pb.valences, pb.diffusivities, strict=True)
    ):
        uv = _cell_values(u, cells)
        gu = _cell_gradients(sub, cells, uv)
        drive = z_i * grad_psi
        mu = solution.mu_ex[k]
        if mu is not None:
            drive = drive + _cell_gradients(sub, cells, _cell_values(mu, cells))
        u_q = np.sum(bary * uv, axis=1)
        if solution.variables == "log":
            c_q = np.exp(u_q)
            jz = -d_i * c_q * (gu[:, axis] + drive[:, axis])
        else:
            c_q = u_q
            jz = -d_i * (gu[:, axis] + c_q * drive[:, axis])
        local.append(float(np.sum(weights * c_q)))
        local.append(float(np.sum(weights * jz)))
    tot = sub.comm.allreduce(np.asarray(local), op=MPI.SUM)
    area = tot[0]
    if area <= 0:
        raise InputError(f"the plane z = {z} nm does not cut the water domain")
    conc = tuple(float(tot[2 + 2 * k] / area * solution.c0_mM) for k in range(len(pb.valences)))
    # flux in -z direction carries current top -> bottom
    cur = tuple(float(-z_i * tot[3 + 2 * k] * sc) for k, z_i in enumerate(pb.valences))
    return CrossSection(
        z=float(z),
        area=float(area),
        species_currents=cur,
        mean_concentrations=conc,
        mean_potential=float(tot[1] / area * solution.thermal_voltage_mV),
    )


def axial_profiles(solution: Any, z: Sequence[float] | int = 100) -> dict[str, np.ndarray]:
    """Cross-section averages along the axis: ``{"z", "area", "potential", <species>...}``.

    ``z`` is a list of positions [nm] or a number of equally spaced positions strictly inside
    the water domain. Potential in mV, concentrations in mM, area in nm^2.
    """
    if isinstance(z, int):
        lo, hi = solution.z_range
        pad = 1e-3 * (hi - lo)
        z = np.linspace(lo + pad, hi - pad, z)
    sections = [cross_section(solution, float(zz)) for zz in z]
    out = {
        "z": np.array([s.z for s in sections]),
        "area": np.array([s.area for s in sections]),
        "potential": np.array([s.mean_potential for s in sections]),
        "current": np.array([s.current for s in sections]),
    }
    for k, name in enumerate(solution.species_names):
        out[name] = np.array([s.mean_concentrations[k] for s in sections])
    return out


# ------------------------------------------------------------------------------ sweeps
@dataclass(frozen=True)
class IVCurve:
    """An I-V sweep: voltages [mV], total and per-species currents [pA], solutions."""

    voltages: np.ndarray
    currents: np.ndarray
    species_currents: dict[str, np.ndarray]
    solutions: tuple[Any, ...]

    @property
    def conductances(self) -> np.ndarray:
        """``I/V`` [pS] (NaN at V = 0)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.voltages != 0, 1e3 * self.currents / self.voltages, np.nan)

    def table(self) -> str:
        """A printable table."""
        names = list(self.species_currents)
        head = f"{'V [mV]':>9} {'I [pA]':>12} {'G [pS]':>10} " + " ".join(
            f"{'I_' + n:>12}" for n in names
        )
        rows = [head]
        for i, v in enumerate(self.voltages):
            rows.append(
                f"{v:9.2f} {self.currents[i]:12.4f} {self.conductances[i]:10.2f} "
                + " ".join(f"{self.species_currents[n][i]:12.4f}" for n in names)
            )
        return "\n".join(rows)


def _sweep_order(voltages: Sequence[float]) -> list[int]:
    """Indices: from the voltage nearest 0 outward, upward first, then downward."""
    v = np.asarray(voltages, dtype=float)
    start = int(np.argmin(np.abs(v)))
    up = sorted((i for i in range(len(v)) if v[i] >= v[start] and i != start), key=lambda i: v[i])
    down = sorted((i for i in range(len(v)) if v[i] < v[start]), key=lambda i: -v[i])
    return [start, *up, *down]


def iv_curve(
    solver: Any, voltages: Sequence[float], *, progress: Callable[[int, int], None] | None = None
) -> IVCurve:
    """Solve at each voltage [mV] with warm starts (the neighbouring voltage's solution).

    The sweep starts at the voltage nearest 0, goes up, then restarts from that solution and
    goes down, so each step starts from its neighbour. Other parameters are the solver's
    problem's.
    """
    v = [float(x) for x in voltages]
    if not v:
        raise InputError("iv_curve needs at least one voltage")
    order = _sweep_order(v)
    sols: list[Any] = [None] * len(v)
    start = order[0]
    for count, i in enumerate(order):
        if count > 0 and v[i] < v[start] <= v[order[count - 1]]:
            solver.set_state(sols[start])  # back to the start for the downward branch
        sols[i] = solver.solve(v[i])
        if progress is not None:
            progress(count + 1, len(v))
    names = sols[0].species_names
    return IVCurve(
        voltages=np.array(v),
        currents=np.array([s.current for s in sols]),
        species_currents={n: np.array([s.species_currents[n] for s in sols]) for n in names},
        solutions=tuple(sols),
    )


def reversal_potential(
    solver: Any,
    *,
    species: str | None = None,
    bracket: tuple[float, float] | None = None,
    xtol: float = 1e-3,
) -> float:
    """Voltage [mV] of zero current, by Brent's method on the solver (warm-started solves).

    Parameters
    ----------
    species
        Root of that species' current alone (e.g. the one permeant ion); default the total.
    bracket
        Voltages [mV] with currents of opposite sign; default ``+-`` 4 kT/e times the log of the
        largest bath ratio (at least 50 mV), widened twice if needed.
    xtol
        Absolute tolerance [mV].
    """
    from scipy.optimize import brentq

    def current(v: float) -> float:
        sol = solver.solve(v)
        return sol.species_currents[species] if species is not None else sol.current

    if bracket is None:
        pb = solver.problem
        ratios = [
            abs(math.log(a / b))
            for a, b in zip(
                pb.bath_concentrations("top"), pb.bath_concentrations("bottom"), strict=True
            )
        ]
        half = max(50.0, 1.2 * solver.scales.thermal_voltage_mV * max(ratios, default=0.0))
        bracket = (-half, half)
    lo, hi = map(float, bracket)
    f_lo, f_hi = current(lo), current(hi)
    for _ in range(2):
        if f_lo * f_hi < 0:
            break
        lo, hi = 2 * lo, 2 * hi
        f_lo, f_hi = current(lo), current(hi)
    if f_lo * f_hi > 0:
        raise ConvergenceError(
            f"no sign change of the current between {lo:g} and {hi:g} mV; give bracket= with "
            "currents of opposite sign"
        )
    return float(brentq(current, lo, hi, xtol=xtol))


def rectification_ratio(solver: Any, voltage: float) -> float:
    """``I(+V) / |I(-V)|`` at ``voltage`` [mV] (> 0)."""
    if voltage <= 0:
        raise InputError(f"rectification needs a positive voltage magnitude, got {voltage!r} mV")
    i_plus = solver.solve(voltage).current
    i_minus = solver.solve(-voltage).current
    if i_minus == 0:
        raise InputError("I(-V) is zero: the rectification ratio is undefined")
    return float(i_plus / abs(i_minus))


def selectivity_ratio(solution: Any, numerator: str = "K+", denominator: str = "Na+") -> float:
    """Ratio of two species' currents in one solution (identical conditions), e.g. I_K/I_Na."""
    cur = solution.species_currents
    for n in (numerator, denominator):
        if n not in cur:
            raise InputError(f"species {n!r} is not in the solution ({tuple(cur)})")
    if cur[denominator] == 0:
        raise InputError(f"the {denominator} current is zero: the ratio is undefined")
    return float(cur[numerator] / cur[denominator])


# ------------------------------------------------------------------------------ resistances
@dataclass(frozen=True)
class ResistanceSplit:
    """Total resistance [GOhm] split into pore and access parts.

    ``pore`` is the drop of the cross-section-averaged potential between the two pore mouths
    divided by the current, ``access`` the rest (both baths together).
    """

    total: float
    pore: float
    access: float
    pore_range: tuple[float, float]


def resistance_split(
    solution: Any, pore_range: tuple[float, float] | None = None
) -> ResistanceSplit:
    """Split ``V/I`` into pore and access resistance [GOhm] (mV / pA = GOhm).

    ``pore_range`` = (z_bottom, z_top) of the pore mouths [nm]; default the z extent of the
    mesh's ``pore`` region.
    """
    if pore_range is None:
        pore_range = solution.region_z_range("pore")
    z0, z1 = pore_range
    inset = 1e-6 * (z1 - z0)  # just inside the mouths: only pore cells are cut
    z0, z1 = z0 + inset, z1 - inset
    i = solution.current
    if i == 0 or solution.voltage == 0:
        raise InputError("the resistance split needs a non-zero voltage and current")
    p0 = cross_section(solution, z0).mean_potential
    p1 = cross_section(solution, z1).mean_potential
    total = solution.voltage / i
    pore = (p1 - p0) / i
    return ResistanceSplit(total, pore, total - pore, (float(z0), float(z1)))


def ohmic_conductance(cmesh: Any, problem: Any) -> float:
    """Conductance [pS] of the water domain as an Ohmic conductor (Laplace, bulk conductivity).

    Solves ``div(kappa grad phi) = 0`` on the water sub-mesh with ``phi`` = 1 on the top end and
    0 on the bottom end (walls insulating), with ``kappa`` the top bath's conductivity, and
    returns the conservative (weak) current. The reference for the high-salt limit of PNP.
    """
    from dolfinx.fem.petsc import LinearProblem


    problem.check_mesh(cmesh)
    msh = cmesh.mesh
    tdim = msh.topology.dim
    water = problem.water(cmesh)
    cells = np.unique(np.concatenate([cmesh.cell_tags.find(cmesh.region(r)) for r in water]))
    sub, emap, vmap, _ = dolfinx.mesh.create_submesh(msh, tdim, cells.astype(np.int32))
    sub.topology.create_connectivity(tdim - 1, tdim)
    msh.topology.create_connectivity(tdim - 1, tdim)
    ft = dolfinx.mesh.transfer_meshtags_to_submesh(cmesh.facet_tags, sub, vmap, emap)
    W = dolfinx.fem.functionspace(sub, ("Lagrange", 1))
    top = dolfinx.fem.locate_dofs_topological(W, tdim - 1, ft.find(cmesh.boundary(problem.top)))
    bot = dolfinx.fem.locate_dofs_topological(W, tdim - 1, ft.find(cmesh.boundary(problem.bottom)))
    bcs = [
        dolfinx.fem.dirichletbc(dolfinx.default_scalar_type(1.0), top, W),
        dolfinx.fem.dirichletbc(dolfinx.default_scalar_type(0.0), bot, W),
    ]
    weight = 2 * np.pi * ufl.SpatialCoordinate(sub)[0] if cmesh.axisymmetric else 1.0
    u, v = ufl.TrialFunction(W), ufl.TestFunction(W)
    a = ufl.inner(ufl.grad(u), ufl.grad(v)) * weight * ufl.dx
    zero = dolfinx.fem.Constant(sub, dolfinx.default_scalar_type(0.0))
    L = zero * v * weight * ufl.dx
    lp = LinearProblem(
        a,
        L,
        bcs=bcs,
        petsc_options_prefix=f"poreflux_ohmic_{id(W)}_",
        petsc_options={
            "ksp_type": "preonly",
            "pc_type": "lu",
            "pc_factor_mat_solver_type": "mumps",
        },
    )
    phi = lp.solve()
    if isinstance(phi, tuple):  # older DOLFINx returned (u, converged_reason, its)
        phi = phi[0]
    w = boundary_indicator(W, bot)
    # flux into the domain through the bottom = -int grad(phi).grad(w_bottom)
    g = dolfinx.fem.form(ufl.inner(ufl.grad(phi), ufl.grad(w)) * weight * ufl.dx)
    # J = -kappa grad(phi); its flux out through the bottom is -kappa int grad(phi).grad(w)
    flux = -sub.comm.allreduce(dolfinx.fem.assemble_scalar(g), op=MPI.SUM)  # [nm] per kappa
    kappa = conductivity_S_per_m(problem)

    return float(kappa * flux * NM / PS_SIEMENS)
