"""Finite-element fields for Brownian dynamics: geometry mapping, static potential, self-energy.

The joint between a channel mesh (:mod:`meshes.channel`) and the GCMC/BD level
(:mod:`stochastic.bd`), on the same geometry and permittivity map:

- :func:`bd_geometry` maps a :class:`meshes.channel.ChannelGeometry` onto a
  :class:`stochastic.bd.ChannelGeometry`: the BD membrane surface is the pore's water boundary
  ``R(z)`` (the protein lining, if any, is solid for the ions), the BD baths default to the
  mesh's baths, so the BD box is the finite-element domain and the grand-canonical buffers sit
  next to the Dirichlet ends where the potential is ``V`` and 0.
- :func:`static_potential_grid` solves the Poisson equation for the fixed charges and the
  applied voltage **without mobile ions** (the BD ions carry their own Coulomb field) with the
  mesh's permittivity map, and samples it on a regular ``(r, z)`` grid
  (:class:`stochastic.bd.GridField` in mV).
- :func:`self_energy_grid` gives the dielectric self-energy of a unit charge [kT] from the
  reaction field of a test charge: for test positions ``z_k`` on the pore axis, two Poisson
  solves with the same smoothed unit charge (Gaussian of width ``w``), one with the permittivity
  map and one with the water permittivity everywhere, give the reaction potential
  ``phi_R = phi_map - phi_uniform`` at the charge and ``S(z_k) = e phi_R(z_k) / (2 kT)`` (the
  image or Born energy of the ion in the low-permittivity membrane and protein; e.g. Jordan,
  Biophys. J. 39, 157 (1982); Corry, Kuyucak & Chung, Biophys. J. 78, 2349 (2000)). The
  singular self-potential of the charge is the same in both solves and cancels, as do the images
  in the grounded electrodes to first order.

  **Approximation (documented):** ``S`` is computed on the axis only and taken radially uniform,
  ``S(r, z) = S(0, z)``. In the pore this is the value at the centre (the radial rise of the
  image energy towards the wall is left out: ions touching the wall feel less than the full
  image repulsion); in the baths beyond the mouth it misses the planar image
  ``l_B (eps_w - eps_m) / (4 d (eps_w + eps_m))`` of the membrane face (at most ~0.5 kT for a
  monovalent ion at contact). An ion of valence ``z`` feels ``z^2 S``.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from poreflux import units
from poreflux.errors import InputError

__all__ = [
    "bd_geometry",
    "grid_axes",
    "self_energy_grid",
    "self_energy_on_axis",
    "static_potential_grid",
]


def bd_geometry(
    geometry: Any,
    *,
    bath_radius: float | None = None,
    bath_length: float | None = None,
    buffer_length: float | None = None,
    n_profile: int = 201,
) -> Any:
    """The BD channel of a mesh channel: same membrane, pore wall and (by default) baths.

    Parameters
    ----------
    geometry
        A :class:`meshes.channel.ChannelGeometry`.
    bath_radius, bath_length
        BD bath cylinder [nm]; default the mesh's ``bath_radius`` and ``bath_height``
        (smaller baths cost fewer ions but put the buffers inside the access region).
    buffer_length
        Length of each GCMC buffer [nm]; default ``min(1.5, bath_length / 3)``.
    n_profile
        Points of the tabulated ``R(z)`` (a cylinder is tabulated exactly by 2).

    Returns
    -------
    stochastic.bd.ChannelGeometry
    """
    from meshes.channel import ChannelGeometry as MeshGeometry
    from stochastic.bd import ChannelGeometry, RadiusProfile

    if not isinstance(geometry, MeshGeometry):
        raise InputError(
            f"geometry must be a meshes.channel.ChannelGeometry, got {type(geometry).__name__}"
        )
    prof = geometry.profile
    lm = float(geometry.thickness)
    if len(set(prof.radius)) == 1:
        pore: Any = float(prof.radius[0])
    else:
        z = np.linspace(-0.5 * lm, 0.5 * lm, int(n_profile))
        pore = RadiusProfile(z, prof.radius_at(z))
    rb = float(geometry.bath_radius if bath_radius is None else bath_radius)
    lb = float(geometry.bath_height if bath_length is None else bath_length)
    lbuf = min(1.5, lb / 3.0) if buffer_length is None else float(buffer_length)
    return ChannelGeometry(lm, pore, bath_radius=rb, bath_length=lb, buffer_length=lbuf)


def grid_axes(bd_geom: Any, spacing: float) -> tuple[np.ndarray, np.ndarray]:
    """Uniform ``(r, z)`` axes [nm] covering the BD box with about ``spacing`` between nodes."""
    if not (math.isfinite(spacing) and spacing > 0):
        raise InputError(f"grid spacing must be > 0 nm, got {spacing!r}")
    nr = max(2, math.ceil(bd_geom.bath_radius / spacing) + 1)
    nz = max(2, math.ceil(2 * bd_geom.z_max / spacing) + 1)
    return (
        np.linspace(0.0, bd_geom.bath_radius, nr),
        np.linspace(-bd_geom.z_max, bd_geom.z_max, nz),
    )


def _mesh_points(cmesh: Any, r: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Mesh coordinates of ``(r, z)`` pairs: ``(r, z)`` in 2D, ``(r, 0, z)`` in 3D, nudged
    inside the domain so that nodes on the boundary are found."""
    g = cmesh.geometry
    eps = 1e-7
    rr = np.clip(r, 0.0, g.bath_radius - eps)
    zz = np.clip(z, g.z_min + eps, g.z_max - eps)
    if cmesh.axisymmetric:
        return np.column_stack([rr, zz])
    return np.column_stack([rr, np.zeros_like(rr), zz])


def _sample(function: Any, cmesh: Any, r: np.ndarray, z: np.ndarray) -> np.ndarray:
    """A finite-element function on the tensor grid ``r x z`` (shape ``(r.size, z.size)``)."""
    from pnp.results.observables import evaluate_points

    rr, zz = np.meshgrid(r, z, indexing="ij")
    vals = evaluate_points(function, _mesh_points(cmesh, rr.ravel(), zz.ravel()))
    if not np.all(np.isfinite(vals)):
        raise InputError(
            "the BD grid reaches outside the finite-element mesh; the BD baths must not be "
            "larger than the mesh's (bath_radius, bath_height)"
        )
    return vals.reshape(rr.shape)


def _check_inside(cmesh: Any, bd_geom: Any) -> None:
    g = cmesh.geometry
    if bd_geom.bath_radius > g.bath_radius + 1e-9 or bd_geom.z_max > g.z_max + 1e-9:
        raise InputError(
            f"the BD box (bath radius {bd_geom.bath_radius:g} nm, |z| <= {bd_geom.z_max:g} nm) "
            f"is larger than the mesh (bath radius {g.bath_radius:g} nm, |z| <= {g.z_max:g} nm)"
        )


def region_permittivity(cmesh: Any, permittivity: dict[str, float] | None) -> dict[str, float]:
    """Region -> relative permittivity (channel_problem's defaults, then ``permittivity``)."""
    from pnp.problems.transport import DEFAULT_PERMITTIVITY

    perm = {r: DEFAULT_PERMITTIVITY[r] for r in cmesh.regions if r in DEFAULT_PERMITTIVITY}
    perm.update(permittivity or {})
    return perm


def _poisson(cmesh: Any, electrostatics: Any) -> Any:
    """The potential [mV] of a plain Poisson problem (no mobile ions)."""
    from pnp.problems.electrostatics import PBProblem
    from pnp.solvers.pb import PBSolver

    solver = PBSolver(cmesh, PBProblem(electrostatics, None))
    try:
        return solver.solve().potential
    finally:
        solver.close()


def static_potential_grid(
    cmesh: Any,
    bd_geom: Any,
    voltage_mV: float,
    *,
    temperature: float,
    surface_charge: float = 0.0,
    permittivity: dict[str, float] | None = None,
    walls: tuple[str, ...] = ("membrane_wall", "protein_wall"),
    spacing: float = 0.05,
) -> Any:
    """The static potential [mV] of fixed charges and applied voltage on the BD grid.

    Poisson (no mobile ions) on ``cmesh`` with ``phi = voltage_mV`` on ``top`` and 0 on
    ``bottom`` (the PNP convention ``V = phi_top - phi_bottom``), a uniform ``surface_charge``
    [C/m^2] on the ``walls`` present on the mesh and the permittivity map (defaults of
    :func:`pnp.problems.transport.channel_problem`, overridden by ``permittivity``).

    Returns
    -------
    stochastic.bd.GridField
        ``(r, z)`` grid in mV covering the BD box of ``bd_geom``.
    """
    from pnp.problems.electrostatics import DirichletPotential, Electrostatics, SurfaceCharge
    from stochastic.bd import GridField

    _check_inside(cmesh, bd_geom)
    charges = tuple(
        SurfaceCharge(w, surface_charge) for w in walls if cmesh.has_boundary(w)
    ) if surface_charge != 0.0 else ()  # fmt: skip
    if surface_charge != 0.0 and not charges:
        raise InputError(
            f"surface_charge given but the mesh has none of the wall boundaries {walls}"
        )
    es = Electrostatics(
        temperature=temperature,
        permittivity=region_permittivity(cmesh, permittivity),
        surface_charges=charges,
        dirichlet=(DirichletPotential("top", voltage_mV), DirichletPotential("bottom", 0.0)),
    )
    phi = _poisson(cmesh, es)
    r, z = grid_axes(bd_geom, spacing)
    return GridField((r, z), _sample(phi, cmesh, r, z), "mV")


def self_energy_on_axis(
    cmesh: Any,
    z: np.ndarray,
    *,
    temperature: float,
    permittivity: dict[str, float] | None = None,
    width: float | None = None,
) -> np.ndarray:
    """Dielectric self-energy [kT] of a unit charge at points ``z`` [nm] on the pore axis.

    ``S = e (phi_map - phi_uniform) / (2 kT)`` at the charge, from two Poisson solves with the
    same Gaussian unit charge of width ``width`` (default ``min(0.15, R_min / 3)``): one with
    the permittivity map, one with the water permittivity in every region (grounded ``top`` and
    ``bottom`` in both).
    """
    from pnp.forms.charges import PointChargeResolutionWarning
    from pnp.problems.electrostatics import DirichletPotential

    perm = region_permittivity(cmesh, permittivity)
    eps_w = perm.get("pore", perm.get("bath"))
    uniform = dict.fromkeys(perm, eps_w)
    w = min(0.15, cmesh.geometry.profile.min_radius / 3.0) if width is None else float(width)
    ground = (DirichletPotential("top", 0.0), DirichletPotential("bottom", 0.0))
    vt = units.thermal_voltage_mV(temperature)
    out = np.empty(len(z))
    with warnings.catch_warnings():
        # in the baths the cells exceed w: the interpolated charge is the same in both solves
        # and the reaction field varies on the scale of the distance to the membrane, not w
        warnings.simplefilter("ignore", PointChargeResolutionWarning)
        for k, zk in enumerate(np.asarray(z, dtype=float)):
            out[k] = _reaction_self_energy(cmesh, zk, w, (perm, uniform), ground, temperature) / vt
    return out


def _reaction_self_energy(
    cmesh: Any, zk: float, w: float, perms: tuple[dict, dict], ground: tuple, temperature: float
) -> float:
    """``(phi_map - phi_uniform)/2`` [mV] at a unit Gaussian charge on the axis at ``zk``."""
    from pnp.problems.electrostatics import Electrostatics, PointCharges
    from pnp.results.observables import evaluate_points

    charge = PointCharges(np.array([[0.0, 0.0, zk]]), np.array([1.0]), width=w)
    at = _mesh_points(cmesh, np.array([0.0]), np.array([zk]))
    phis = [
        evaluate_points(
            _poisson(cmesh, Electrostatics(temperature, eps, point_charges=charge,
                                           dirichlet=ground)), at,
        )[0]
        for eps in perms
    ]  # fmt: skip
    return 0.5 * (phis[0] - phis[1])


def self_energy_grid(
    cmesh: Any,
    bd_geom: Any,
    *,
    temperature: float,
    permittivity: dict[str, float] | None = None,
    n_axis: int = 41,
    spacing: float = 0.05,
    width: float | None = None,
) -> Any:
    """The self-energy [kT] of a unit charge on the BD grid (radially uniform, see the module).

    ``n_axis`` test positions, spaced uniformly over the BD box's z range (ends pulled in by
    ``3 width`` so the Gaussian stays inside the mesh), are interpolated (cubic spline) onto the
    grid's z axis.
    """
    from scipy.interpolate import CubicSpline

    from stochastic.bd import GridField

    _check_inside(cmesh, bd_geom)
    w = min(0.15, cmesh.geometry.profile.min_radius / 3.0) if width is None else float(width)
    margin = min(3 * w, 0.5 * (cmesh.geometry.z_max - bd_geom.z_max) + 3 * w)
    zt = np.linspace(-bd_geom.z_max + margin, bd_geom.z_max - margin, int(n_axis))
    s_axis = self_energy_on_axis(
        cmesh, zt, temperature=temperature, permittivity=permittivity, width=w
    )
    r, z = grid_axes(bd_geom, spacing)
    s_z = CubicSpline(zt, s_axis)(np.clip(z, zt[0], zt[-1]))
    return GridField((r, z), np.broadcast_to(s_z, (r.size, z.size)).copy(), "kT")
