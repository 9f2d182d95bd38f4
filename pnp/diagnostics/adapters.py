"""Adapters from other poreflux objects to the diagnostics inputs.

- :func:`profile_from_channel`: the axial profile ``R(z)`` with ``bath``/``pore`` labels from a
  :class:`meshes.channel.ChannelGeometry` (exact polyline) or a :class:`meshes.record.ChannelMesh`
  (its geometry if it has one, else measured on the wall facets by :mod:`meshes.radius`).
- :func:`inputs_from_problem`: :class:`DiagnosticInputs` from a
  :class:`pnp.problems.electrostatics.PBProblem`
  or a :class:`pnp.problems.transport.PNPProblem` (electrolyte, temperature, permittivity,
  pore-wall charge), with the profile and pore mesh size of a channel mesh when one is given.
- :func:`solution_fields_from_pb` / :func:`solution_fields_from_pnp`: :class:`SolutionFields`
  from a :class:`pnp.solvers.pb.PBSolution` (fields on the whole mesh) or a
  :class:`pnp.results.pnp_solution.PNPSolution` (concentrations on the water sub-mesh; the
  channel mesh must be passed because the solution does not keep it).
- :func:`adapt`: the dispatcher :func:`pnp.diagnostics.diagnose` uses for these objects.

Keyword arguments the adapters do not consume (``memory_time``, ``friction_kernel``,
``hopping_time``, ``hop_region``, ``mesh_size``) go to :class:`DiagnosticInputs`.

This module depends on :mod:`pnp.diagnostics.solution_fields` and :mod:`pnp.diagnostics.inputs`
only; :mod:`pnp.diagnostics.api` calls :func:`adapt` (one-way).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from meshes import names
from pnp.diagnostics.inputs import AxialProfile, DiagnosticInputs
from pnp.diagnostics.solution_fields import SolutionFields
from poreflux.errors import InputError

__all__ = [
    "adapt",
    "inputs_from_problem",
    "profile_from_channel",
    "solution_fields_from_pb",
    "solution_fields_from_pnp",
]

#: Wall boundaries that line the pore, in order of preference for the pore's surface charge.
_PORE_WALLS = (names.PROTEIN_WALL, names.MEMBRANE_WALL)


def _label(z: np.ndarray, radius: np.ndarray, outer: float) -> AxialProfile:
    inside = np.isfinite(radius)
    r = np.where(inside, radius, outer)
    region = tuple(names.PORE if k else names.BATH for k in inside)
    return AxialProfile(z, r, region)


def profile_from_channel(source: Any, num: int = 401) -> AxialProfile:
    """Axial profile ``R(z)`` over the whole channel with ``"bath"`` / ``"pore"`` labels.

    Parameters
    ----------
    source
        A ``ChannelGeometry`` or a ``ChannelMesh``. In the baths ``R`` is the bath radius.
        A mesh without a geometry record is measured on its wall facets (collective).
    num
        Number of evenly spaced samples (the pore profile's vertices are added, so a
        constriction is sampled exactly).
    """
    from meshes.channel import ChannelGeometry
    from meshes.record import ChannelMesh

    geometry = source.geometry if isinstance(source, ChannelMesh) else source
    if isinstance(geometry, ChannelGeometry):
        prof = geometry.profile
        z = np.union1d(np.linspace(geometry.z_min, geometry.z_max, num), prof.z)
        return _label(z, prof.radius_at(z), geometry.bath_radius)
    if not isinstance(source, ChannelMesh):
        raise InputError(
            f"cannot read a pore profile from {type(source).__name__}; pass a ChannelGeometry "
            "or a ChannelMesh"
        )
    from mpi4py import MPI

    from meshes.radius import mesh_radius

    x = source.mesh.geometry.x
    gdim = source.gdim
    axial = x[:, gdim - 1]
    radial = x[:, 0] if gdim == 2 else np.hypot(x[:, 0], x[:, 1])
    comm = source.comm
    zlo = comm.allreduce(float(axial.min()) if axial.size else math.inf, op=MPI.MIN)
    zhi = comm.allreduce(float(axial.max()) if axial.size else -math.inf, op=MPI.MAX)
    outer = comm.allreduce(float(radial.max()) if radial.size else 0.0, op=MPI.MAX)
    z, radius = mesh_radius(source, z=np.linspace(zlo, zhi, num))
    return _label(z, radius, outer)


def _pore_surface_charge(electrostatics: Any) -> float | None:
    by_wall = {sc.boundary: sc.density for sc in electrostatics.surface_charges}
    for wall in _PORE_WALLS:
        if wall in by_wall:
            return float(by_wall[wall])
    return None


def inputs_from_problem(problem: Any, cmesh: Any = None, **extra: Any) -> DiagnosticInputs:
    """:class:`DiagnosticInputs` from a PB or PNP problem (and a channel mesh, if given).

    Electrolyte (PNP: the top bath), temperature and the water permittivities come from the
    problem; the surface charge on the pore wall (``protein_wall`` if charged, else
    ``membrane_wall``) becomes the pore's wall charge; ``cmesh`` (a ``ChannelMesh`` or a
    ``ChannelGeometry``) gives ``R(z)`` and, for a built channel, the pore mesh size
    ``h_pore``. Without it the checks see the bulk electrolyte.
    """
    electrolyte = getattr(problem, "electrolyte", None)
    if electrolyte is None:
        electrolyte = getattr(problem, "bath_top", None)
    if electrolyte is None:
        raise InputError("the problem has no electrolyte: there is no mean-field theory to check")
    electrostatics = getattr(problem, "electrostatics", None)
    if electrostatics is None:
        raise InputError(f"cannot read electrostatics from {type(problem).__name__}")
    perm = dict(electrostatics.permittivity)
    kwargs: dict[str, Any] = {}
    if cmesh is not None:
        profile = profile_from_channel(cmesh)
        kwargs["profile"] = profile
        permittivity: Any = {r: perm[r] for r in profile.region_names if r in perm}
        sigma = _pore_surface_charge(electrostatics)
        if sigma is not None and names.PORE in profile.region_names:
            kwargs["surface_charge"] = {names.PORE: sigma}
        geometry = cmesh if hasattr(cmesh, "h_pore") else getattr(cmesh, "geometry", None)
        if geometry is not None and hasattr(geometry, "h_pore"):
            kwargs["mesh_size"] = {names.PORE: float(geometry.h_pore)}
    else:
        water = [perm[r] for r in (names.BATH, "water", names.SOLVENT, names.PORE) if r in perm]
        if not water:
            raise InputError(
                f"no water region among the permittivities {sorted(perm)}; pass a channel mesh"
            )
        permittivity = water[0]
    kwargs.update(extra)
    return DiagnosticInputs(electrolyte, problem.temperature, permittivity, **kwargs)


def solution_fields_from_pb(solution: Any, **extra: Any) -> SolutionFields:
    """:class:`SolutionFields` of a PB solution (concentrations rebuilt from its potential)."""
    if getattr(solution, "ions", None) is None:
        raise InputError("this PB solution has no electrolyte: nothing to diagnose")
    cm = solution.cmesh
    inputs = inputs_from_problem(solution.problem, cm, **extra)
    conc = {name: solution.concentration(name) for name in solution.ions.names}
    return SolutionFields(
        inputs, cm.mesh, cm.cell_tags, dict(cm.regions), conc,
        dict(solution.problem.electrostatics.permittivity),
        axisymmetric=cm.axisymmetric, ion_regions=tuple(solution.ions.water),
    )  # fmt: skip


def solution_fields_from_pnp(solution: Any, cmesh: Any, **extra: Any) -> SolutionFields:
    """:class:`SolutionFields` of a PNP solution on the channel mesh ``cmesh`` it was solved on.

    The concentrations live on the water sub-mesh; they are evaluated at the midpoints of the
    parent mesh's water cells.
    """
    if cmesh is None:
        raise InputError("a PNP solution does not keep its mesh: pass cmesh= (the ChannelMesh)")
    problem = solution.problem
    inputs = inputs_from_problem(problem, cmesh, **extra)
    conc = {name: solution.concentration(name) for name in solution.species_names}
    return SolutionFields(
        inputs, cmesh.mesh, cmesh.cell_tags, dict(cmesh.regions), conc,
        dict(problem.electrostatics.permittivity),
        axisymmetric=cmesh.axisymmetric, ion_regions=tuple(problem.water(cmesh)),
    )  # fmt: skip


def adapt(target: Any, **kwargs: Any) -> DiagnosticInputs | SolutionFields:
    """Convert a PB/PNP problem or solution to diagnostics inputs (see the module docstring)."""
    from pnp.problems.electrostatics import PBProblem
    from pnp.results.pb_solution import PBSolution
    from pnp.results.pnp_solution import PNPSolution

    if isinstance(target, PBSolution):
        return solution_fields_from_pb(target, **kwargs)
    if isinstance(target, PNPSolution):
        cmesh = kwargs.pop("cmesh", None)
        return solution_fields_from_pnp(target, cmesh, **kwargs)
    from pnp.problems.transport import PNPProblem

    if isinstance(target, PBProblem | PNPProblem):
        cmesh = kwargs.pop("cmesh", None)
        return inputs_from_problem(target, cmesh, **kwargs)
    raise TypeError(
        f"diagnose() does not know how to read a {type(target).__name__}; pass a "
        "pnp.diagnostics.DiagnosticInputs, a SolutionFields, an Electrolyte with keyword inputs, "
        "a PB/PNP problem or solution"
    )
