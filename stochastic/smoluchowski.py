"""Steady 1D Smoluchowski (overdamped Fokker-Planck) transport along the pore axis.

The density c(z) of one ion species in a potential of mean force W(z) [kT] with diffusivity
D(z) [nm^2/ns] obeys ``dc/dt = -dJ/dz`` with ``J = -D e^{-W} d(c e^{W})/dz``. Between two baths
with concentrations ``c_L``, ``c_R`` [mM] the steady flux is exact::

    J = (c_L e^{W_L} - c_R e^{W_R}) / int_L^R e^{W(z)} / D(z) dz        [mM nm/ns]

The integrals are composite Gauss-Legendre rules (8 points per cell), exact for the interpolant.

Current. J is a flux density (mol m^-2 s^-1 = mM nm/ns). A channel physicist expects a
single-channel current: the 1D model describes the ion in an effective pore cross-section A
[nm^2] (the area over which the bath concentration is referred, e.g. pi r^2 of the narrow
region), so ``I = z e N_A A J``, i.e. ``I [pA] = z * F * 1e-6 * A [nm^2] * J [mM nm/ns]``. The same
A enters the equilibrium binding constant, so ratios (selectivity, the binding-vs-conduction
paradox) do not depend on it.

Sign conventions: the voltage ``V`` is the potential of the left bath relative to the right
bath; a positive current is positive charge moving from left to right. With left =
intracellular this is the physiological convention (outward current positive at V_m > E_rev).

Mean first-passage times use the double-integral formulas (Gardiner, *Handbook of Stochastic
Methods*, section 5.2.7; Szabo, Schulten & Schulten, J. Chem. Phys. 72, 4350 (1980)); the
overdamped Kramers rate is ``k = D sqrt(W''_min |W''_max|) / (2 pi) e^{-dW}`` (Kramers 1940;
Hänggi, Talkner & Borkovec, Rev. Mod. Phys. 62, 251 (1990), eq. 4.56b) with W in kT.
"""

from __future__ import annotations

import logging
import math
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from poreflux import units
from stochastic import quadrature as quad
from stochastic.profiles import Profile, StochasticInputError

__all__ = [
    "FLUX_AREA_TO_PA",
    "Channel1D",
    "KramersRate",
    "Permeant",
    "binding_constant_per_mM",
    "ghk_flux",
    "hopping_time_ns",
    "kramers_rate",
    "mfpt",
    "particle_rate_per_ns",
    "steady_density",
    "steady_flux",
    "total_W",
]

logger = logging.getLogger(__name__)

#: Current [pA] carried by a flux of 1 mM nm/ns of a monovalent ion through 1 nm^2 (= F * 1e-6).
FLUX_AREA_TO_PA: float = units.FARADAY * 1e-6
#: Number density of 1 mM (= 1 mol/m^3) in ions per nm^3 (= N_A * 1e-27 = 6.022e-4).
MM_TO_PER_NM3: float = units.N_A * units.MM * units.NM**3

_MAX_EXPONENT = 600.0


# ------------------------------------------------------------------------------ total W
def total_W(
    profile: Profile,
    valence: int = 0,
    voltage_mV: float = 0.0,
    drop: tuple[float, float] | None = None,
) -> tuple[Callable[[np.ndarray], np.ndarray], np.ndarray]:
    """W(z) plus the energy of a linear voltage drop, as a callable [kT] and its breakpoints.

    The electric potential is ``voltage_mV`` left of ``drop = (z_a, z_b)`` (default: the whole
    profile), linear across it, 0 right of it.
    """
    za, zb = (profile.z[0], profile.z[-1]) if drop is None else map(float, drop)
    if not zb > za:
        raise StochasticInputError(f"drop must be (z_a, z_b) with z_b > z_a, got {drop}")
    u = valence * voltage_mV / units.thermal_voltage_mV(profile.temperature)
    breaks = np.union1d(profile.z, [za, zb])

    def w(x: np.ndarray) -> np.ndarray:
        base = profile._w_interp(x)
        if u == 0.0:
            return base
        return base + u * (1.0 - np.clip((x - za) / (zb - za), 0.0, 1.0))

    return w, breaks


def _check_exponent(w_vals: np.ndarray) -> None:
    if np.ptp(w_vals) > _MAX_EXPONENT:
        raise StochasticInputError(
            f"W varies by {np.ptp(w_vals):.0f} kT along the profile; exp(W) overflows. "
            "Check the energy unit (kT vs kJ/mol) or clip unphysical values."
        )


# ------------------------------------------------------------------------------ steady flux
def steady_flux(
    profile: Profile,
    c_left_mM: float,
    c_right_mM: float,
    *,
    valence: int = 0,
    voltage_mV: float = 0.0,
    drop: tuple[float, float] | None = None,
) -> float:
    """Exact steady flux between two baths [mM nm/ns] (positive left to right).

    ``J = (c_L e^{W_L} - c_R e^{W_R}) / int e^{W}/D dz`` with ``W`` including the voltage term
    (see :func:`total_W`). ``c_L``, ``c_R`` are the bath concentrations at the profile ends.
    """
    if c_left_mM < 0 or c_right_mM < 0:
        raise StochasticInputError(
            f"bath concentrations must be >= 0 mM, got {c_left_mM!r}, {c_right_mM!r}"
        )
    z0, z1 = float(profile.z[0]), float(profile.z[-1])
    u = valence * voltage_mV / units.thermal_voltage_mV(profile.temperature)
    if drop is None or (float(drop[0]) == z0 and float(drop[1]) == z1):
        # linear drop over the whole profile: reuse the cached nodes, W and 1/D there
        x, wts_over_d, w_base = _flux_quadrature(profile)
        wx = w_base + u * (z1 - x) / (z1 - z0) if u else w_base
        wl, wr = float(profile.W[0]) + u, float(profile.W[-1])
    else:
        w, breaks = total_W(profile, valence, voltage_mV, drop)
        x, wts = quad.gl_nodes(quad.segments(breaks, z0, z1))
        wx = w(x)
        wts_over_d = wts / profile._d_interp(x)
        wl, wr = float(w(np.array(z0))), float(w(np.array(z1)))
    _check_exponent(wx)
    ref = float(np.max(wx))
    denom = np.sum(wts_over_d * np.exp(wx - ref))
    return float((c_left_mM * np.exp(wl - ref) - c_right_mM * np.exp(wr - ref)) / denom)


_FLUX_CACHE: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _flux_quadrature(profile: Profile) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes on the profile's cells, weights / D and W there (cached)."""
    hit = _FLUX_CACHE.get(profile)
    if hit is None:
        x, wts = quad.gl_nodes(profile.z)
        hit = (x, wts / profile._d_interp(x), profile._w_interp(x))
        _FLUX_CACHE[profile] = hit
    return hit


def steady_density(
    profile: Profile,
    c_left_mM: float,
    c_right_mM: float,
    z: np.ndarray | None = None,
    *,
    valence: int = 0,
    voltage_mV: float = 0.0,
    drop: tuple[float, float] | None = None,
) -> tuple[np.ndarray, np.ndarray, float]:
    """Steady concentration c(z) [mM] between the baths; returns ``(z, c, J)``.

    ``c(z) = e^{-W(z)} [c_L e^{W_L} - J int_{z_L}^{z} e^{W}/D]``.
    """
    z = profile.z if z is None else np.asarray(z, dtype=float)
    profile._check_inside(z)
    J = steady_flux(
        profile, c_left_mM, c_right_mM, valence=valence, voltage_mV=voltage_mV, drop=drop
    )
    w, breaks = total_W(profile, valence, voltage_mV, drop)
    z0 = float(profile.z[0])
    wl = float(w(np.array(z0)))
    wz = w(z)
    cum = quad.cumulative(lambda x: np.exp(w(x) - wz.max()) / profile._d_interp(x), breaks, z0, z)
    c = c_left_mM * np.exp(wl - wz) - J * cum * np.exp(wz.max() - wz)
    return z, c, J


def ghk_flux(
    D_nm2_per_ns: float,
    length_nm: float,
    c_left_mM: float,
    c_right_mM: float,
    valence: int,
    voltage_mV: float,
    temperature: float,
) -> float:
    """Goldman-Hodgkin-Katz flux [mM nm/ns] through a uniform membrane with a linear drop.

    ``J = (D/L) u (c_L - c_R e^{-u}) / (1 - e^{-u})``, ``u = z e V / kT`` (Goldman, J. Gen.
    Physiol. 27, 37 (1943); Hodgkin & Katz, J. Physiol. 108, 37 (1949)).
    """
    u = valence * voltage_mV / units.thermal_voltage_mV(temperature)
    if abs(u) < 1e-10:
        return D_nm2_per_ns / length_nm * (c_left_mM - c_right_mM)
    return (
        D_nm2_per_ns / length_nm * u * (c_left_mM - c_right_mM * math.exp(-u)) / (-math.expm1(-u))
    )


def particle_rate_per_ns(flux: float, area_nm2: float) -> float:
    """Ions per ns crossing an area [nm^2] for a flux density [mM nm/ns]."""
    return flux * area_nm2 * MM_TO_PER_NM3


def binding_constant_per_mM(
    profile: Profile, site: tuple[float, float], area_nm2: float, reference: str = "left"
) -> float:
    """Equilibrium binding constant ``K_b`` [1/mM] of a site region (low occupancy).

    The mean number of ions in ``site = (z_a, z_b)`` at bath concentration c is
    ``N = c N_A A int_site e^{-(W - W_bath)} dz = K_b c``; the dissociation constant is
    ``K_d = 1/K_b`` [mM]. ``reference`` picks the bath end (``"left"`` or ``"right"``).
    """
    za, zb = map(float, site)
    if not zb > za:
        raise StochasticInputError(f"site must be (z_a, z_b) with z_b > z_a, got {site}")
    profile._check_inside(np.array([za, zb]))
    w0 = profile.W[0] if reference == "left" else profile.W[-1]
    integral = quad.integrate(lambda x: np.exp(w0 - profile._w_interp(x)), profile.z, za, zb)
    return MM_TO_PER_NM3 * area_nm2 * integral


# ------------------------------------------------------------------------------ channel
def _concentration(
    label: str, value: float, what: str = "a finite concentration >= 0 mM", low: float = 0.0
) -> float:
    try:
        c = float(value)
    except (TypeError, ValueError):
        c = math.nan
    if not (math.isfinite(c) and c >= low):
        raise StochasticInputError(f"{label} must be {what}, got {value!r}")
    return c


@dataclass(frozen=True)
class Permeant:
    """An ion species crossing the channel: name, valence and its own W(z), D(z)."""

    name: str
    valence: int
    profile: Profile


@dataclass(frozen=True)
class Channel1D:
    """A 1D channel model for several permeant species sharing one voltage drop.

    Parameters
    ----------
    permeants
        The species; each carries its own profile (W in kT, D in nm^2/ns) on the same axis.
    area_nm2
        Effective cross-section A [nm^2] converting flux density to current, ``I = z e N_A A J``.
    drop
        Region ``(z_a, z_b)`` [nm] of the linear voltage drop (default: each profile's extent).
    """

    permeants: tuple[Permeant, ...]
    area_nm2: float
    drop: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        perms = tuple(self.permeants)
        if not perms:
            raise StochasticInputError("a channel needs at least one permeant species")
        names = [p.name for p in perms]
        if len(set(names)) != len(names):
            raise StochasticInputError(f"permeant names must be unique, got {names}")
        temps = {p.profile.temperature for p in perms}
        if len(temps) != 1:
            raise StochasticInputError(f"all profiles must share one temperature, got {temps}")
        if not (self.area_nm2 > 0):
            raise StochasticInputError(f"area_nm2 must be > 0, got {self.area_nm2!r}")
        object.__setattr__(self, "permeants", perms)

    @property
    def temperature(self) -> float:
        """Temperature [K] shared by the profiles."""
        return self.permeants[0].profile.temperature

    def _get(self, name: str) -> Permeant:
        for p in self.permeants:
            if p.name == name:
                return p
        raise StochasticInputError(f"no permeant {name!r}; have {[p.name for p in self.permeants]}")

    def _checked_baths(
        self, c_left_mM: Mapping[str, float], c_right_mM: Mapping[str, float], complete: bool
    ) -> tuple[dict[str, float], dict[str, float]]:
        """Bath maps with permeant keys only and finite concentrations >= 0 mM.

        A permeant absent from one bath has 0 mM there (bi-ionic conditions); with ``complete``
        one absent from both raises (it would silently carry no current).
        """
        names = [p.name for p in self.permeants]
        out: list[dict[str, float]] = []
        for label, bath in (("c_left_mM", c_left_mM), ("c_right_mM", c_right_mM)):
            if not isinstance(bath, Mapping):
                raise StochasticInputError(f"{label} must be a map species -> concentration [mM]")
            for key in bath:
                if key not in names:
                    raise StochasticInputError(
                        f"{label} names {key!r}, which is not a permeant of this channel "
                        f"(permeants: {names}); check the spelling (names are case-sensitive)"
                    )
            out.append({k: _concentration(f"{label}[{k!r}]", v) for k, v in bath.items()})
        absent = [n for n in names if n not in out[0] and n not in out[1]]
        if complete and absent:
            raise StochasticInputError(
                f"permeant(s) {absent} in neither bath (permeants: {names}); give their "
                "concentration, 0 mM if they are absent"
            )
        return out[0], out[1]

    def _currents(self, cl: Mapping[str, float], cr: Mapping[str, float], v: float) -> list[float]:
        """Current of every permeant [pA] from checked baths (absent = 0 mM)."""
        v = _concentration("voltage_mV", v, "a finite number in mV", -math.inf)
        out = []
        for p in self.permeants:
            J = steady_flux(
                p.profile, cl.get(p.name, 0.0), cr.get(p.name, 0.0), valence=p.valence,
                voltage_mV=v, drop=self.drop,
            )  # fmt: skip
            out.append(p.valence * FLUX_AREA_TO_PA * self.area_nm2 * J)
        return out

    def species_currents_pA(
        self, c_left_mM: Mapping[str, float], c_right_mM: Mapping[str, float], voltage_mV: float
    ) -> dict[str, float]:
        """Current of every species [pA]; one absent from both baths carries none.

        Raises :class:`StochasticInputError` for a key that is not a permeant.
        """
        cl, cr = self._checked_baths(c_left_mM, c_right_mM, complete=False)
        names = [p.name for p in self.permeants]
        return dict(zip(names, self._currents(cl, cr, voltage_mV), strict=True))

    def current_pA(
        self, c_left_mM: Mapping[str, float], c_right_mM: Mapping[str, float], voltage_mV: float
    ) -> float:
        """Total current [pA] at ``voltage_mV`` (left relative to right).

        Every permeant must be in at least one bath (absent from one = 0 mM there); a key that
        is not a permeant, or a permeant in neither bath, raises :class:`StochasticInputError`.
        """
        cl, cr = self._checked_baths(c_left_mM, c_right_mM, complete=True)
        return sum(self._currents(cl, cr, voltage_mV))

    def iv_curve(
        self,
        voltages_mV: Sequence[float],
        c_left_mM: Mapping[str, float],
        c_right_mM: Mapping[str, float],
    ) -> np.ndarray:
        """Total current [pA] at each voltage [mV] (baths as in :meth:`current_pA`)."""
        cl, cr = self._checked_baths(c_left_mM, c_right_mM, complete=True)
        return np.array([sum(self._currents(cl, cr, float(v))) for v in voltages_mV])

    def conductance_pS(
        self,
        c_left_mM: Mapping[str, float],
        c_right_mM: Mapping[str, float],
        voltage_mV: float,
        kind: str = "chord",
        dv_mV: float = 0.1,
    ) -> float:
        """Chord ``I/(V - E_rev)`` or slope ``dI/dV`` conductance [pS] (pA/mV = 1e3 pS)."""
        if kind == "slope":
            ip = self.current_pA(c_left_mM, c_right_mM, voltage_mV + dv_mV)
            im = self.current_pA(c_left_mM, c_right_mM, voltage_mV - dv_mV)
            return 1e3 * (ip - im) / (2 * dv_mV)
        if kind != "chord":
            raise StochasticInputError(f"kind must be 'chord' or 'slope', got {kind!r}")
        erev = self.reversal_potential_mV(c_left_mM, c_right_mM)
        if abs(voltage_mV - erev) < 1e-9:
            raise StochasticInputError("chord conductance is undefined at the reversal potential")
        return 1e3 * self.current_pA(c_left_mM, c_right_mM, voltage_mV) / (voltage_mV - erev)

    def reversal_potential_mV(
        self,
        c_left_mM: Mapping[str, float],
        c_right_mM: Mapping[str, float],
        bracket: tuple[float, float] = (-200.0, 200.0),
    ) -> float:
        """Voltage [mV] of zero total current, by Brent's method (the bracket widens if needed).

        Baths as in :meth:`current_pA` (bi-ionic: ``{"K": c}``, ``{"Na": c}``).
        """
        cl, cr = self._checked_baths(c_left_mM, c_right_mM, complete=True)

        def f(v: float) -> float:
            return sum(self._currents(cl, cr, v))

        lo, hi = bracket
        flo, fhi = f(lo), f(hi)
        if flo == 0.0 and fhi == 0.0:
            raise StochasticInputError(
                "no current at any voltage: no reversal potential (are all baths empty?)"
            )
        for _ in range(6):
            if flo * fhi <= 0:
                break
            lo, hi = 2 * lo, 2 * hi
            flo, fhi = f(lo), f(hi)
        else:
            raise StochasticInputError(
                f"no reversal potential in [{lo:g}, {hi:g}] mV (current does not change sign); "
                "is there a permeant species with a concentration gradient?"
            )
        return float(brentq(f, lo, hi, xtol=1e-10, rtol=1e-12))

    def current_ratio(
        self, a: str, b: str, c_left_mM: float, c_right_mM: float, voltage_mV: float
    ) -> float:
        """Transport selectivity ``S_I = I_a / I_b`` with each species alone in identical baths."""
        ia = self.species_currents_pA({a: c_left_mM}, {a: c_right_mM}, voltage_mV)[a]
        ib = self.species_currents_pA({b: c_left_mM}, {b: c_right_mM}, voltage_mV)[b]
        return ia / ib

    def dissociation_constant_mM(self, name: str, site: tuple[float, float]) -> float:
        """Equilibrium ``K_d`` [mM] of a binding site region for one species (smaller = tighter)."""
        return 1.0 / binding_constant_per_mM(self._get(name).profile, site, self.area_nm2)


# ------------------------------------------------------------------------------ MFPT
_BOUNDARIES = ("reflecting", "absorbing")


def mfpt(
    profile: Profile,
    x0: np.ndarray | float,
    *,
    left: str = "reflecting",
    right: str = "absorbing",
    bounds: tuple[float, float] | None = None,
) -> np.ndarray | float:
    """Mean first-passage time [ns] from ``x0`` to the absorbing end(s) of ``bounds``.

    With ``rho = e^{-W}``, ``psi = e^{W}/D`` on ``[a, b]`` (default the whole profile):

    - reflecting a, absorbing b: ``T(x) = int_x^b psi(y) int_a^y rho du dy``;
    - absorbing a, reflecting b: ``T(x) = int_a^x psi(y) int_y^b rho du dy``;
    - both absorbing: ``T(x) = S(x)/S(b) G(b) - G(x)``, ``S = int_a psi``,
      ``G(x) = int_a^x psi(y) int_a^y rho du dy``.
    """
    if left not in _BOUNDARIES or right not in _BOUNDARIES:
        raise StochasticInputError(
            f"boundaries must be one of {_BOUNDARIES}, got {left!r}, {right!r}"
        )
    if left == right == "reflecting":
        raise StochasticInputError(
            "both ends reflecting: the particle never leaves; make one absorbing"
        )
    a, b = (float(profile.z[0]), float(profile.z[-1])) if bounds is None else map(float, bounds)
    if not b > a:
        raise StochasticInputError(
            f"bounds must be (a, b) with b > a (reversed or empty interval), got {bounds}"
        )
    scalar = np.ndim(x0) == 0
    x = np.atleast_1d(np.asarray(x0, dtype=float))
    profile._check_inside(np.array([a, b]))
    if np.any(x < a) or np.any(x > b):
        raise StochasticInputError(f"start point(s) must lie in [{a:g}, {b:g}] nm")
    breaks = profile.z
    w, dfun = profile._w_interp, profile._d_interp
    _check_exponent(w(np.linspace(a, b, 513)))

    def rho(y):
        return np.exp(-w(y))

    def psi(y):
        return np.exp(w(y)) / dfun(y)

    if left == "reflecting":  # T(x) = G(b) - G(x), G(x) = int_a^x psi R, R(y) = int_a^y rho

        def g(y):
            return psi(y) * quad.cumulative(rho, breaks, a, y)

        out = quad.integrate(g, breaks, a, b) - quad.cumulative(g, breaks, a, x)
    elif right == "reflecting":  # T(x) = int_a^x psi(y) (int_y^b rho) dy
        total = quad.integrate(rho, breaks, a, b)

        def g(y):
            return psi(y) * (total - quad.cumulative(rho, breaks, a, y))

        out = quad.cumulative(g, breaks, a, x)
    else:

        def g(y):
            return psi(y) * quad.cumulative(rho, breaks, a, y)

        s_x = quad.cumulative(psi, breaks, a, x)
        s_b = quad.integrate(psi, breaks, a, b)
        out = s_x / s_b * quad.integrate(g, breaks, a, b) - quad.cumulative(g, breaks, a, x)
    return float(out[0]) if scalar else out


# ------------------------------------------------------------------------------ Kramers
@dataclass(frozen=True)
class KramersRate:
    """Overdamped Kramers escape rate and the profile features it used."""

    rate_per_ns: float
    barrier_kT: float
    z_min: float
    z_max: float
    curvature_min: float  # W'' at the well [kT/nm^2]
    curvature_max: float  # W'' at the barrier top [kT/nm^2] (negative)
    D_barrier: float  # D at the barrier top [nm^2/ns]

    @property
    def time_ns(self) -> float:
        """Mean escape time ``1/k`` [ns]."""
        return 1.0 / self.rate_per_ns


def _refine_extremum(profile: Profile, guess: float, window: float, kind: str) -> float:
    lo = max(profile.z[0], guess - window)
    hi = min(profile.z[-1], guess + window)
    zz = np.linspace(lo, hi, 2001)
    ww = profile.W_at(zz)
    i = int(np.argmin(ww) if kind == "min" else np.argmax(ww))
    if i in (0, zz.size - 1):
        raise StochasticInputError(
            f"no interior {kind}imum of W within {window:g} nm of z = {guess:g} nm; "
            "give a better guess or a wider window"
        )
    dw = profile._w_interp.derivative(1)
    return float(brentq(dw, zz[i - 1], zz[i + 1], xtol=1e-13))


def kramers_rate(
    profile: Profile, well: float, barrier: float, window: float | None = None
) -> KramersRate:
    """Overdamped (Smoluchowski) Kramers rate [1/ns] for escape from ``well`` over ``barrier``.

    ``k = D(z_max) sqrt(W''(z_min) |W''(z_max)|) / (2 pi) exp(-(W(z_max) - W(z_min)))`` with W in
    kT; ``well`` and ``barrier`` are guesses [nm], refined to the extrema within ``window``
    (default: 40% of their distance). Valid for barriers of several kT.
    """
    win = 0.4 * abs(barrier - well) if window is None else float(window)
    zmin = _refine_extremum(profile, well, win, "min")
    zmax = _refine_extremum(profile, barrier, win, "max")
    c_min = float(profile.dW_at(zmin, 2))
    c_max = float(profile.dW_at(zmax, 2))
    dW = float(profile.W_at(zmax) - profile.W_at(zmin))
    if dW < 3.0:
        logger.warning("Kramers rate for a %.2f kT barrier: the formula needs dW >~ 5 kT", dW)
    d = float(profile.D_at(zmax))
    k = d * math.sqrt(c_min * abs(c_max)) / (2 * math.pi) * math.exp(-dW)
    return KramersRate(k, dW, zmin, zmax, c_min, c_max, d)


# ------------------------------------------------------------------------------ hopping time
def hopping_time_ns(profile: Profile, method: str = "mfpt") -> float:
    """Hopping time [ns] of one ion across a 1D PMF (e.g. for ``pnp.diagnostics``).

    Parameters
    ----------
    profile
        A :class:`~stochastic.profiles.Profile` (W [kT] and D [nm^2/ns] along z [nm]).
    method
        ``"mfpt"``: mean first-passage time from the left end (reflecting) to the right end
        (absorbing), :func:`mfpt` (Szabo, Schulten & Schulten, J. Chem. Phys. 72, 4350 (1980));
        a flat PMF over L gives ``L^2 / (2 D)``. ``"kramers"``: ``1/k`` of the overdamped Kramers
        rate (:func:`kramers_rate`) for escape from the lowest well over the highest barrier to
        its right (valid for barriers of several kT).

    Examples
    --------
    >>> z = np.linspace(0.0, 2.0, 201)
    >>> flat = Profile.from_arrays(z, D=1.5, temperature=298.15, W_kT=np.zeros_like(z))
    >>> round(hopping_time_ns(flat), 6)  # L^2 / (2 D)
    1.333333
    """
    if not isinstance(profile, Profile):
        raise StochasticInputError(
            "profile must be a stochastic.profiles.Profile, e.g. "
            f"Profile.from_arrays(z, D=D, temperature=T, W_kT=W); got {type(profile).__name__}"
        )
    if method == "mfpt":
        return float(mfpt(profile, float(profile.z[0])))
    if method == "kramers":
        w = np.asarray(profile.W)
        i_min = int(np.argmin(w))
        i_max = i_min + int(np.argmax(w[i_min:]))
        if not (0 < i_min < i_max < w.size - 1):
            raise StochasticInputError(
                "the Kramers rate needs an interior well followed by an interior barrier in the "
                "PMF; use method='mfpt' instead"
            )
        rate = kramers_rate(profile, float(profile.z[i_min]), float(profile.z[i_max]))
        return float(rate.time_ns)
    raise StochasticInputError(f"hopping-time method must be 'mfpt' or 'kramers', got {method!r}")
