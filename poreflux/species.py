"""Ion species and electrolytes.

A :class:`Species` is plain data (valence, diffusion coefficient, radii, mass). The built-in library
holds common ions with literature values; :func:`define_species` or the :class:`Species`
constructor makes new ones. An :class:`Electrolyte` is a set of species with bath concentrations
that must be electroneutral. Bad values raise :class:`~poreflux.errors.InputError` (a
``ValueError``); unknown names :class:`UnknownSpeciesError` (an ``InputError`` and a ``KeyError``).

Sources of the library values (25 degC, infinite dilution):

- diffusion coefficients: CRC Handbook of Chemistry and Physics, "Ionic conductivity and diffusion
  at infinite dilution" (values of Robinson & Stokes, *Electrolyte Solutions*, 1959);
- ionic (crystal) radii: R. D. Shannon, Acta Cryst. A32, 751 (1976), coordination number 6;
- hydrated radii: E. R. Nightingale, J. Phys. Chem. 63, 1381 (1959);
- masses: IUPAC standard atomic weights (2021).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from poreflux.errors import InputError
from poreflux.validation import check_finite
from poreflux.water import REFERENCE_TEMPERATURE, water_viscosity


class UnknownSpeciesError(InputError, KeyError):
    """A species, salt ion or electrolyte member that is not known (also a ``KeyError``)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class Species:
    """One mobile ion species.

    Parameters
    ----------
    name
        Unique name, e.g. ``"K+"``.
    valence
        Charge number z (non-zero integer for ions).
    diffusion
        Diffusion coefficient [nm^2/ns] (= 1e-9 m^2/s).
    ionic_radius
        Bare (crystal) radius [nm]; ``None`` if unknown. Used by finite-size checks.
    hydrated_radius
        Hydrated radius [nm]; ``None`` if unknown.
    mass
        Mass [amu]; ``None`` if unknown.
    """

    name: str
    valence: int
    diffusion: float
    ionic_radius: float | None = None
    hydrated_radius: float | None = None
    mass: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name.strip():
            raise InputError("species name must be a non-empty string")
        if isinstance(self.valence, bool) or int(self.valence) != self.valence:
            raise InputError(
                f"species {self.name!r}: valence must be an integer, got {self.valence!r}"
            )
        object.__setattr__(self, "valence", int(self.valence))
        if self.valence == 0:
            raise InputError(f"species {self.name!r}: valence 0 is not an ion")
        if not (math.isfinite(self.diffusion) and self.diffusion > 0):
            raise InputError(
                f"species {self.name!r}: diffusion coefficient must be > 0 nm^2/ns, "
                f"got {self.diffusion!r}"
            )
        for label in ("ionic_radius", "hydrated_radius", "mass"):
            value = getattr(self, label)
            if value is not None and not (math.isfinite(value) and value > 0):
                raise InputError(
                    f"species {self.name!r}: {label} must be > 0 or None, got {value!r}"
                )

    @property
    def diameter(self) -> float:
        """Bare ion diameter [nm]; raises if the ionic radius is unknown."""
        if self.ionic_radius is None:
            raise InputError(
                f"species {self.name!r} has no ionic_radius; give one with "
                f"dataclasses.replace(species, ionic_radius=...)"
            )
        return 2.0 * self.ionic_radius


def diffusion_at(species: Species, temperature: float) -> float:
    """Stokes-Einstein diffusion coefficient [nm^2/ns] of ``species`` at ``temperature`` [K].

    ``D(T) = D(T0) (T / T0) eta(T0) / eta(T)`` with the library value at ``T0`` = 298.15 K and
    the water viscosity of :func:`water_viscosity` (the hydrodynamic radius held fixed).
    """
    t0 = REFERENCE_TEMPERATURE
    ratio = (temperature / t0) * water_viscosity(t0) / water_viscosity(temperature)
    return species.diffusion * ratio


_LIBRARY: dict[str, Species] = {}


def _register(species: Species) -> Species:
    _LIBRARY[species.name] = species
    return species


# name, z, D [nm^2/ns] (CRC/Robinson-Stokes), r_ion [nm] (Shannon 1976, CN6),
# r_hyd [nm] (Nightingale 1959), mass [amu]
K = _register(Species("K+", 1, 1.957, 0.138, 0.331, 39.098))
NA = _register(Species("Na+", 1, 1.334, 0.102, 0.358, 22.990))
LI = _register(Species("Li+", 1, 1.029, 0.076, 0.382, 6.94))
CS = _register(Species("Cs+", 1, 2.056, 0.167, 0.329, 132.905))
CL = _register(Species("Cl-", -1, 2.032, 0.181, 0.332, 35.45))
BR = _register(Species("Br-", -1, 2.080, 0.196, 0.330, 79.904))
CA = _register(Species("Ca2+", 2, 0.792, 0.100, 0.412, 40.078))
MG = _register(Species("Mg2+", 2, 0.706, 0.072, 0.428, 24.305))


def library() -> dict[str, Species]:
    """A copy of the built-in species library, by name."""
    return dict(_LIBRARY)


def get_species(name: str | Species) -> Species:
    """Look up a species by name (a :class:`Species` is returned unchanged)."""
    if isinstance(name, Species):
        return name
    try:
        return _LIBRARY[name]
    except KeyError:
        known = ", ".join(sorted(_LIBRARY))
        raise UnknownSpeciesError(
            f"unknown species {name!r}; known species: {known}. "
            f"Define a new one with poreflux Species(name, valence, diffusion, ...)"
        ) from None


def define_species(
    name: str,
    valence: int,
    diffusion: float,
    ionic_radius: float | None = None,
    hydrated_radius: float | None = None,
    mass: float | None = None,
    *,
    register: bool = False,
) -> Species:
    """Make a new species; with ``register=True`` it becomes available by name."""
    sp = Species(name, valence, diffusion, ionic_radius, hydrated_radius, mass)
    if register:
        if name in _LIBRARY and _LIBRARY[name] != sp:
            raise InputError(f"species {name!r} is already defined with other values")
        _register(sp)
    return sp


@dataclass(frozen=True)
class Electrolyte:
    """Mobile species with their bath concentrations [mM]; electroneutral by construction.

    Parameters
    ----------
    concentrations
        Mapping species (or species name) -> bulk concentration [mM].
    neutrality_tol
        Relative tolerance of the electroneutrality check ``|sum z c| <= tol * sum |z| c``.

    Examples
    --------
    >>> Electrolyte({"K+": 150.0, "Cl-": 150.0}).ionic_strength
    150.0
    >>> salt("CaCl2", 100.0).concentration("Cl-")
    200.0
    """

    concentrations: Mapping[str | Species, float]
    neutrality_tol: float = 1e-9
    species: tuple[Species, ...] = field(init=False)
    bulk: tuple[float, ...] = field(init=False)

    def __post_init__(self) -> None:
        if not self.concentrations:
            raise InputError("an electrolyte needs at least one species")
        species = []
        bulk = []
        for key, value in self.concentrations.items():
            sp = get_species(key)
            c = float(value)
            if not math.isfinite(c):
                raise InputError(f"concentration of {sp.name} must be finite, got {value!r}")
            if c < 0:
                raise InputError(f"concentration of {sp.name} must be >= 0 mM, got {c}")
            if sp.name in (s.name for s in species):
                raise InputError(f"species {sp.name!r} given twice")
            species.append(sp)
            bulk.append(c)
        charge = sum(s.valence * c for s, c in zip(species, bulk, strict=True))
        scale = sum(abs(s.valence) * c for s, c in zip(species, bulk, strict=True))
        if scale == 0:
            raise InputError("all concentrations are zero; give at least one positive value")
        if abs(charge) > self.neutrality_tol * scale:
            detail = ", ".join(f"{s.name}: {c:g} mM" for s, c in zip(species, bulk, strict=True))
            raise InputError(
                f"electrolyte is not electroneutral: sum z_i c_i = {charge:g} mM ({detail}); "
                f"adjust the concentrations so that the charges balance"
            )
        object.__setattr__(self, "species", tuple(species))
        object.__setattr__(self, "bulk", tuple(bulk))
        named = {s.name: c for s, c in zip(species, bulk, strict=True)}
        object.__setattr__(self, "concentrations", named)

    @property
    def names(self) -> tuple[str, ...]:
        """Species names, in order."""
        return tuple(s.name for s in self.species)

    @property
    def valences(self) -> tuple[int, ...]:
        """Valences, in order."""
        return tuple(s.valence for s in self.species)

    def concentration(self, name: str) -> float:
        """Bulk concentration [mM] of the named species."""
        try:
            return self.concentrations[name]
        except KeyError:
            raise UnknownSpeciesError(
                f"species {name!r} is not in this electrolyte ({self.names})"
            ) from None

    @property
    def ionic_strength(self) -> float:
        """Ionic strength ``I = 1/2 sum z_i^2 c_i`` [mM]."""
        return 0.5 * sum(s.valence**2 * c for s, c in zip(self.species, self.bulk, strict=True))

    @property
    def total_concentration(self) -> float:
        """Sum of all ion concentrations [mM]."""
        return float(sum(self.bulk))

    def scaled(self, factor: float) -> Electrolyte:
        """The same composition with every concentration multiplied by ``factor``."""
        return Electrolyte({s: c * factor for s, c in zip(self.species, self.bulk, strict=True)})

    def __iter__(self) -> Iterable[tuple[Species, float]]:
        return iter(zip(self.species, self.bulk, strict=True))


_SALT = re.compile(r"^([A-Z][a-z]?)(\d*)([A-Z][a-z]?)(\d*)$")


def salt(formula: str, concentration_mM: float) -> Electrolyte:
    """A binary salt solution such as ``"KCl"`` or ``"CaCl2"`` at ``concentration_mM`` [mM] of salt.

    The cation and anion are taken from the species library by element symbol; stoichiometry follows
    from the formula and must match the valences.
    """
    match = _SALT.match(formula)
    if not match:
        raise InputError(f"cannot parse salt formula {formula!r}; use e.g. 'KCl', 'CaCl2'")
    cat_sym, n_cat, an_sym, n_an = match.groups()
    n_cat = int(n_cat or 1)
    n_an = int(n_an or 1)
    cation = _by_symbol(cat_sym, positive=True, formula=formula)
    anion = _by_symbol(an_sym, positive=False, formula=formula)
    if cation.valence * n_cat + anion.valence * n_an != 0:
        raise InputError(
            f"salt {formula!r} is not neutral with valences {cation.name} and {anion.name}"
        )
    c = check_finite(concentration_mM, f"concentration of salt {formula!r}", "mM")
    return Electrolyte({cation: n_cat * c, anion: n_an * c})


def _by_symbol(symbol: str, *, positive: bool, formula: str) -> Species:
    for sp in _LIBRARY.values():
        stem = sp.name.rstrip("+-0123456789")
        if stem == symbol and (sp.valence > 0) == positive:
            return sp
    kind = "cation" if positive else "anion"
    raise UnknownSpeciesError(f"salt {formula!r}: no library {kind} with symbol {symbol!r}")
