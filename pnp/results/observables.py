"""Scalar and profile observables of electrostatics solutions, MPI-safe.

Every scalar goes through :func:`assemble_scalar` (assemble locally, ``allreduce`` SUM), so the
same number comes out on every rank. Point values go through :func:`evaluate_points`, which
locates points with a bounding-box tree, evaluates on the rank that owns each point and
gathers the values to all ranks.
"""

from __future__ import annotations

from typing import Any

import dolfinx
import numpy as np
from mpi4py import MPI

from poreflux.errors import InputError
from poreflux.units import N_A


def assemble_scalar(form: Any, comm: Any | None = None) -> float:
    """Assemble a scalar (functional) UFL form and sum it over the ranks of ``comm``."""
    compiled = form if isinstance(form, dolfinx.fem.Form) else dolfinx.fem.form(form)
    local = dolfinx.fem.assemble_scalar(compiled)
    comm = comm if comm is not None else compiled.mesh.comm
    return float(comm.allreduce(local, op=MPI.SUM))


def evaluate_points(u: Any, points: np.ndarray, *, missing: float = np.nan) -> np.ndarray:
    """Values of a (scalar or UFL-interpolable) function at ``points``, gathered on all ranks.

    Parameters
    ----------
    u
        ``dolfinx.fem.Function``.
    points
        ``(n, gdim)`` or ``(n, 3)`` coordinates, the same on every rank.
    missing
        Value for points outside the mesh.

    Returns
    -------
    ``(n,)`` (scalar) or ``(n, bs)`` values, identical on every rank.
    """
    msh = u.function_space.mesh
    pts = np.zeros((len(points), 3))
    p = np.asarray(points, dtype=float)
    pts[:, : p.shape[1]] = p
    tree = dolfinx.geometry.bb_tree(msh, msh.topology.dim)
    candidates = dolfinx.geometry.compute_collisions_points(tree, pts)
    colliding = dolfinx.geometry.compute_colliding_cells(msh, candidates, pts)
    bs = int(np.prod(u.ufl_shape)) if u.ufl_shape else 1
    nowned = msh.topology.index_map(msh.topology.dim).size_local
    local = np.full((len(pts), bs), np.nan)
    idx, cells = [], []
    for i in range(len(pts)):
        links = colliding.links(i)
        links = links[links < nowned]  # owned cells only, so each point is counted once
        if len(links):
            idx.append(i)
            cells.append(links[0])
    if idx:
        local[idx] = u.eval(pts[idx], np.asarray(cells, dtype=np.int32)).reshape(len(idx), bs)
    gathered = msh.comm.allgather(local)
    out = np.full((len(pts), bs), np.nan)
    for arr in gathered:  # first rank (lowest) that found the point wins
        sel = np.isnan(out[:, 0]) & ~np.isnan(arr[:, 0])
        out[sel] = arr[sel]
    out[np.isnan(out[:, 0])] = missing
    return out[:, 0] if bs == 1 else out


def axis_points(cmesh: Any, z: np.ndarray) -> np.ndarray:
    """Points on the pore axis (r = 0 / x = y = 0) at the given ``z`` [nm]."""
    z = np.asarray(z, dtype=float).reshape(-1)
    pts = np.zeros((z.size, 3))
    axis = 1 if cmesh.axisymmetric else 2
    pts[:, axis] = z
    return pts


def axis_range(cmesh: Any) -> tuple[float, float]:
    """Lowest and highest z of the mesh (MPI-reduced)."""
    axis = 1 if cmesh.axisymmetric else 2
    x = cmesh.mesh.geometry.x[:, axis]
    lo = cmesh.comm.allreduce(float(x.min()) if x.size else np.inf, op=MPI.MIN)
    hi = cmesh.comm.allreduce(float(x.max()) if x.size else -np.inf, op=MPI.MAX)
    return lo, hi


def axial_profile(u: Any, cmesh: Any, z: np.ndarray | int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Sample ``u`` along the pore axis: returns ``(z, values)`` on every rank.

    ``z`` is an array of positions [nm] or a number of equally spaced samples over the mesh.
    Points outside the mesh (e.g. inside a solid membrane on the axis) give NaN.
    """
    if np.isscalar(z):
        lo, hi = axis_range(cmesh)
        n = int(z)
        if n < 2:
            raise InputError(f"an axial profile needs >= 2 samples, got {n}")
        eps = 1e-9 * (hi - lo)
        z = np.linspace(lo + eps, hi - eps, n)
    z = np.asarray(z, dtype=float)
    return z, evaluate_points(u, axis_points(cmesh, z))


def fixed_charge_energy_kT(scales: Any, energy_scaled: float) -> float:
    """Convert a scaled energy ``1/2 int rho_f psi`` to units of kT.

    With scaled ``rho_s = rho/(e N_A c0)``, ``psi = e phi/kT`` and lengths in ``L0``:
    ``E = N_A c0 L0^3 kT * energy_scaled``.
    """
    return N_A * scales.c0_si * scales.length_m**3 * energy_scaled


def charge_e_from_scaled(scales: Any, scaled_charge: float) -> float:
    """Scaled charge ``int rho_s dV`` -> charge [e] (``N_A c0 L0^3`` times)."""
    return N_A * scales.c0_si * scales.length_m**3 * scaled_charge


def solvation_energy_kj_per_mol(solvated: Any, reference: Any) -> float:
    """Solvation energy [kJ/mol] as the difference of two solves with the same fixed charges.

    ``solvated`` and ``reference`` are :class:`pnp.results.pb_solution.PBSolution` objects (e.g.
    solvent
    permittivity 78.5 vs 1, or with vs without salt); the result is
    ``E_solvated - E_reference`` of the fixed-charge energies ``1/2 int rho_f phi``.
    """
    if solvated.problem.temperature != reference.problem.temperature:
        raise InputError("solvation energy: the two solves have different temperatures")
    return solvated.energy_kj_per_mol - reference.energy_kj_per_mol
