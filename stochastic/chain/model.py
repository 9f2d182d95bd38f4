"""The chain itself: several species' profiles -> 1D Smoluchowski observables +- sigma."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from poreflux import units
from stochastic.chain.results import ChainIV, Uncertain, _scalar
from stochastic.chain.transport_profile import TransportProfile
from stochastic.profiles import (
    StochasticInputError,
)
from stochastic.smoluchowski import Channel1D, mfpt

logger = logging.getLogger(__name__)

__all__ = ["HierarchyChain"]


# ----------------------------------------------------------------------------- the chain
@dataclass(frozen=True)
class HierarchyChain:
    """Several species' transport profiles -> 1D Smoluchowski observables with uncertainties.

    Parameters
    ----------
    profiles
        One :class:`TransportProfile` per permeant species (unique names, one temperature).
    area_nm2
        Effective cross-section A [nm^2]: ``I = z e N_A A J``. It must be the area W's gauge
        refers to: the pore cross-section when W is an excess free energy in the pore (W = 0 for
        a bulk-like pore), the simulation box cross-section when W also contains the confinement
        entropy ``-ln(A(z)/A_box)`` (Roux et al., Q. Rev. Biophys. 37, 15 (2004)).
    drop
        ``(z_a, z_b)`` [nm] of the linear voltage drop (default: each profile's extent).

    Examples
    --------
    >>> import numpy as np
    >>> z = np.linspace(-2.5, 2.5, 101)
    >>> k = TransportProfile.from_arrays("K+", 1, z, 0.0, 1.96, temperature=298.15)
    >>> chain = HierarchyChain((k,), area_nm2=np.pi)
    >>> round(chain.conductance_pS({"K+": 150}, {"K+": 150}).value, 1)
    693.7
    """

    profiles: tuple[TransportProfile, ...]
    area_nm2: float
    drop: tuple[float, float] | None = None

    def __post_init__(self) -> None:
        profs = tuple(self.profiles)
        if not profs:
            raise StochasticInputError("a chain needs at least one TransportProfile")
        for p in profs:
            if not isinstance(p, TransportProfile):
                raise StochasticInputError(
                    f"profiles must be TransportProfile objects, got {type(p).__name__}"
                )
        names = [p.name for p in profs]
        if len(set(names)) != len(names):
            raise StochasticInputError(f"species names must be unique, got {names}")
        temps = {p.name: p.temperature for p in profs}
        if len(set(temps.values())) != 1:
            raise StochasticInputError(
                f"temperature mismatch between the profiles {temps} K: PMFs in kT must share one "
                "temperature; recompute or convert them"
            )
        try:
            a = float(self.area_nm2)
        except (TypeError, ValueError):
            a = math.nan
        if not (math.isfinite(a) and a > 0):
            raise StochasticInputError(
                f"area_nm2 must be a finite number > 0, got {self.area_nm2!r}"
            )
        if self.drop is not None:
            za, zb = map(float, self.drop)
            if not (math.isfinite(za) and math.isfinite(zb) and zb > za):
                raise StochasticInputError(
                    f"drop must be (z_a, z_b) with z_b > z_a [nm], got {self.drop}"
                )
            object.__setattr__(self, "drop", (za, zb))
        object.__setattr__(self, "profiles", profs)
        object.__setattr__(self, "area_nm2", float(a))

    # ------------------------------------------------------------------------- basics
    @property
    def temperature(self) -> float:
        """Temperature [K] shared by the profiles."""
        return self.profiles[0].temperature

    @property
    def names(self) -> tuple[str, ...]:
        """Species names."""
        return tuple(p.name for p in self.profiles)

    def get(self, name: str) -> TransportProfile:
        """The profile of one species."""
        for p in self.profiles:
            if p.name == name:
                return p
        raise StochasticInputError(f"no species {name!r} in the chain; have {list(self.names)}")

    def channel(self) -> Channel1D:
        """The central :class:`stochastic.smoluchowski.Channel1D`."""
        return Channel1D(tuple(p.permeant() for p in self.profiles), self.area_nm2, self.drop)

    def draw_channels(self, n_boot: int, seed: int | None = 0) -> list[Channel1D]:
        """``n_boot`` channels with every profile drawn from its noise model (reproducible)."""
        n = _check_n_boot(n_boot)
        rng = np.random.default_rng(seed)
        out = []
        for _ in range(n):
            perms = tuple(p.permeant(*p.draw(rng)) for p in self.profiles)
            out.append(Channel1D(perms, self.area_nm2, self.drop))
        return out

    def propagate(
        self,
        observable: Callable[[Channel1D], Any],
        *,
        n_boot: int = 200,
        seed: int | None = 0,
        level: float = 0.95,
    ) -> Uncertain:
        """Any observable of a :class:`Channel1D` (scalar or array) with bootstrap statistics.

        The central value uses the central profiles; the samples use :meth:`draw_channels`
        with the same ``seed`` (so observables of one seed come from the same draws). A draw
        whose observable cannot be computed (e.g. no reversal potential in the bracket) gives a
        NaN sample, left out of the statistics with a warning; more than 10 % of failed draws
        raise.
        """
        if not 0 < level < 1:
            raise StochasticInputError(f"level must be in (0, 1), got {level!r}")
        value = np.asarray(observable(self.channel()), dtype=float)
        samples, failed = [], []
        for ch in self.draw_channels(n_boot, seed):
            try:
                samples.append(np.asarray(observable(ch), dtype=float))
            except (StochasticInputError, FloatingPointError, ValueError) as exc:
                failed.append(str(exc))
                samples.append(np.full(value.shape, np.nan))
        if failed:
            if len(failed) > 0.1 * len(samples):
                raise StochasticInputError(
                    f"the observable failed on {len(failed)} of {len(samples)} bootstrap draws "
                    f"(first: {failed[0]}); the uncertainties are too large for it"
                )
            logger.warning(
                "%d of %d bootstrap draws failed (first: %s)", len(failed), len(samples), failed[0]
            )
        arr = np.array(samples) if samples else np.empty((0, *value.shape))
        return Uncertain.from_samples(value, arr, level)

    def _baths(self, c: Mapping[str, float], label: str) -> dict[str, float]:
        if not isinstance(c, Mapping):
            raise StochasticInputError(f"{label} must be a map species -> concentration [mM]")
        unknown = set(c) - set(self.names)
        if unknown:
            raise StochasticInputError(
                f"{label} names species {sorted(unknown)} that have no profile in the chain "
                f"(species: {list(self.names)})"
            )
        out = {}
        for k, v in c.items():
            v = float(v)
            if not (math.isfinite(v) and v >= 0):
                raise StochasticInputError(f"{label}[{k!r}] must be a concentration >= 0 mM")
            out[k] = v
        return out

    # ------------------------------------------------------------------------- observables
    def species_currents(
        self,
        c_left_mM: Mapping[str, float],
        c_right_mM: Mapping[str, float],
        voltage_mV: float = 0.0,
        *,
        n_boot: int = 200,
        seed: int | None = 0,
    ) -> dict[str, Uncertain]:
        """Current [pA] of every species and their sum (key ``"total"``)."""
        cl, cr = self._baths(c_left_mM, "c_left_mM"), self._baths(c_right_mM, "c_right_mM")
        names = self.names

        def obs(ch: Channel1D) -> np.ndarray:
            cur = ch.species_currents_pA(cl, cr, voltage_mV)
            vals = [cur[n] for n in names]
            return np.array([*vals, sum(vals)])

        u = self.propagate(obs, n_boot=n_boot, seed=seed)
        return _split(u, [*names, "total"])

    def iv_curve(
        self,
        voltages_mV: Sequence[float],
        c_left_mM: Mapping[str, float],
        c_right_mM: Mapping[str, float],
        *,
        n_boot: int = 200,
        seed: int | None = 0,
    ) -> ChainIV:
        """Species and total currents [pA] at each voltage [mV]."""
        v = np.asarray(voltages_mV, dtype=float).ravel()
        if v.size == 0 or not np.all(np.isfinite(v)):
            raise StochasticInputError("voltages_mV must be a non-empty list of finite mV values")
        cl, cr = self._baths(c_left_mM, "c_left_mM"), self._baths(c_right_mM, "c_right_mM")
        names = self.names

        def obs(ch: Channel1D) -> np.ndarray:
            rows = []
            for x in v:
                cur = ch.species_currents_pA(cl, cr, float(x))
                vals = [cur[n] for n in names]
                rows.append([*vals, sum(vals)])
            return np.array(rows).T  # (species + 1, nV)

        u = self.propagate(obs, n_boot=n_boot, seed=seed)
        parts = _split(u, [*names, "total"])
        total = parts.pop("total")
        return ChainIV(v, parts, total)

    def conductance_pS(
        self,
        c_left_mM: Mapping[str, float],
        c_right_mM: Mapping[str, float],
        voltage_mV: float = 0.0,
        *,
        kind: str = "slope",
        n_boot: int = 200,
        seed: int | None = 0,
    ) -> Uncertain:
        """Slope ``dI/dV`` (default, at ``voltage_mV``) or chord conductance [pS]."""
        cl, cr = self._baths(c_left_mM, "c_left_mM"), self._baths(c_right_mM, "c_right_mM")
        if kind not in ("slope", "chord"):
            raise StochasticInputError(f"kind must be 'slope' or 'chord', got {kind!r}")
        return self.propagate(
            lambda ch: ch.conductance_pS(cl, cr, voltage_mV, kind=kind), n_boot=n_boot, seed=seed
        )

    def reversal_potential_mV(
        self,
        c_left_mM: Mapping[str, float],
        c_right_mM: Mapping[str, float],
        *,
        n_boot: int = 200,
        seed: int | None = 0,
    ) -> Uncertain:
        """Voltage [mV] of zero total current (left relative to right)."""
        cl, cr = self._baths(c_left_mM, "c_left_mM"), self._baths(c_right_mM, "c_right_mM")
        return self.propagate(lambda ch: ch.reversal_potential_mV(cl, cr), n_boot=n_boot, seed=seed)

    def mfpt_ns(
        self,
        name: str,
        *,
        x0: float | None = None,
        left: str = "reflecting",
        right: str = "absorbing",
        voltage_mV: float = 0.0,
        n_boot: int = 200,
        seed: int | None = 0,
    ) -> Uncertain:
        """Mean first-passage time [ns] of one ion across the profile.

        Default: start at the left end ``z[0]`` with a reflecting left and an absorbing right
        end (the time to cross the pore from the left bath, without returns to the bath). With
        ``voltage_mV`` the ion also feels the linear drop (:meth:`Profile.with_linear_potential`).
        """
        prof = self.get(name)
        start = float(prof.z[0]) if x0 is None else float(x0)

        def obs(ch: Channel1D) -> float:
            p = ch._get(name).profile
            if voltage_mV:
                p = p.with_linear_potential(voltage_mV, prof.valence, self.drop)
            return float(mfpt(p, start, left=left, right=right))

        return self.propagate(obs, n_boot=n_boot, seed=seed)

    def selectivity(
        self,
        a: str,
        b: str,
        concentration_mM: float,
        voltage_mV: float,
        *,
        n_boot: int = 200,
        seed: int | None = 0,
    ) -> Uncertain:
        """Current ratio ``I_a / I_b``, each species alone in identical baths at ``voltage_mV``."""
        self.get(a), self.get(b)
        c = float(concentration_mM)
        if not (math.isfinite(c) and c > 0):
            raise StochasticInputError(f"concentration_mM must be > 0, got {concentration_mM!r}")
        if voltage_mV == 0:
            raise StochasticInputError(
                "with identical baths there is no current at 0 mV: give a non-zero voltage"
            )
        return self.propagate(
            lambda ch: ch.current_ratio(a, b, c, c, voltage_mV), n_boot=n_boot, seed=seed
        )

    def permeability_ratio(
        self,
        a: str,
        b: str,
        concentration_mM: float,
        *,
        n_boot: int = 200,
        seed: int | None = 0,
    ) -> tuple[Uncertain, Uncertain]:
        """Bi-ionic permeability ratio ``P_a/P_b`` and reversal potential [mV].

        Species ``a`` only in the left bath, ``b`` only in the right, both at
        ``concentration_mM``; the reversal potential ``E`` (left relative to right) gives by the
        GHK voltage equation ``P_a/P_b = exp(-z e E / kT)`` (equal valences ``z`` only; exact for
        flat, equally shaped profiles, the usual experimental definition otherwise).
        """
        pa, pb = self.get(a), self.get(b)
        if pa.valence != pb.valence or pa.valence == 0:
            raise StochasticInputError(
                f"the bi-ionic permeability ratio needs two ions of the same non-zero valence; "
                f"{a} has {pa.valence}, {b} has {pb.valence}"
            )
        c = float(concentration_mM)
        if not (math.isfinite(c) and c > 0):
            raise StochasticInputError(f"concentration_mM must be > 0, got {concentration_mM!r}")
        vt = units.thermal_voltage_mV(self.temperature)
        z = pa.valence

        def obs(ch: Channel1D) -> np.ndarray:
            sub = Channel1D((ch._get(a), ch._get(b)), ch.area_nm2, ch.drop)
            e = sub.reversal_potential_mV({a: c}, {b: c})
            return np.array([math.exp(-z * e / vt), e])

        u = self.propagate(obs, n_boot=n_boot, seed=seed)
        parts = _split(u, ["ratio", "erev"])
        return parts["ratio"], parts["erev"]


def _check_n_boot(n_boot: int) -> int:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 0:
        raise StochasticInputError(f"n_boot must be an integer >= 0, got {n_boot!r}")
    if n_boot == 1:
        raise StochasticInputError("n_boot = 1 gives no spread; use 0 (no bootstrap) or >= 2")
    return int(n_boot)


def _split(u: Uncertain, labels: Sequence[str]) -> dict[str, Uncertain]:
    """Split an Uncertain whose first value axis runs over ``labels``."""
    out = {}
    for i, lab in enumerate(labels):

        def pick(x: Any, i: int = i) -> Any:
            return _scalar(np.asarray(x)[i]) if np.ndim(x) else x

        value = pick(u.value)
        if u.samples.shape[0]:
            samples = u.samples[:, i]
        else:
            samples = np.empty((0, *np.shape(value)))
        out[lab] = Uncertain(
            value, pick(u.mean), pick(u.std), pick(u.low), pick(u.high), samples, u.level
        )
    return out
