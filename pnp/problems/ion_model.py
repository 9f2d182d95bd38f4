"""The continuum ion models of PNP problems (plain data, validated where they enter).

``ion_model`` of :class:`pnp.problems.transport.PNPProblem` (and of the study TOML key of the same
name):

``"point"``
    Point ions (classical PNP): ``J_i = -D_i c_i grad(ln c_i + z_i psi + mu_i)``.
``"steric"``
    Size-modified PNP (Bikerman / Kilic-Bazant-Ajdari lattice gas, per-species sizes
    ``a_i``; :mod:`pnp.forms.steric`): concentrations stay below close packing ``1/a_i^3``.
    At zero current it is the ``"bikerman"`` PB model.
``"steric+correlations"``
    The steric model with the Bazant-Storey-Kornyshev correlation-corrected Poisson equation
    (correlation length ``l_c``; :mod:`pnp.forms.correlations`), which produces overscreening
    and charge inversion near strongly charged walls with multivalent ions.

Ion sizes [nm]: ``ion_sizes[name]`` per species, else ``ion_size`` for all, else the hydrated
diameter ``2 * hydrated_radius`` of the species (:mod:`poreflux.species`). The correlation length
defaults to :func:`pnp.forms.correlations.default_correlation_length_nm` (``max(a, z_max^2
l_B)``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from poreflux.errors import InputError
from poreflux.units import MM, N_A, NM

#: Names of the PNP ion models.
ION_MODELS: tuple[str, ...] = ("point", "steric", "steric+correlations")

#: Largest accepted ion size / correlation length [nm].
MAX_ION_SIZE_NM = 5.0


def check_ion_model(name: Any) -> str:
    """Validate an ``ion_model`` name."""
    if name not in ION_MODELS:
        raise InputError(f"unknown ion_model {name!r}; use one of {ION_MODELS}")
    return str(name)


def is_steric(name: str) -> bool:
    """True for the models with finite ion sizes."""
    return name.startswith("steric")


def has_correlations(name: str) -> bool:
    """True for the models with the BSK correlation term."""
    return name.endswith("correlations")


def _length(value: Any, label: str) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{label} must be a number in nm, got {value!r}") from None
    if not (math.isfinite(x) and 0.0 < x <= MAX_ION_SIZE_NM):
        raise InputError(f"{label} must be in (0, {MAX_ION_SIZE_NM:g}] nm, got {value!r}")
    return x


def species_sizes(
    species: Sequence[Any], ion_size: float | None, ion_sizes: Mapping[str, float]
) -> tuple[float, ...]:
    """Ion size [nm] of each species (see the module docstring for the defaults)."""
    out = []
    for sp in species:
        if sp.name in ion_sizes:
            out.append(_length(ion_sizes[sp.name], f"ion_sizes[{sp.name!r}]"))
        elif ion_size is not None:
            out.append(_length(ion_size, "ion_size"))
        elif sp.hydrated_radius is not None:
            out.append(_length(2.0 * sp.hydrated_radius, f"hydrated diameter of {sp.name!r}"))
        else:
            raise InputError(
                f"the steric ion model needs a size for {sp.name!r}: give ion_size= (all "
                "species, e.g. 0.7 nm) or ion_sizes={name: nm}"
            )
    return tuple(out)


def check_packing(conc_mM: Sequence[float], sizes_nm: Sequence[float], where: str) -> float:
    """Packing fraction ``sum_j c_j N_A a_j^3`` of a bath; raises at or above 1."""
    phi = sum(c * MM * N_A * (a * NM) ** 3 for c, a in zip(conc_mM, sizes_nm, strict=True))
    if not phi < 1.0:
        raise InputError(
            f"the {where} bath has packing fraction sum(c_j N_A a_j^3) = {phi:.3f} >= 1: the ions "
            "do not fit; lower the ion sizes or the concentration"
        )
    return phi


def check_correlation_length(value: float | None) -> float | None:
    """Validate an explicit correlation length [nm] (``None`` = the default)."""
    return None if value is None else _length(value, "correlation_length")
