"""Pore-wall profiles: the pore radius as a polyline R(z) across a membrane.

The membrane occupies ``-L/2 <= z <= L/2`` (lengths in nm). A :class:`PoreProfile` lists the
z positions of its vertices (from ``-L/2`` to ``L/2``, increasing) and the pore radius at each;
between vertices the wall is a straight line in (r, z), i.e. a cone frustum in 3D. A cylinder has
two vertices with equal radii, a cone two with different radii, an hourglass four (mouth,
constriction start, constriction end, mouth).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from poreflux import validation
from poreflux.errors import InputError

__all__ = ["PoreProfile", "check_finite", "check_positive"]


def check_finite(name: str, value: float) -> float:
    """A geometry number [nm] as ``float``; :func:`poreflux.validation.check_finite` checks it."""
    return validation.check_finite(value, name, "nm")


def check_positive(name: str, value: float, unit: str = "nm") -> float:
    """A positive geometry number; :func:`poreflux.validation.check_positive` checks it."""
    return validation.check_positive(value, name, unit)


@dataclass(frozen=True)
class PoreProfile:
    """Pore radius R(z) as a polyline across a membrane of thickness ``thickness`` (nm).

    Parameters
    ----------
    thickness
        Membrane thickness L (nm); the membrane spans ``-L/2 <= z <= L/2``.
    z
        Vertex positions (nm), strictly increasing, first ``-L/2``, last ``L/2``. Given relative
        to the membrane centre.
    radius
        Pore radius (nm, > 0) at each vertex.
    """

    thickness: float
    z: tuple[float, ...]
    radius: tuple[float, ...]

    def __post_init__(self) -> None:
        L = check_positive("membrane thickness", self.thickness)
        z = tuple(check_finite(f"profile z[{i}]", v) for i, v in enumerate(self.z))
        r = tuple(check_positive(f"pore radius[{i}]", v) for i, v in enumerate(self.radius))
        if len(z) != len(r):
            raise InputError(
                f"pore profile needs one radius per z vertex, got {len(z)} z and {len(r)} radii"
            )
        if len(z) < 2:
            raise InputError("pore profile needs at least two vertices (the two mouths)")
        if any(b <= a for a, b in itertools.pairwise(z)):
            raise InputError(f"pore profile z vertices must increase strictly, got {z}")
        tol = 1e-9 * max(L, 1.0)
        if abs(z[0] + L / 2) > tol or abs(z[-1] - L / 2) > tol:
            raise InputError(
                f"pore profile must span the membrane, z from {-L / 2:g} to {L / 2:g} nm; "
                f"got {z[0]:g} to {z[-1]:g}"
            )
        z = (-L / 2, *z[1:-1], L / 2)
        object.__setattr__(self, "thickness", L)
        object.__setattr__(self, "z", z)
        object.__setattr__(self, "radius", r)

    # -- constructors --------------------------------------------------------------------------
    @classmethod
    def cylinder(cls, radius: float, thickness: float) -> PoreProfile:
        """Constant radius through the membrane."""
        return cls(thickness, (-thickness / 2, thickness / 2), (radius, radius))

    @classmethod
    def cone(cls, radius_bottom: float, radius_top: float, thickness: float) -> PoreProfile:
        """Radius going linearly from ``radius_bottom`` (z = -L/2) to ``radius_top`` (z = L/2)."""
        return cls(thickness, (-thickness / 2, thickness / 2), (radius_bottom, radius_top))

    @classmethod
    def hourglass(
        cls,
        radius_bottom: float,
        radius_top: float,
        constriction_radius: float,
        thickness: float,
        constriction_z: float = 0.0,
        constriction_length: float = 0.0,
    ) -> PoreProfile:
        """Two cone-shaped vestibules meeting at a constriction (a selectivity-filter proxy).

        Parameters
        ----------
        radius_bottom, radius_top
            Mouth radii at ``z = -L/2`` and ``z = L/2`` (nm).
        constriction_radius
            Radius of the narrow part (nm); must not exceed either mouth radius.
        thickness
            Membrane thickness L (nm).
        constriction_z
            Centre of the constriction relative to the membrane centre (nm).
        constriction_length
            Axial length of the cylindrical narrow part (nm); 0 gives a sharp waist.
        """
        L = check_positive("membrane thickness", thickness)
        rc = check_positive("constriction radius", constriction_radius)
        zc = check_finite("constriction z", constriction_z)
        lc = check_finite("constriction length", constriction_length)
        if lc < 0:
            raise InputError(f"constriction length must be >= 0 nm, got {lc:g}")
        for nm, rm in (("bottom", radius_bottom), ("top", radius_top)):
            if check_positive(f"{nm} mouth radius", rm) < rc:
                raise InputError(
                    f"constriction radius {rc:g} nm exceeds the {nm} mouth radius {rm:g} nm; "
                    "use a smaller constriction or a cone"
                )
        lo, hi = zc - lc / 2, zc + lc / 2
        if lo <= -L / 2 or hi >= L / 2:
            raise InputError(
                f"constriction from z = {lo:g} to {hi:g} nm must lie strictly inside the "
                f"membrane (-{L / 2:g}, {L / 2:g}) nm; move it or shorten it"
            )
        if lc == 0.0:
            return cls(L, (-L / 2, zc, L / 2), (radius_bottom, rc, radius_top))
        return cls(L, (-L / 2, lo, hi, L / 2), (radius_bottom, rc, rc, radius_top))

    # -- queries -------------------------------------------------------------------------------
    @property
    def min_radius(self) -> float:
        """Smallest pore radius (nm)."""
        return min(self.radius)

    @property
    def max_radius(self) -> float:
        """Largest pore radius (nm)."""
        return max(self.radius)

    def radius_at(self, z: npt.ArrayLike) -> np.ndarray:
        """Pore radius (nm) at axial positions ``z`` (nm, membrane centre at 0); NaN outside."""
        zz = np.asarray(z, dtype=float)
        out = np.interp(zz, self.z, self.radius)
        half = self.thickness / 2 * (1 + 1e-12)
        return np.where(np.abs(zz) <= half, out, np.nan)
