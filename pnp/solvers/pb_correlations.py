"""BSK correlation field for the Poisson-Boltzmann solver (:mod:`pnp.solvers.pb`).

With ``PBProblem(correlation_length=l_c)`` the PB equation becomes the Bazant-Storey-Kornyshev
modified PB equation in the mixed form of :mod:`pnp.forms.correlations`: the smoothed charge
``f`` (Lagrange of the potential's degree on the water sub-mesh) replaces the mobile charge in
Poisson's equation and solves ``-l_c^2 nabla^2 f + f = rho(psi)`` with ``n . grad f = 0`` on the
water boundaries. The ion concentrations stay the PB model's functions of ``psi``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dolfinx
import numpy as np
import ufl

from pnp.forms.correlations import correlation_residual

__all__ = ["CorrelationField", "correlation_field"]


@dataclass
class CorrelationField:
    """The BSK unknown of a PB solver: ``f``, its residual and the sub-mesh entity map."""

    f: Any
    residual: Any
    entity_map: Any


def correlation_field(
    cmesh: Any, water: tuple[str, ...], mobile: Any, dx_water: Any, weight: Any, degree: int,
    ell: float,
) -> CorrelationField:  # fmt: skip
    """Build ``f`` on the water sub-mesh and its residual ``int (l^2 grad f.grad g + (f - rho)
    g) w dx_water`` (``ell`` = ``l_c / L0``, ``mobile`` = scaled mobile charge of ``psi``)."""
    msh = cmesh.mesh
    tdim = msh.topology.dim
    tags = [cmesh.region(r) for r in water]
    cells = np.unique(np.concatenate([cmesh.cell_tags.find(t) for t in tags])).astype(np.int32)
    sub, emap, _, _ = dolfinx.mesh.create_submesh(msh, tdim, cells)
    F_space = dolfinx.fem.functionspace(sub, ("Lagrange", degree))
    f = dolfinx.fem.Function(F_space, name="bsk_charge")
    g = ufl.TestFunction(F_space)
    ell_c = dolfinx.fem.Constant(sub, float(ell))
    residual = correlation_residual(f, g, mobile, ell_c, dx_water, weight=weight)
    return CorrelationField(f, residual, emap)
