"""Channel geometry for Brownian dynamics: a membrane slab with an axisymmetric pore and two baths.

All lengths in nm. The membrane occupies ``|z| < L/2`` outside the pore radius ``R(z)``; the
pore is open for ``r < R(z)``; each bath is a cylinder of radius ``R_b`` and length ``L_b``
attached to a membrane face (left: ``-L/2 - L_b < z < -L/2``, right: ``L/2 < z < L/2 + L_b``).
A grand-canonical buffer of length ``L_buf`` sits at the far end of each bath.

Ion centres feel the membrane through the distance ``d`` from the centre to its surface:
``U_wall = (k_w/2) (a - d)^2`` for ``d < a`` (the ion radius ``a``), else 0; the bath boundaries
act the same way with one contact distance for all species, the largest ionic radius
(:mod:`stochastic.bd.kernels`). The distance to the membrane is evaluated as:

- inside the pore (``|z| <= L/2``, ``r < R(z)``): ``d = R(z) - r`` (radial; exact for a
  cylinder, first order in ``R'(z)`` for a profiled pore);
- in a bath beyond the face radius (``r >= R(+-L/2)``): ``d = |z| - L/2``;
- in a bath in front of the mouth (``r < R(+-L/2)``): ``d`` = distance to the rim circle;
- inside the solid: ``d = -min(r - R(z), L/2 - |z|)`` (negative: pushed out).

This ``d`` is continuous; the accessible region for a centre therefore has rounded rims of
radius ``a`` at the pore mouths.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from stochastic.profiles import StochasticInputError

__all__ = ["BDInputError", "ChannelGeometry", "RadiusProfile"]


class BDInputError(StochasticInputError):
    """Invalid input to the Brownian-dynamics channel model; the message says what to change."""


def _positive(value: float, name: str) -> float:
    v = float(value)
    if not (math.isfinite(v) and v > 0):
        raise BDInputError(f"{name} must be a finite length > 0 nm, got {value!r}")
    return v


@dataclass(frozen=True, eq=False)
class RadiusProfile:
    """Pore radius ``R(z)`` [nm] tabulated on a uniform grid spanning the membrane.

    Parameters
    ----------
    z
        Uniformly spaced, increasing positions [nm] from ``-L/2`` to ``L/2`` (>= 2 points).
    radius
        Pore radius at ``z`` [nm], all > 0; linear interpolation in between.
    """

    z: np.ndarray
    radius: np.ndarray

    def __post_init__(self) -> None:
        z = np.array(self.z, dtype=float)
        r = np.array(self.radius, dtype=float)
        if z.ndim != 1 or z.size < 2 or r.shape != z.shape:
            raise BDInputError(
                f"radius profile needs 1D z and radius of the same length >= 2, got shapes "
                f"{z.shape} and {r.shape}"
            )
        if not (np.all(np.isfinite(z)) and np.all(np.isfinite(r))):
            raise BDInputError("radius profile z and radius must be finite")
        h = np.diff(z)
        if np.any(h <= 0) or np.ptp(h) > 1e-6 * abs(h[0]):
            raise BDInputError("radius profile z must be uniformly spaced and increasing")
        if np.any(r <= 0):
            raise BDInputError(f"pore radius must be > 0 nm everywhere, min is {r.min():g}")
        for name, arr in (("z", z), ("radius", r)):
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)

    @classmethod
    def cylinder(cls, radius: float, length: float) -> RadiusProfile:
        """A cylindrical pore of ``radius`` through a membrane of thickness ``length`` [nm]."""
        r = _positive(radius, "pore radius")
        half = 0.5 * _positive(length, "membrane thickness")
        return cls(np.array([-half, half]), np.array([r, r]))

    @classmethod
    def from_callable(
        cls, radius: Callable[[np.ndarray], np.ndarray], length: float, n: int = 201
    ) -> RadiusProfile:
        """Tabulate a callable ``R(z)`` [nm] on ``n`` points across ``|z| <= length/2``."""
        half = 0.5 * _positive(length, "membrane thickness")
        z = np.linspace(-half, half, int(n))
        return cls(z, np.asarray(radius(z), dtype=float) * np.ones_like(z))

    def __call__(self, z: np.ndarray | float) -> np.ndarray:
        """``R(z)`` by linear interpolation (clamped at the ends)."""
        return np.interp(z, self.z, self.radius)


@dataclass(frozen=True, eq=False)
class ChannelGeometry:
    """Membrane, pore and baths of a BD channel system (lengths in nm).

    Parameters
    ----------
    membrane_thickness
        ``L``: the membrane occupies ``|z| < L/2``.
    pore
        The pore radius profile (a :class:`RadiusProfile`, a constant radius, or a callable
        ``R(z)`` tabulated on 201 points).
    bath_radius, bath_length
        Radius and length of each bath cylinder.
    buffer_length
        Length of the grand-canonical buffer at the far end of each bath (< bath_length / 2).
    """

    membrane_thickness: float
    pore: RadiusProfile | float | Callable[[np.ndarray], np.ndarray]
    bath_radius: float
    bath_length: float
    buffer_length: float = 1.5
    half_length: float = field(init=False)

    def __post_init__(self) -> None:
        lm = _positive(self.membrane_thickness, "membrane_thickness")
        pore = self.pore
        if isinstance(pore, int | float | np.floating):
            pore = RadiusProfile.cylinder(float(pore), lm)
        elif callable(pore) and not isinstance(pore, RadiusProfile):
            pore = RadiusProfile.from_callable(pore, lm)
        if not isinstance(pore, RadiusProfile):
            raise BDInputError(f"pore must be a RadiusProfile, a radius or R(z), got {pore!r}")
        if abs(pore.z[0] + 0.5 * lm) > 1e-9 or abs(pore.z[-1] - 0.5 * lm) > 1e-9:
            raise BDInputError(
                f"the pore radius profile must span the membrane |z| <= {0.5 * lm:g} nm, got "
                f"[{pore.z[0]:g}, {pore.z[-1]:g}]"
            )
        rb = _positive(self.bath_radius, "bath_radius")
        lb = _positive(self.bath_length, "bath_length")
        lbuf = _positive(self.buffer_length, "buffer_length")
        if np.max(pore.radius) >= rb:
            raise BDInputError(
                f"bath_radius {rb:g} nm must exceed the largest pore radius "
                f"{np.max(pore.radius):g} nm"
            )
        if lbuf > 0.5 * lb:
            raise BDInputError(
                f"buffer_length {lbuf:g} nm must be at most half the bath_length {lb:g} nm"
            )
        for name, v in (
            ("membrane_thickness", lm),
            ("pore", pore),
            ("bath_radius", rb),
            ("bath_length", lb),
            ("buffer_length", lbuf),
        ):
            object.__setattr__(self, name, v)
        object.__setattr__(self, "half_length", 0.5 * lm)

    @property
    def z_max(self) -> float:
        """The far end of the right bath [nm] (the left one is at ``-z_max``)."""
        return self.half_length + self.bath_length

    @property
    def box(self) -> tuple[tuple[float, float], tuple[float, float], tuple[float, float]]:
        """Bounding box ``((x0, x1), (y0, y1), (z0, z1))`` of the system [nm]."""
        rb, zm = self.bath_radius, self.z_max
        return (-rb, rb), (-rb, rb), (-zm, zm)

    def buffer_region(self, side: int, ion_radius: float) -> tuple[float, float, float]:
        """``(z_lo, z_hi, r_max)`` of the buffer open to ion centres of radius ``ion_radius``.

        ``side`` is -1 (left) or +1 (right). The buffer region excludes the wall layer (the
        centre stays ``ion_radius`` away from the bath's side and end walls).
        """
        zm, a = self.z_max, float(ion_radius)
        if side < 0:
            return -zm + a, -zm + self.buffer_length, self.bath_radius - a
        return zm - self.buffer_length, zm - a, self.bath_radius - a

    def buffer_volume(self, ion_radius: float) -> float:
        """Volume [nm^3] of one buffer region open to centres of radius ``ion_radius``."""
        z_lo, z_hi, r_max = self.buffer_region(1, ion_radius)
        return math.pi * r_max**2 * (z_hi - z_lo)

    def open_radius(
        self, z: np.ndarray, ion_radius: float, bath_contact: float | None = None
    ) -> np.ndarray:
        """Radius of the cross-section open to centres at ``z``, ignoring rims: ``R(z) - a`` in
        the pore, ``R_b - bath_contact`` in the baths (default ``bath_contact = a``)."""
        z = np.asarray(z, dtype=float)
        inside = np.abs(z) < self.half_length
        rz = self.pore(np.clip(z, -self.half_length, self.half_length)) - ion_radius
        rb = self.bath_radius - (ion_radius if bath_contact is None else bath_contact)
        return np.maximum(np.where(inside, rz, rb), 0.0)

    def wall_distance(self, x: np.ndarray, y: np.ndarray, z: np.ndarray) -> np.ndarray:
        """Distance [nm] from points to the nearest solid surface (negative inside the solid)."""
        r = np.hypot(x, y)
        az = np.abs(z)
        h = self.half_length
        rz = self.pore(np.clip(z, -h, h))
        r_end = np.where(z < 0, self.pore.radius[0], self.pore.radius[-1])
        d_pore = rz - r
        d_face = az - h
        d_rim = np.hypot(np.maximum(r_end - r, 0.0), d_face)
        d_mem = np.where(
            az <= h,
            np.where(r < rz, d_pore, -np.minimum(r - rz, h - az)),
            np.where(r >= r_end, d_face, d_rim),
        )
        d_bath = np.minimum(self.bath_radius - r, self.z_max - az)
        return np.minimum(d_mem, d_bath)
