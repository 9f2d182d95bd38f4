"""Barrier crossing with memory: Grote-Hynes rates and GLE first-passage times.

Grote & Hynes (J. Chem. Phys. 73, 2715 (1980)): near a parabolic barrier top of curvature
``m omega_b^2`` the reactive frequency ``lambda`` is the positive root of
``lambda^2 + lambda [gamma_0 + K^(lambda)] / m = omega_b^2`` (``K^`` the Laplace transform of the
kernel), and the rate is ``k_GH = (lambda / omega_b) k_TST``. With a Markovian friction
``gamma = int K`` the same equation gives Kramers' spatial-diffusion result (Kramers, Physica 7,
284 (1940)) ``lambda_K = -gamma/2m + sqrt(gamma^2/4m^2 + omega_b^2)``; memory makes the friction
felt at the barrier ``K^(lambda) < gamma`` and the rate larger. ``k_TST`` is
``(omega_0 / 2 pi) exp(-dW/kT)`` (harmonic well) or, less sensitive to the well's anharmonicity,
``sqrt(kT / 2 pi m) exp(-W_b/kT) / int_reactant exp(-W/kT) dx``. The theory assumes a barrier of
several kT and friction in the spatial-diffusion regime (energy loss per oscillation >> kT).

:func:`gle_first_passage` runs the GLE integrator until particles reach absorbing ends and
returns a :class:`stochastic.first_passage.FirstPassage` (mean first-passage time, its standard
error; ``1/MFPT`` from a well to beyond the barrier is the escape rate).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.integrate import quad
from scipy.optimize import brentq, minimize_scalar

from poreflux import units
from stochastic.first_passage import FirstPassage
from stochastic.langevin import as_generator
from stochastic.memory.errors import MemoryInputError, check_mass, check_temperature_K
from stochastic.memory.gle import GLEIntegrator
from stochastic.memory.terms import ExponentialKernel

__all__ = [
    "BarrierRate",
    "gle_first_passage",
    "grote_hynes_frequency",
    "grote_hynes_rate",
    "kramers_frequency",
]


def kramers_frequency(omega_b: float, gamma: float, mass: float) -> float:
    """Kramers' reactive frequency ``-gamma/2m + sqrt(gamma^2/4m^2 + omega_b^2)`` [1/ps]."""
    g = gamma / (2.0 * mass)
    return -g + math.sqrt(g * g + omega_b * omega_b)


def grote_hynes_frequency(
    omega_b: float,
    mass: float,
    laplace: ExponentialKernel | Callable[[float], float],
    markovian_friction: float = 0.0,
) -> float:
    """The Grote-Hynes reactive frequency lambda [1/ps]: largest root in (0, omega_b] of
    ``lambda^2 + lambda (gamma_0 + K^(lambda)) / m - omega_b^2``.

    ``laplace`` is an :class:`ExponentialKernel` or a callable ``s -> K^(s)`` [amu/ps].
    """
    if not (math.isfinite(omega_b) and omega_b > 0):
        raise MemoryInputError(
            f"omega_b must be a positive barrier frequency in 1/ps, got {omega_b}"
        )
    m = check_mass(mass)
    khat = laplace.laplace if isinstance(laplace, ExponentialKernel) else laplace

    def f(lam: float) -> float:
        return lam * lam + lam * (markovian_friction + float(khat(lam))) / m - omega_b**2

    grid = np.linspace(0.0, omega_b, 401)
    vals = np.array([f(x) for x in grid])  # f(0) = -omega_b^2 < 0
    change = np.flatnonzero((vals[:-1] < 0) & (vals[1:] >= 0))
    if change.size == 0:
        raise MemoryInputError("no Grote-Hynes root in (0, omega_b]: check the kernel's sign")
    i = int(change[-1])
    return float(brentq(f, grid[i], grid[i + 1], xtol=1e-14))


@dataclass(frozen=True)
class BarrierRate:
    """Escape rates [1/ps] over one barrier: Grote-Hynes ``rate``, ``kramers`` (same total
    friction, no memory), ``tst``; frequencies [1/ps], barrier height [kJ/mol], positions [nm]."""

    rate: float
    kramers: float
    tst: float
    lambda_gh: float
    lambda_kramers: float
    omega_b: float
    omega_0: float
    barrier: float
    x_well: float
    x_barrier: float


def _extremum(w: Callable, guess: float, span: float, sign: float) -> float:
    res = minimize_scalar(
        lambda x: sign * float(w(x)),
        bounds=(guess - span, guess + span),
        method="bounded",
        options={"xatol": 1e-10},
    )
    return float(res.x)


def _curvature(w: Callable, x: float, h: float) -> float:
    return float((w(x + h) - 2.0 * w(x) + w(x - h)) / (h * h))


def grote_hynes_rate(
    potential: Callable[[float], float],
    well: float,
    barrier: float,
    *,
    mass: float,
    temperature: float,
    kernel: ExponentialKernel | Callable[[float], float],
    markovian_friction: float = 0.0,
    well_partition: str = "exact",
) -> BarrierRate:
    """Grote-Hynes escape rate from ``well`` over ``barrier`` in ``potential(x)`` [kJ/mol].

    ``well`` and ``barrier`` [nm] are refined to the nearby extrema; ``kernel`` is an
    :class:`ExponentialKernel` or a Laplace transform ``s -> K^(s)`` [amu/ps] (then the Kramers
    comparison uses ``K^(0)``). ``well_partition``: ``"exact"`` (integrate the reactant
    Boltzmann factor from the barrier to where it is below e^-40 of its peak) or
    ``"harmonic"``.
    """
    m = check_mass(mass)
    kt = units.kT_kj_per_mol(check_temperature_K(temperature))
    if well_partition not in ("exact", "harmonic"):
        raise MemoryInputError(
            f"well_partition must be 'exact' or 'harmonic', got {well_partition!r}"
        )
    dist = abs(barrier - well)
    if not (math.isfinite(dist) and dist > 0):
        raise MemoryInputError(
            f"well and barrier must be distinct finite positions, got {well}, {barrier}"
        )
    xw = _extremum(potential, well, 0.5 * dist, 1.0)
    xb = _extremum(potential, barrier, 0.5 * dist, -1.0)
    h = 1e-4 * abs(xb - xw)
    k0, kb = _curvature(potential, xw, h), _curvature(potential, xb, h)
    if not (k0 > 0 and kb < 0):
        raise MemoryInputError("no well (W'' > 0) and barrier (W'' < 0) found near the guesses")
    omega_0, omega_b = math.sqrt(k0 / m), math.sqrt(-kb / m)
    w_b, w_0 = float(potential(xb)), float(potential(xw))
    dw = w_b - w_0
    if well_partition == "harmonic":
        tst = omega_0 / (2 * math.pi) * math.exp(-dw / kt)
    else:
        step = math.copysign(dist, xw - xb)
        edge = xw
        while (float(potential(edge)) - w_0) / kt < 40.0:
            edge += step
        lo, hi = sorted((edge, xb))
        z = quad(lambda x: math.exp(-(float(potential(x)) - w_0) / kt), lo, hi, points=[xw],
                 limit=200, epsabs=0.0, epsrel=1e-10)[0]  # fmt: skip
        tst = math.sqrt(kt / (2 * math.pi * m)) * math.exp(-dw / kt) / z
    lam = grote_hynes_frequency(omega_b, m, kernel, markovian_friction)
    if isinstance(kernel, ExponentialKernel):
        gamma = markovian_friction + kernel.integral
    else:
        gamma = markovian_friction + float(kernel(0.0))
    lam_k = kramers_frequency(omega_b, gamma, m)
    return BarrierRate(
        lam / omega_b * tst, lam_k / omega_b * tst, tst, lam, lam_k, omega_b, omega_0, dw, xw, xb
    )


def gle_first_passage(
    integrator: GLEIntegrator,
    x0: np.ndarray,
    rng: np.random.Generator | int,
    *,
    t_max: float,
    low: float | None = None,
    high: float | None = None,
    compact_every: int = 50,
) -> FirstPassage:
    """First-passage times [ps] of GLE particles from ``x0`` to ``x <= low`` or ``x >= high``.

    Velocities and auxiliary variables start from their exact equilibrium; absorbed particles
    are dropped every ``compact_every`` steps (their time is recorded at the exact step). 3D
    positions use the last coordinate.
    """
    if low is None and high is None:
        raise MemoryInputError("give an absorbing end: low and/or high [nm]")
    lo = -math.inf if low is None else float(low)
    hi = math.inf if high is None else float(high)
    if not (math.isfinite(t_max) and t_max > 0):
        raise MemoryInputError(f"t_max must be a positive time in ps, got {t_max!r}")
    rng = as_generator(rng)
    s = integrator.init_state(x0, rng)
    c = s.x if s.x.ndim == 1 else s.x[:, -1]
    if np.any((c <= lo) | (c >= hi)):
        raise MemoryInputError("some particles start on or beyond an absorbing end")
    n, dim = s.n, (1 if s.x.ndim == 1 else 3)
    idx = np.arange(n)
    times = np.full(n, np.nan)
    side = np.zeros(n, dtype=np.int8)
    hit = np.full(n, -1, dtype=np.int64)
    xi = np.empty((s.x.size, 1 + integrator.n_aux))
    n_steps = math.ceil(t_max / integrator.dt)
    for k in range(1, n_steps + 1):
        integrator.advance(s, rng, xi, hit, (lo, hi), k)
        if k % compact_every and k != n_steps:
            continue
        done = hit >= 0
        if not done.any():
            continue
        times[idx[done]] = (hit[done] // 2) * integrator.dt
        side[idx[done]] = np.where(hit[done] % 2 == 1, 1, -1)
        keep = ~done
        idx, hit = idx[keep], hit[keep]
        wk = np.repeat(keep, dim)
        s = type(s)(s.x[keep], s.v[keep], s.w[wk], s.f[keep], s.t)
        xi = np.empty((s.x.size, 1 + integrator.n_aux))
        if idx.size == 0:
            break
    return FirstPassage(times, side, float(t_max))
