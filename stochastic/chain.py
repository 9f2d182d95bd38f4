"""The hierarchy chain: W(z) +- sigma and D(z) +- sigma -> 1D Smoluchowski observables +- sigma.

A particle simulation (umbrella sampling + WHAM/MBAR, Hummer's D) gives, per ion species, a
potential of mean force W(z) [kT] and a diffusivity D(z) [nm^2/ns] along the pore axis, each with
an uncertainty. :class:`TransportProfile` holds one species' transport input with its noise model;
:class:`HierarchyChain` turns several of them plus an effective area and a voltage-drop region into
the observables of the 1D Smoluchowski level (currents per species and total, I-V, conductance,
mean first-passage time, selectivity, permeability ratio), computed by
:class:`stochastic.smoluchowski.Channel1D` / :func:`~stochastic.smoluchowski.steady_flux` /
:func:`~stochastic.smoluchowski.mfpt` -- the chain does not re-derive the Smoluchowski integrals.

Uncertainty: parametric bootstrap through the chain
---------------------------------------------------
Every observable is recomputed on ``n_boot`` random draws of all profiles (one draw of every
species per replicate, the same draws for every observable at a given ``seed``) and reported as an
:class:`Uncertain`: point value (from the central profiles), bootstrap mean, standard deviation and
a percentile interval (95 % by default). The noise model of a profile is, in order of preference:

W(z)
    1. **Umbrella bootstrap replicas** (:meth:`TransportProfile.from_pmf` given a
       :class:`stochastic.pmf.BootstrapPMF`): each draw is one replicate PMF of the block bootstrap
       over umbrella windows (:func:`stochastic.pmf.bootstrap_pmf`), picked with replacement. This
       carries the true correlation of the PMF errors along z (errors of the window free energies
       accumulate along the coordinate). NaN bins of a replicate (no sample there) take the point
       estimate.
    2. **Correlated Gaussian**: ``W + delta`` with ``delta`` Gaussian, marginal standard deviation
       ``sigma_W(z)`` and correlation ``exp(-(z - z')^2 / (2 l^2))``, ``l`` =
       ``correlation_length_nm`` (``0``: independent grid points -- the result then depends on
       the grid spacing; ``inf``: one common factor, ``delta(z) = sigma_W(z) xi``). For a PMF from
       umbrella windows a sensible ``l`` is the window spacing (the default of
       :meth:`TransportProfile.from_pmf`). A constant offset of W does not change any observable
       (the 1D flux is invariant under ``W -> W + const``), so only the z-dependent part of the
       error matters; PMF sigmas are relative to the PMF's reference bin, where they vanish.

D(z)
    1. **Per window** (from a :class:`stochastic.pmf.DiffusionProfile`): every window's D is drawn
       independently (the windows are independent simulations) and interpolated onto the grid
       exactly as the central value is.
    2. Otherwise **correlated** on the grid with the same correlation model as W.

    D draws are log-normal with the given mean and standard deviation
    (``ln D' = ln D + s g - s^2/2``, ``s^2 = ln(1 + (sigma_D/D)^2)``), so D stays positive.

Bath ends. W draws keep the central values at both grid ends (``pin_ends``, default): the ends
lie in the baths, and a draw with ``W_L != W_R`` would make identical baths exchange ions at
0 mV. The deviation of a draw minus the straight line through its end deviations is used.

The correlated Gaussian model factorises the ``B x B`` correlation matrix of the grid once per
profile (Cholesky with a 1e-10 jitter), so keep PMF grids to a few thousand points.

A linear error propagation through the flux integral,
``d ln J = -int delta(z) e^W/D dz / int e^W/D dz``, is the small-sigma limit of this bootstrap
(``tests/test_chain.py`` checks both against each other).

Units: z [nm], W [kT], D [nm^2/ns], concentrations [mM], voltages [mV], currents [pA],
conductances [pS], times [ns], temperature [K]. Sign conventions are those of
:mod:`stochastic.smoluchowski`: the voltage is the potential of the left (low-z) bath relative to
the right one, a positive current is positive charge moving left to right (towards +z).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from pnp import units
from stochastic.profiles import (
    Profile,
    StochasticInputError,
    _as_grid,
    _as_values,
    as_diffusivity,
)
from stochastic.smoluchowski import Channel1D, Permeant, mfpt

logger = logging.getLogger(__name__)

__all__ = [
    "ChainIV",
    "HierarchyChain",
    "TransportProfile",
    "Uncertain",
    "WindowDiffusion",
]

#: Units of a :class:`stochastic.pmf.DiffusionProfile` accepted by :meth:`from_pmf` and the
#: factor to nm^2/ns.
D_UNITS: Mapping[str, float] = {"nm2/ps": 1e3, "nm2/ns": 1.0}


# ----------------------------------------------------------------------------- helpers
def _sigma(name: str, value: np.ndarray | float, z: np.ndarray, unit: str) -> np.ndarray:
    s = np.array(value, dtype=float)
    if s.ndim == 0:
        s = np.full_like(z, float(s))
    if s.shape != z.shape:
        raise StochasticInputError(
            f"{name} has shape {s.shape}, the grid z has shape {z.shape}; give one standard "
            f"error [{unit}] per grid point (or a single number)"
        )
    if not np.all(np.isfinite(s)) or np.any(s < 0):
        i = int(np.argmax(~np.isfinite(s) | (s < 0)))
        raise StochasticInputError(
            f"{name} must be finite and >= 0 [{unit}]; got {s[i]!r} at z = {z[i]:g} nm"
        )
    return s


def _broadcast_scalar(value: np.ndarray | float, z: np.ndarray) -> np.ndarray:
    a = np.asarray(value, dtype=float)
    return np.full_like(z, float(a)) if a.ndim == 0 else a


def _freeze(*arrays: np.ndarray) -> None:
    for a in arrays:
        a.setflags(write=False)


def _correlation_factor(z: np.ndarray, length: float) -> np.ndarray | None:
    """``A`` with ``A A^T`` = the Gaussian correlation matrix on ``z`` (None = identity)."""
    if length == 0.0:
        return None
    if math.isinf(length):
        return np.ones((z.size, 1))
    d = (z[:, None] - z[None, :]) / length
    corr = np.exp(-0.5 * d * d)
    # Cholesky with a small jitter (the Gaussian kernel is numerically singular on fine grids;
    # the jitter adds an independent variance of that fraction), eigen-decomposition otherwise
    for jitter in (1e-10, 1e-8, 1e-6):
        try:
            return np.linalg.cholesky(corr + jitter * np.eye(z.size))
        except np.linalg.LinAlgError:
            continue
    lam, vec = np.linalg.eigh(corr)
    keep = lam > 1e-12 * lam[-1]
    return vec[:, keep] * np.sqrt(lam[keep])


def _lognormal(mean: np.ndarray, sigma: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Log-normal values with the given mean and standard deviation from standard normals g."""
    s2 = np.log1p((sigma / mean) ** 2)
    return mean * np.exp(np.sqrt(s2) * g - 0.5 * s2)


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
        _freeze(pos, d, s)
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
        Species name (e.g. ``"K+"``; matches :mod:`pnp.species` names for PNP comparisons).
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
        sw = _sigma("sigma_W", self.sigma_W, z, "kT")
        sd = _sigma("sigma_D", self.sigma_D, z, "nm^2/ns")
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
            _freeze(reps)
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
        _freeze(z, w, d, sw, sd)
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
            W=_broadcast_scalar(W_kT, z),
            D=_broadcast_scalar(D, z),
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
        grid = np.asarray(pmf.grid, dtype=float) + float(z_offset)
        w = np.asarray(pmf.pmf, dtype=float)
        if np.any(np.isnan(w)):
            raise StochasticInputError("the PMF contains NaN values; re-run the estimator")
        finite = np.isfinite(w)
        if not finite.any():
            raise StochasticInputError("the PMF has no finite bin")
        keep = slice(None)
        if not finite.all():
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
            keep = slice(lo, hi)
        grid, w = grid[keep], w[keep]
        if replicas is not None:
            replicas = replicas[:, keep]
            sigma_w = np.nanstd(replicas, axis=0, ddof=1)
        elif pmf.sigma is not None:
            sigma_w = np.asarray(pmf.sigma, dtype=float)[keep]
            if not np.all(np.isfinite(sigma_w)):
                raise StochasticInputError(
                    "the PMF's sigma is not finite in some bins; recompute it (bootstrap) or trim "
                    "those bins"
                )
        else:
            logger.warning("%s: the PMF has no sigma; W is taken as exact", name)
            sigma_w = np.zeros_like(w)
        factor = D_UNITS[D_unit]
        pos = np.asarray(diffusion.position, dtype=float) + float(z_offset)
        order = np.argsort(pos, kind="stable")
        windows = WindowDiffusion(
            pos[order],
            np.asarray(diffusion.D, dtype=float)[order] * factor,
            np.asarray(diffusion.sigma, dtype=float)[order] * factor,
            D_bath=D_bath,
        )
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
        return _correlation_factor(self.z, self.correlation_length_nm or 0.0)

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
                dk = _lognormal(win.D, win.sigma, rng.standard_normal(win.D.size))
                d = win.on_grid(self.z, dk)
            else:
                d = self.D
        elif np.any(self.sigma_D > 0):
            d = _lognormal(self.D, self.sigma_D, self._correlated_normal(rng))
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


# ----------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class Uncertain:
    """A bootstrapped observable (scalar or array; the bootstrap axis of ``samples`` is 0).

    Attributes
    ----------
    value
        From the central profiles.
    mean, std
        Mean and standard deviation (ddof = 1) over the finite bootstrap samples.
    low, high
        Percentile interval at ``level`` (e.g. 2.5 % and 97.5 %).
    samples
        ``(n_boot, ...)`` bootstrap values (empty without bootstrap: then std, low and high are
        NaN).
    level
        Coverage of ``[low, high]``.
    """

    value: Any
    mean: Any
    std: Any
    low: Any
    high: Any
    samples: np.ndarray = field(repr=False)
    level: float = 0.95

    @classmethod
    def from_samples(cls, value: Any, samples: np.ndarray, level: float = 0.95) -> Uncertain:
        """Statistics of ``samples`` (NaN/inf samples are ignored, and counted in the log)."""
        value = np.asarray(value, dtype=float)
        s = np.asarray(samples, dtype=float)
        if s.shape[0] < 2:
            nan = np.full_like(value, np.nan)
            return cls(
                _scalar(value), _scalar(value), _scalar(nan), _scalar(nan), _scalar(nan), s, level
            )
        bad = ~np.isfinite(s)
        if bad.any():
            logger.warning("%d non-finite bootstrap values left out", int(bad.sum()))
            s_use = np.where(bad, np.nan, s)
        else:
            s_use = s
        q = 50.0 * (1.0 - level)
        return cls(
            value=_scalar(value),
            mean=_scalar(np.nanmean(s_use, axis=0)),
            std=_scalar(np.nanstd(s_use, axis=0, ddof=1)),
            low=_scalar(np.nanpercentile(s_use, q, axis=0)),
            high=_scalar(np.nanpercentile(s_use, 100.0 - q, axis=0)),
            samples=s,
            level=level,
        )

    @property
    def n_boot(self) -> int:
        """Number of bootstrap samples."""
        return int(self.samples.shape[0])

    def __str__(self) -> str:
        if np.ndim(self.value) == 0:
            return (
                f"{self.value:.6g} +- {self.std:.2g} "
                f"[{self.low:.6g}, {self.high:.6g}] ({100 * self.level:.0f}%, n={self.n_boot})"
            )
        return f"Uncertain(shape={np.shape(self.value)}, n={self.n_boot})"


def _scalar(a: np.ndarray) -> Any:
    return float(a) if np.ndim(a) == 0 else a


@dataclass(frozen=True, eq=False)
class ChainIV:
    """I-V curve of the chain: voltages [mV] and currents [pA] with uncertainties."""

    voltages: np.ndarray
    species: dict[str, Uncertain]
    total: Uncertain

    def table(self) -> str:
        """Printable table: V, total current +- std and 95% interval, species currents."""
        names = list(self.species)
        head = f"{'V [mV]':>8} {'I [pA]':>11} {'+-':>9} {'low':>11} {'high':>11} " + " ".join(
            f"{'I_' + n:>11}" for n in names
        )
        rows = [head]
        t = self.total
        for i, v in enumerate(self.voltages):
            std = np.atleast_1d(t.std)[i] if t.n_boot else float("nan")
            lo = np.atleast_1d(t.low)[i] if t.n_boot else float("nan")
            hi = np.atleast_1d(t.high)[i] if t.n_boot else float("nan")
            rows.append(
                f"{v:8.2f} {t.value[i]:11.5g} {std:9.2g} {lo:11.5g} {hi:11.5g} "
                + " ".join(f"{self.species[n].value[i]:11.5g}" for n in names)
            )
        return "\n".join(rows)


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
