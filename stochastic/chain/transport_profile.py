"""One species' transport input to the 1D level and its noise model (:mod:`stochastic.chain`)."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from stochastic.chain.noise import (
    broadcast,
    correlation_factor,
    freeze,
    lognormal_draw,
    sigma_array,
)
from stochastic.profiles import (
    Profile,
    StochasticInputError,
    _as_grid,
    _as_values,
    as_diffusivity,
)
from stochastic.smoluchowski import Permeant

logger = logging.getLogger(__name__)

__all__ = ["D_UNITS", "TransportProfile", "WindowDiffusion"]

#: Units of a :class:`stochastic.pmf.DiffusionProfile` accepted by :meth:`from_pmf` and the
#: factor to nm^2/ns.
D_UNITS: Mapping[str, float] = {"nm2/ps": 1e3, "nm2/ns": 1.0}


# ----------------------------------------------------------------------------- D per window
@dataclass(frozen=True, eq=False)
class WindowDiffusion:
    """D estimates at umbrella-window positions and how they map onto a grid.

    Parameters
    ----------
    position
        Window mean positions [nm], strictly increasing.
    D
        Diffusion coefficients [nm^2/ns], > 0.
    sigma
        Standard errors of ``D`` [nm^2/ns], >= 0.
    D_bath
        Value used outside ``[position[0], position[-1]]`` [nm^2/ns]; ``None`` = the nearest
        window's value (constant extrapolation).
    """

    position: np.ndarray
    D: np.ndarray
    sigma: np.ndarray
    D_bath: float | None = None

    def __post_init__(self) -> None:
        pos = np.array(self.position, dtype=float)
        if pos.ndim != 1 or pos.size < 1 or not np.all(np.isfinite(pos)):
            raise StochasticInputError("window positions must be a finite 1D array")
        if pos.size > 1 and np.any(np.diff(pos) <= 0):
            raise StochasticInputError(
                "window positions of D must be strictly increasing (sort the windows by their "
                "mean position; two windows at the same mean cannot both be used)"
            )
        d = np.array(self.D, dtype=float)
        s = np.array(self.sigma, dtype=float)
        if d.shape != pos.shape or s.shape != pos.shape:
            raise StochasticInputError(
                f"D per window has shape {d.shape} and sigma {s.shape}; the positions have "
                f"{pos.shape}"
            )
        bad = ~np.isfinite(d) | (d <= 0)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise StochasticInputError(
                f"window {k} (z = {pos[k]:g} nm) has D = {d[k]!r}: D must be finite and > 0. "
                "Rerun the window longer, or drop it from the DiffusionProfile"
            )
        bad = ~np.isfinite(s) | (s < 0)
        if bad.any():
            k = int(np.flatnonzero(bad)[0])
            raise StochasticInputError(
                f"window {k} (z = {pos[k]:g} nm) has sigma_D = {s[k]!r}: it must be finite and "
                ">= 0 (NaN means fewer than 2 usable blocks; rerun diffusion_profile with "
                "n_blocks >= 2 on a longer series)"
            )
        if self.D_bath is not None and not (math.isfinite(self.D_bath) and self.D_bath > 0):
            raise StochasticInputError(f"D_bath must be > 0 nm^2/ns, got {self.D_bath!r}")
        freeze(pos, d, s)
        object.__setattr__(self, "position", pos)
        object.__setattr__(self, "D", d)
        object.__setattr__(self, "sigma", s)

    def on_grid(self, z: np.ndarray, values: np.ndarray | None = None) -> np.ndarray:
        """Window values (default the central D) on the grid ``z``: linear inside the window
        range, ``D_bath`` (or the nearest window) outside."""
        v = self.D if values is None else values
        out = np.interp(z, self.position, v)
        if self.D_bath is not None:
            outside = (z < self.position[0]) | (z > self.position[-1])
            out = np.where(outside, self.D_bath, out)
        return out

    def sigma_on_grid(self, z: np.ndarray) -> np.ndarray:
        """Standard error on the grid (0 where ``D_bath`` applies)."""
        out = np.interp(z, self.position, self.sigma)
        if self.D_bath is not None:
            out = np.where((z < self.position[0]) | (z > self.position[-1]), 0.0, out)
        return out


# ----------------------------------------------------------------------------- one species
@dataclass(frozen=True, eq=False)
class TransportProfile:
    """One ion species' transport input to the 1D level, with its uncertainty.

    Parameters
    ----------
    name
        Species name (e.g. ``"K+"``; matches :mod:`poreflux.species` names for PNP comparisons).
    valence
        Charge number.
    z
        Strictly increasing grid along the pore axis [nm]. Its ends are where the bath
        concentrations apply.
    W
        Potential of mean force [kT] at ``z`` (any gauge: the flux is invariant under a shift).
    D
        Diffusion coefficient [nm^2/ns] at ``z``, > 0.
    temperature
        Temperature [K] of the PMF.
    sigma_W
        Standard error of W [kT] (array on ``z`` or one number), >= 0.
    sigma_D
        Standard error of D [nm^2/ns]; ignored for draws when ``D_windows`` is given (the
        per-window errors are used).
    correlation_length_nm
        Correlation length of the Gaussian noise model of W (and of D on the grid) [nm]; ``0`` =
        independent grid points, ``math.inf`` = one common factor. Required when a sigma is
        non-zero and no replicas/windows define the noise.
    D_windows
        The per-window D estimates D was interpolated from (see :class:`WindowDiffusion`).
    W_replicas
        ``(n, len(z))`` bootstrap replicas of W [kT] (e.g. :class:`stochastic.pmf.BootstrapPMF`);
        when given, W draws pick replicas instead of the Gaussian model. NaN entries take ``W``.
    kind
        Interpolation of the profile between grid points (``"cubic"`` or ``"linear"``, see
        :class:`stochastic.profiles.Profile`).
    pin_ends
        The grid ends lie in the baths, whose free-energy levels are not uncertain: every W draw
        keeps the central end values (its deviation minus the straight line through the
        deviations at both ends). Without it, noise at the ends makes ``W_L != W_R`` in a draw
        and identical baths exchange ions at 0 mV, a spurious current. Turn it off only when the
        free-energy difference between the two ends is itself an uncertain result.
    """

    name: str
    valence: int
    z: np.ndarray
    W: np.ndarray
    D: np.ndarray
    temperature: float
    sigma_W: np.ndarray | float = 0.0
    sigma_D: np.ndarray | float = 0.0
    correlation_length_nm: float | None = None
    D_windows: WindowDiffusion | None = None
    W_replicas: np.ndarray | None = None
    kind: str = "cubic"
    pin_ends: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not self.name:
            raise StochasticInputError(f"name must be a non-empty string, got {self.name!r}")
        if isinstance(self.valence, bool) or not isinstance(self.valence, int | np.integer):
            raise StochasticInputError(f"valence must be an integer, got {self.valence!r}")
        object.__setattr__(self, "valence", int(self.valence))
        z = _as_grid(self.z)
        w = _as_values("W", self.W, z, "kT")
        d = as_diffusivity(self.D, z)
        sw = sigma_array("sigma_W", self.sigma_W, z, "kT")
        sd = sigma_array("sigma_D", self.sigma_D, z, "nm^2/ns")
        t = float(self.temperature)
        if not (math.isfinite(t) and t > 0):
            raise StochasticInputError(f"temperature must be > 0 K, got {self.temperature!r}")
        if self.kind not in ("cubic", "linear"):
            raise StochasticInputError(f"kind must be 'cubic' or 'linear', got {self.kind!r}")
        if self.kind == "cubic" and z.size < 4:
            raise StochasticInputError("cubic interpolation needs >= 4 grid points; use 'linear'")
        if self.D_windows is not None:
            if not isinstance(self.D_windows, WindowDiffusion):
                raise StochasticInputError("D_windows must be a WindowDiffusion (or None)")
            if not np.allclose(d, self.D_windows.on_grid(z), rtol=1e-9, atol=0.0):
                raise StochasticInputError(
                    "D is not the interpolation of D_windows on the grid; build the profile with "
                    "TransportProfile.from_pmf or pass D=D_windows.on_grid(z)"
                )
        if not isinstance(self.pin_ends, bool | np.bool_):
            raise StochasticInputError(f"pin_ends must be True or False, got {self.pin_ends!r}")
        reps = None
        if self.W_replicas is not None:
            reps = np.array(self.W_replicas, dtype=float)
            if reps.ndim != 2 or reps.shape[1] != z.size or reps.shape[0] < 2:
                raise StochasticInputError(
                    f"W_replicas must have shape (n >= 2, {z.size}) (one replicate PMF per row "
                    f"on the grid z), got {reps.shape}"
                )
            reps = np.where(np.isnan(reps), w[None, :], reps)
            if not np.all(np.isfinite(reps)):
                raise StochasticInputError("W_replicas contain inf values; trim those bins")
            freeze(reps)
        ell = self.correlation_length_nm
        if ell is not None:
            ell = float(ell)
            if math.isnan(ell) or ell < 0:
                raise StochasticInputError(
                    "correlation_length_nm must be >= 0 (or math.inf), got "
                    f"{self.correlation_length_nm!r}"
                )
        needs_ell = (reps is None and np.any(sw > 0)) or (self.D_windows is None and np.any(sd > 0))
        if needs_ell and ell is None:
            raise StochasticInputError(
                f"{self.name}: give correlation_length_nm, the length over which the errors of "
                "W (and D) are correlated (e.g. the umbrella window spacing; 0 = independent "
                "grid points, math.inf = one common offset), or zero sigmas"
            )
        freeze(z, w, d, sw, sd)
        for key, val in (("z", z), ("W", w), ("D", d), ("sigma_W", sw), ("sigma_D", sd)):
            object.__setattr__(self, key, val)
        object.__setattr__(self, "temperature", t)
        object.__setattr__(self, "correlation_length_nm", ell)
        object.__setattr__(self, "W_replicas", reps)

    # ------------------------------------------------------------------------- constructors
    @classmethod
    def from_arrays(
        cls,
        name: str,
        valence: int,
        z: np.ndarray,
        W_kT: np.ndarray | float,
        D: np.ndarray | float,
        *,
        temperature: float,
        sigma_W: np.ndarray | float = 0.0,
        sigma_D: np.ndarray | float = 0.0,
        correlation_length_nm: float | None = None,
        kind: str = "cubic",
        pin_ends: bool = True,
    ) -> TransportProfile:
        """A profile from arrays (W in kT, D in nm^2/ns; scalars are broadcast on ``z``)."""
        z = _as_grid(z)
        return cls(
            name=name,
            valence=valence,
            z=z,
            W=broadcast(W_kT, z),
            D=broadcast(D, z),
            temperature=temperature,
            sigma_W=sigma_W,
            sigma_D=sigma_D,
            correlation_length_nm=correlation_length_nm,
            kind=kind,
            pin_ends=pin_ends,
        )

    @classmethod
    def from_pmf(
        cls,
        name: str,
        valence: int,
        pmf: Any,
        diffusion: Any,
        *,
        temperature: float,
        D_unit: str = "nm2/ps",
        D_bath: float | None = None,
        correlation_length_nm: float | None = None,
        inf_bins: str = "trim",
        z_offset: float = 0.0,
        kind: str = "linear",
        pin_ends: bool = True,
    ) -> TransportProfile:
        """A profile from umbrella-sampling results: W from WHAM/MBAR, D from Hummer's method.

        Parameters
        ----------
        name, valence
            The species.
        pmf
            A :class:`stochastic.pmf.PMFResult` (W [kT] on bin centres, ``sigma`` used with the
            correlated-Gaussian model) or a :class:`stochastic.pmf.BootstrapPMF` (its replicas
            become the W noise model: the honest one, see the module docstring).
        diffusion
            A :class:`stochastic.pmf.DiffusionProfile` (D per window at the window mean
            positions, in ``D_unit``). D is interpolated linearly onto the PMF grid inside the
            window range and set to ``D_bath`` outside it (the nearest window's value when
            ``D_bath`` is None); its draws are per window.
        temperature
            Temperature [K] of the simulation (the PMF is in kT at this temperature).
        D_unit
            ``"nm2/ps"`` (particle units, the default of the MD core) or ``"nm2/ns"``.
        D_bath
            Bulk D [nm^2/ns] outside the sampled window range (None: constant extrapolation).
        correlation_length_nm
            Of the Gaussian W model; default: the median spacing of the D windows (one window
            spacing). Not used with bootstrap replicas.
        inf_bins
            Bins with W = inf (no samples): ``"trim"`` removes runs of them at either end of the
            grid (interior ones raise: a gap between windows), ``"error"`` raises for any.
        z_offset
            Added to the PMF grid and the window positions [nm] (e.g. to put the pore centre of
            the MD model at the mesh's ``z = 0``).
        kind
            Interpolation of the 1D profile (``"linear"`` by default for binned PMFs).
        pin_ends
            Keep the end values of W fixed in the draws (see :class:`TransportProfile`).

        The whole pipeline from raw windows is
        ``from_pmf("K+", 1, bootstrap_pmf(data, "mbar"), diffusion_profile(raw), temperature=T)``.
        """
        pmf, replicas = _check_pmf_inputs(pmf, diffusion, D_unit, inf_bins)
        grid = np.asarray(pmf.grid, dtype=float) + float(z_offset)
        w = np.asarray(pmf.pmf, dtype=float)
        keep = _finite_span(name, grid, w, inf_bins)
        grid, w = grid[keep], w[keep]
        if replicas is not None:
            replicas = replicas[:, keep]
        sigma_w = _sigma_w(name, pmf, replicas, keep, w)
        windows = _window_diffusion(diffusion, D_UNITS[D_unit], z_offset, D_bath)
        if correlation_length_nm is None and replicas is None:
            spacing = np.diff(windows.position)
            correlation_length_nm = float(np.median(spacing)) if spacing.size else math.inf
        return cls(
            name=name,
            valence=valence,
            z=grid,
            W=w,
            D=windows.on_grid(grid),
            temperature=temperature,
            sigma_W=sigma_w,
            sigma_D=windows.sigma_on_grid(grid),
            correlation_length_nm=correlation_length_nm,
            D_windows=windows,
            W_replicas=replicas,
            kind=kind,
            pin_ends=pin_ends,
        )

    # ------------------------------------------------------------------------- derived
    @property
    def has_noise(self) -> bool:
        """True when draws differ from the central profile."""
        w_noise = self.W_replicas is not None or bool(np.any(self.sigma_W > 0))
        if self.D_windows is not None:
            return w_noise or bool(np.any(self.D_windows.sigma > 0))
        return w_noise or bool(np.any(self.sigma_D > 0))

    @cached_property
    def _factor(self) -> np.ndarray | None:
        return correlation_factor(self.z, self.correlation_length_nm or 0.0)

    def _correlated_normal(self, rng: np.random.Generator) -> np.ndarray:
        a = self._factor
        if a is None:
            return rng.standard_normal(self.z.size)
        return a @ rng.standard_normal(a.shape[1])

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """One random ``(W [kT], D [nm^2/ns])`` on the grid from the noise model."""
        if self.W_replicas is not None:
            w = self.W_replicas[int(rng.integers(self.W_replicas.shape[0]))]
        elif np.any(self.sigma_W > 0):
            w = self.W + self.sigma_W * self._correlated_normal(rng)
        else:
            w = self.W
        if self.pin_ends and w is not self.W:
            dev = w - self.W
            s = (self.z - self.z[0]) / (self.z[-1] - self.z[0])
            w = self.W + dev - (dev[0] + (dev[-1] - dev[0]) * s)
        if self.D_windows is not None:
            win = self.D_windows
            if np.any(win.sigma > 0):
                dk = lognormal_draw(win.D, win.sigma, rng.standard_normal(win.D.size))
                d = win.on_grid(self.z, dk)
            else:
                d = self.D
        elif np.any(self.sigma_D > 0):
            d = lognormal_draw(self.D, self.sigma_D, self._correlated_normal(rng))
        else:
            d = self.D
        return w, d

    def profile(self, W: np.ndarray | None = None, D: np.ndarray | None = None) -> Profile:
        """The :class:`stochastic.profiles.Profile` (central, or with the given W and D)."""
        return Profile(
            z=self.z,
            W=self.W if W is None else W,
            D=self.D if D is None else D,
            temperature=self.temperature,
            kind=self.kind,
        )

    def permeant(self, W: np.ndarray | None = None, D: np.ndarray | None = None) -> Permeant:
        """The :class:`stochastic.smoluchowski.Permeant` of this species."""
        return Permeant(self.name, self.valence, self.profile(W, D))


# ----------------------------------------------------------------------------- from_pmf steps
def _check_pmf_inputs(
    pmf: Any, diffusion: Any, D_unit: str, inf_bins: str
) -> tuple[Any, np.ndarray | None]:
    """Type and option checks of :meth:`TransportProfile.from_pmf`.

    Returns the :class:`~stochastic.pmf.PMFResult` (the estimate of a bootstrap) and the
    bootstrap replicas (None for a plain result).
    """
    from stochastic.pmf.bootstrap import BootstrapPMF
    from stochastic.pmf.diffusion import DiffusionProfile
    from stochastic.pmf.result import PMFResult

    replicas = None
    if isinstance(pmf, BootstrapPMF):
        replicas = np.asarray(pmf.replicas, dtype=float)
        pmf = pmf.estimate
    if not isinstance(pmf, PMFResult):
        raise StochasticInputError(
            f"pmf must be a stochastic.pmf.PMFResult or BootstrapPMF, got {type(pmf).__name__}"
        )
    if not isinstance(diffusion, DiffusionProfile):
        raise StochasticInputError(
            "diffusion must be a stochastic.pmf.DiffusionProfile (e.g. from "
            f"stochastic.pmf.diffusion_profile), got {type(diffusion).__name__}"
        )
    if pmf.period is not None:
        raise StochasticInputError(
            "the PMF is on a periodic coordinate; the transport chain needs a coordinate "
            "along the pore axis between two baths"
        )
    if D_unit not in D_UNITS:
        raise StochasticInputError(f"D_unit must be one of {list(D_UNITS)}, got {D_unit!r}")
    if inf_bins not in ("trim", "error"):
        raise StochasticInputError(f"inf_bins must be 'trim' or 'error', got {inf_bins!r}")
    return pmf, replicas


def _finite_span(name: str, grid: np.ndarray, w: np.ndarray, inf_bins: str) -> slice:
    """The bins to keep: all, or (``inf_bins="trim"``) the span between the end runs of W = inf.

    NaN anywhere, no finite bin, an interior infinite bin, or any infinite bin with
    ``inf_bins="error"`` raise :class:`StochasticInputError` naming the positions.
    """
    if np.any(np.isnan(w)):
        raise StochasticInputError("the PMF contains NaN values; re-run the estimator")
    finite = np.isfinite(w)
    if not finite.any():
        raise StochasticInputError("the PMF has no finite bin")
    if finite.all():
        return slice(None)
    idx = np.flatnonzero(finite)
    lo, hi = int(idx[0]), int(idx[-1]) + 1
    interior = ~finite[lo:hi]
    if inf_bins == "error" or interior.any():
        where = grid[lo:hi][interior] if interior.any() else grid[~finite]
        raise StochasticInputError(
            f"the PMF is infinite (no samples) at z = {np.round(where, 4).tolist()} nm"
            + (
                ": a gap between umbrella windows inside the profile; add windows there"
                if interior.any()
                else "; use inf_bins='trim' or a bin range covered by the samples"
            )
        )
    logger.info("%s: trimmed %d empty PMF bins at the ends", name, int((~finite).sum()))
    return slice(lo, hi)


def _sigma_w(
    name: str, pmf: Any, replicas: np.ndarray | None, keep: slice, w: np.ndarray
) -> np.ndarray:
    """sigma of W on the kept bins: bootstrap spread, the estimator's sigma, or 0 (warned)."""
    if replicas is not None:
        return np.nanstd(replicas, axis=0, ddof=1)
    if pmf.sigma is not None:
        sigma_w = np.asarray(pmf.sigma, dtype=float)[keep]
        if not np.all(np.isfinite(sigma_w)):
            raise StochasticInputError(
                "the PMF's sigma is not finite in some bins; recompute it (bootstrap) or trim "
                "those bins"
            )
        return sigma_w
    logger.warning("%s: the PMF has no sigma; W is taken as exact", name)
    return np.zeros_like(w)


def _window_diffusion(
    diffusion: Any, factor: float, z_offset: float, D_bath: float | None
) -> WindowDiffusion:
    """Hummer D per window, sorted by position, shifted by ``z_offset``, in nm^2/ns."""
    pos = np.asarray(diffusion.position, dtype=float) + float(z_offset)
    order = np.argsort(pos, kind="stable")
    return WindowDiffusion(
        pos[order],
        np.asarray(diffusion.D, dtype=float)[order] * factor,
        np.asarray(diffusion.sigma, dtype=float)[order] * factor,
        D_bath=D_bath,
    )
