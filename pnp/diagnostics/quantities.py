"""Dimensionless groups and length/time scales that decide whether mean-field PNP holds.

Every function states its units; concentrations in mM (= mol/m^3), lengths in nm, times in ns,
surface charge in C/m^2, temperature in K. The array functions broadcast: concentrations carry the
species on the last axis, any leading axes are points or cells.

The Bjerrum and Debye lengths come from :mod:`poreflux.units` (one implementation in the package);
:func:`bjerrum_length_nm` is re-exported here for convenience.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt
from scipy import optimize

from poreflux.errors import InputError
from poreflux.species import Electrolyte, Species
from poreflux.units import E_CHARGE, MM, N_A, NM, bjerrum_length_nm, debye_length_nm
from poreflux.water import EPS_WATER_25C

__all__ = [
    "bjerrum_length_field_nm",
    "bjerrum_length_nm",
    "carnahan_starling_excess_kT",
    "check_permittivity",
    "check_temperature",
    "coupling_matrix",
    "debye_length_of_electrolyte_nm",
    "donnan_concentrations_mM",
    "dukhin_number",
    "evaluate_hopping_time_ns",
    "fixed_charge_concentration_mM",
    "local_debye_length_nm",
    "max_coupling",
    "mean_spacing_nm",
    "memory_time_from_kernel_ns",
    "packing_fraction",
    "species_radii_nm",
    "wall_coupling_parameter",
]

#: Relative permittivity of water at 298.15 K (Malmberg & Maryott 1956), the default eps_r.
EPS_WATER_298 = EPS_WATER_25C


def check_temperature(temperature: float) -> float:
    """Return ``temperature`` [K] as float; raise :class:`InputError` unless finite and > 0."""
    try:
        t = float(temperature)
    except (TypeError, ValueError):
        raise InputError(f"temperature must be a number in K, got {temperature!r}") from None
    if not (math.isfinite(t) and t > 0):
        raise InputError(
            f"temperature must be a finite positive number in kelvin, got {temperature!r} "
            f"(e.g. 298.15 for 25 degC)"
        )
    return t


def check_permittivity(eps_r: float | npt.ArrayLike, where: str = "") -> np.ndarray:
    """Return ``eps_r`` as an array; raise :class:`InputError` unless every value is finite > 0."""
    arr = np.asarray(eps_r, dtype=float)
    bad = ~(np.isfinite(arr) & (arr > 0))
    if np.any(bad):
        first = arr[bad].ravel()[0]
        place = f" in {where}" if where else ""
        raise InputError(
            f"relative permittivity must be > 0{place}, got {first!r} "
            f"(water ~78.5, membrane/protein interior ~2-20)"
        )
    return arr


def _conc(concentrations_mM: npt.ArrayLike) -> np.ndarray:
    c = np.asarray(concentrations_mM, dtype=float)
    if np.any(~np.isfinite(c)) or np.any(c < 0):
        raise InputError("concentrations must be finite and >= 0 mM")
    return c


def debye_length_of_electrolyte_nm(
    electrolyte: Electrolyte, temperature: float, eps_r: float = EPS_WATER_298
) -> float:
    """Debye length [nm] of an electrolyte's bulk (``0.304/sqrt(I/M)`` nm in water at 298.15 K).

    Wraps :func:`poreflux.units.debye_length_nm` with the electrolyte's ionic strength.
    """
    check_temperature(temperature)
    check_permittivity(eps_r)
    return debye_length_nm(electrolyte.ionic_strength, temperature, eps_r=float(eps_r))


def bjerrum_length_field_nm(eps_r: npt.ArrayLike, temperature: float) -> np.ndarray:
    """Bjerrum length [nm] for an array of local permittivities (``l_B(1, T) / eps_r``)."""
    eps = check_permittivity(eps_r)
    return bjerrum_length_nm(1.0, check_temperature(temperature)) / eps


def local_debye_length_nm(
    concentrations_mM: npt.ArrayLike,
    valences: Sequence[int],
    temperature: float,
    eps_r: npt.ArrayLike,
) -> np.ndarray:
    """Local Debye length [nm] from local concentrations (species on the last axis).

    ``lambda_D = sqrt(eps0 eps_r kT / (2 e^2 N_A I))`` with ``I = 1/2 sum z_i^2 c_i``; infinite
    where no ions are present.
    """
    c = _conc(concentrations_mM)
    z = np.asarray(valences, dtype=float)
    ionic = 0.5 * np.sum(c * z**2, axis=-1)
    eps = check_permittivity(eps_r)
    # lambda_D scales as sqrt(eps_r / I): evaluate poreflux.units' formula once at I = 1 M, eps_r =
    # 1.
    ref = debye_length_nm(1000.0, check_temperature(temperature), eps_r=1.0)
    with np.errstate(divide="ignore"):
        return np.where(ionic > 0, ref * np.sqrt(eps * 1000.0 / np.maximum(ionic, 1e-300)), np.inf)


def mean_spacing_nm(concentrations_mM: npt.ArrayLike) -> np.ndarray:
    """Mean inter-ionic spacing ``d = (N_A sum_i c_i)^(-1/3)`` [nm] (species on the last axis).

    Infinite where no ions are present. 150 mM KCl (300 mM of ions): d = 1.77 nm.
    """
    c = _conc(concentrations_mM)
    total = np.sum(c, axis=-1) * MM * N_A  # ions per m^3
    with np.errstate(divide="ignore"):
        return np.where(total > 0, np.cbrt(1.0 / np.maximum(total, 1e-300)) / NM, np.inf)


def coupling_matrix(
    valences: Sequence[int],
    concentrations_mM: Sequence[float],
    eps_r: float,
    temperature: float,
) -> np.ndarray:
    """Coupling ``Gamma_ij = l_B |z_i z_j| / d`` for every species pair at one point.

    ``d`` is the mean spacing of all ions (:func:`mean_spacing_nm`); pairs involving a species
    with zero concentration get 0.
    """
    c = _conc(concentrations_mM)
    z = np.abs(np.asarray(valences, dtype=float))
    if c.shape != z.shape:
        raise InputError(f"{len(z)} valences but {c.size} concentrations")
    l_b = float(bjerrum_length_field_nm(eps_r, temperature))
    d = float(mean_spacing_nm(c))
    present = (c > 0).astype(float)
    zz = np.outer(z * present, z * present)
    return l_b * zz / d if math.isfinite(d) else np.zeros_like(zz)


def max_coupling(
    valences: Sequence[int],
    concentrations_mM: npt.ArrayLike,
    eps_r: npt.ArrayLike,
    temperature: float,
) -> tuple[np.ndarray, np.ndarray]:
    """Largest pair coupling at each point and the species index of that pair.

    The largest ``|z_i z_j|`` among present species is ``max|z|^2`` (the like pair of the most
    charged ion present), so ``Gamma_max = l_B max|z|^2 / d``. Returns ``(gamma, index)`` with
    ``index = -1`` where no ions are present.
    """
    c = _conc(concentrations_mM)
    z = np.abs(np.asarray(valences, dtype=float))
    present = c > 0
    zp = np.where(present, z, 0.0)
    index = np.where(np.any(present, axis=-1), np.argmax(zp, axis=-1), -1)
    zmax = np.max(zp, axis=-1)
    l_b = bjerrum_length_field_nm(eps_r, temperature)
    d = mean_spacing_nm(c)
    gamma = np.where(np.isfinite(d), l_b * zmax**2 / np.where(np.isfinite(d), d, 1.0), 0.0)
    return gamma, index


def wall_coupling_parameter(
    surface_charge: float, valence: int, eps_r: float, temperature: float
) -> float:
    """Counter-ion coupling parameter of a charged wall, ``Xi = 2 pi |z|^3 l_B^2 |sigma| / e``.

    Mean-field (PB) theory is the ``Xi -> 0`` limit; corrections appear at ``Xi ~ 1`` and the
    strong-coupling regime (counter-ions correlated in a 2D layer) takes over for ``Xi >~ 10``
    (Moreira & Netz, PRL 87, 078301 (2001); Netz, Eur. Phys. J. E 5, 557 (2001)). ``sigma`` in
    C/m^2: -0.1 C/m^2 with monovalent counter-ions in water gives Xi = 2.0.
    """
    l_b = float(bjerrum_length_field_nm(eps_r, temperature))
    sigma_per_nm2 = abs(surface_charge) / E_CHARGE * NM**2
    return 2.0 * math.pi * abs(valence) ** 3 * l_b**2 * sigma_per_nm2


def species_radii_nm(species: Sequence[Species], kind: str = "ionic") -> np.ndarray:
    """Radii [nm] of the species (``kind`` ``"ionic"`` or ``"hydrated"``).

    Raises :class:`InputError` naming the species without the radius: the finite-size checks need
    it.
    """
    attr = {"ionic": "ionic_radius", "hydrated": "hydrated_radius"}.get(kind)
    if attr is None:
        raise InputError(f"radius kind must be 'ionic' or 'hydrated', got {kind!r}")
    radii = []
    for sp in species:
        r = getattr(sp, attr)
        if r is None:
            raise InputError(
                f"species {sp.name!r} has no {attr}, which the finite-size check needs; give one "
                f"with dataclasses.replace(species, {attr}=...) [nm], or pass "
                f"checks=... without 'finite_size'"
            )
        radii.append(r)
    return np.asarray(radii, dtype=float)


def packing_fraction(concentrations_mM: npt.ArrayLike, radii_nm: Sequence[float]) -> np.ndarray:
    """Ion volume fraction ``eta = sum_i N_A c_i (4/3) pi r_i^3`` (dimensionless)."""
    c = _conc(concentrations_mM)
    r = np.asarray(radii_nm, dtype=float) * NM
    return np.sum(c * MM * N_A * (4.0 / 3.0) * np.pi * r**3, axis=-1)


def carnahan_starling_excess_kT(eta: npt.ArrayLike) -> np.ndarray:
    """Hard-sphere excess chemical potential [kT] (Carnahan-Starling): 1.0 at eta = 0.1.

    ``mu_ex / kT = (8 eta - 9 eta^2 + 3 eta^3) / (1 - eta)^3`` (Carnahan & Starling, J. Chem.
    Phys. 51, 635 (1969)); infinite at eta >= 1.
    """
    e = np.asarray(eta, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu = (8 * e - 9 * e**2 + 3 * e**3) / (1 - e) ** 3
    return np.where(e < 1, mu, np.inf)


def fixed_charge_concentration_mM(surface_charge: float, radius_nm: npt.ArrayLike) -> np.ndarray:
    """Wall charge of a cylindrical pore as a volume concentration [mM] of elementary charges.

    ``c_X = 2 sigma / (e N_A R)`` (wall area / pore volume = 2/R), signed like ``sigma`` [C/m^2].
    """
    r = np.asarray(radius_nm, dtype=float) * NM
    with np.errstate(divide="ignore"):
        return np.where(np.isfinite(r), 2.0 * surface_charge / (E_CHARGE * N_A * r) / MM, 0.0)


def donnan_concentrations_mM(electrolyte: Electrolyte, fixed_mM: float) -> np.ndarray:
    """Concentrations [mM] in a pore whose wall charge is smeared as ``fixed_mM`` (signed).

    Donnan equilibrium (uniform potential ``psi`` in units of kT/e inside the pore): ``c_i =
    c_i^b exp(-z_i psi)`` with ``sum_i z_i c_i + fixed = 0``. The mean-field estimate of the
    counter-ion excess of a narrow charged pore with overlapping double layers (Teorell-Meyer-
    Sievers); exact on average in the limit ``R << lambda_D``.
    """
    z = np.asarray(electrolyte.valences, dtype=float)
    cb = np.asarray(electrolyte.bulk, dtype=float)
    if fixed_mM == 0:
        return cb.copy()
    if not math.isfinite(fixed_mM):
        raise InputError(f"fixed charge concentration must be finite, got {fixed_mM!r}")
    # a wall charge that no species can neutralise (e.g. only co-ions present) has no solution
    counter = z * np.sign(fixed_mM) < 0
    if not np.any(counter & (cb > 0)):
        raise InputError("no counter-ion in the electrolyte can neutralise the wall charge")

    def charge(psi: float) -> float:
        return float(np.sum(z * cb * np.exp(-z * psi)) + fixed_mM)

    lo, hi = -1.0, 1.0
    while charge(lo) < 0:
        lo *= 2
    while charge(hi) > 0:
        hi *= 2
    psi = optimize.brentq(charge, lo, hi, xtol=1e-14, rtol=1e-14)
    return cb * np.exp(-z * psi)


def dukhin_number(surface_charge: float, ionic_strength_mM: float, radius_nm: float) -> float:
    """Dukhin number ``Du = |sigma| / (e N_A I R)`` of a charged cylindrical pore.

    The ratio of the Dukhin length ``l_Du = |sigma| / (e N_A I)`` to the pore radius (Bocquet &
    Charlaix, Chem. Soc. Rev. 39, 1073 (2010); Lyklema, Fundamentals of Interface and Colloid
    Science, Vol. II): above ~1 surface conduction dominates bulk conduction. The ionic strength
    stands for the salt concentration (equal for a 1:1 salt).
    """
    if not (ionic_strength_mM > 0):
        raise InputError(f"ionic strength must be > 0 mM, got {ionic_strength_mM!r}")
    if not (radius_nm > 0):
        raise InputError(f"pore radius must be > 0 nm, got {radius_nm!r}")
    return abs(surface_charge) / (E_CHARGE * N_A * ionic_strength_mM * MM * radius_nm * NM)


def memory_time_from_kernel_ns(t_ns: npt.ArrayLike, kernel: npt.ArrayLike) -> float:
    """Memory (correlation) time [ns] of a friction kernel: ``tau_mem = int_0^inf K(t) dt / K(0)``.

    ``t_ns`` starts at 0; the kernel in any unit (only its shape matters). An exponential kernel
    ``K0 exp(-t/tau)`` gives ``tau``.
    """
    t = np.asarray(t_ns, dtype=float)
    k = np.asarray(kernel, dtype=float)
    if t.ndim != 1 or t.shape != k.shape or t.size < 2:
        raise InputError("a friction kernel needs matching 1D arrays t [ns] and K(t)")
    if t[0] != 0 or np.any(np.diff(t) <= 0):
        raise InputError("kernel times must start at 0 and increase strictly")
    if not (np.all(np.isfinite(k)) and k[0] > 0):
        raise InputError("the friction kernel must be finite with K(0) > 0")
    return float(np.sum(0.5 * (k[1:] + k[:-1]) * np.diff(t)) / k[0])


def evaluate_hopping_time_ns(source: float | Callable[[], float]) -> float:
    """A hopping time [ns] from a number or from a zero-argument callable returning one."""
    value = source() if callable(source) else source
    try:
        tau = float(value)
    except (TypeError, ValueError):
        raise InputError(f"hopping time must be a number in ns, got {value!r}") from None
    if not (math.isfinite(tau) and tau > 0):
        raise InputError(f"hopping time must be > 0 ns, got {value!r}")
    return tau
