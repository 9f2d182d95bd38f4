"""Generalized Langevin dynamics by Markovian embedding, for many independent particles.

The GLE ``m dv/dt = F(x) - gamma_0 v - int_0^t K(s) v(t - s) ds + R(t)`` with
``<R(0) R(t)> = kT [2 gamma_0 delta(t) + K(t)]`` and ``K(t) = sum_i c_i exp(-t/tau_i)
cos(omega_i t)`` (:class:`~stochastic.memory.terms.ExponentialKernel`) is integrated exactly as
the Markovian system of the velocity and ``n`` auxiliary variables ``w`` (Ceriotti, Bussi &
Parrinello, J. Chem. Theory Comput. 6, 1170 (2010)). In units where the stationary covariance of
``u = (v sqrt(m/kT), w)`` is the identity, ``du = -A u dt + B dW`` with

- ``A_00 = gamma_0/m``; for every term ``b = sqrt(c_i/m)``: ``A_0a = -b``, ``A_a0 = b``,
  ``A_aa = 1/tau_i`` (a damped oscillation uses two variables with ``A_ab = -A_ba = omega_i``);
- ``B B^T = A + A^T`` (fluctuation-dissipation), so that eliminating ``w`` returns the kernel
  ``K(t)/m = b^T exp(-A_ww t) b``.

One step is BAOAB (Leimkuhler & Matthews, Appl. Math. Res. Express 2013, 34) with the O part
replaced by the exact solution of the linear SDE over ``dt``: ``u <- T u + L xi`` with
``T = exp(-A dt)`` and ``L L^T = 1 - T T^T`` (Cholesky), which leaves the Gaussian distribution
of ``(v, w)`` exactly invariant for any ``dt``. Without a kernel and with ``gamma_0 > 0`` this is
BAOAB Langevin step for step (the same random numbers give the same trajectory as
:func:`stochastic.langevin.baoab` with ``backend="numba"``).

Units: nm, ps, amu, kJ/mol, K; K(t) in amu/ps^2, gamma_0 in amu/ps. Positions of shape (n,) (1D)
or (n, 3) (each Cartesian component has its own auxiliary variables). 1D runs with a
:class:`~stochastic.forces.TabulatedForce` (e.g. :func:`stochastic.forces.profile_force`) use one
fused compiled loop (~1.2e7 particle-steps/s with four auxiliary variables); other forces are
called as ``force(x) -> F`` once per step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from scipy.linalg import expm

from poreflux import units
from stochastic.forces import ForceFn, TabulatedForce
from stochastic.langevin import Trajectory, as_generator, check_timestep
from stochastic.memory import _gle_kernels as kern
from stochastic.memory.errors import MemoryInputError, check_mass, check_temperature_K
from stochastic.memory.terms import ExponentialKernel, PiecewiseKernel

__all__ = [
    "GLEIntegrator",
    "GLEState",
    "drift_matrix",
    "embedding_propagators",
    "gle",
    "run_gle",
]

_NO_HIT = np.zeros(1, dtype=np.int64)  # never written: the bounds are infinite without hit
_NO_EDGES = np.zeros(0)


@dataclass(frozen=True, eq=False)
class GLEState:
    """Positions ``x`` [nm], velocities ``v`` [nm/ps], forces ``f`` [kJ/(mol nm)] (shape (n,) or
    (n, 3)), auxiliary variables ``w`` (dimensionless, shape (x.size, n_aux), stationary N(0, 1))
    and time ``t`` [ps]."""

    x: np.ndarray
    v: np.ndarray
    w: np.ndarray
    f: np.ndarray
    t: float = 0.0

    @property
    def n(self) -> int:
        """Number of particles."""
        return self.x.shape[0]

    def copy(self) -> GLEState:
        """Deep copy."""
        return GLEState(self.x.copy(), self.v.copy(), self.w.copy(), self.f.copy(), self.t)


def drift_matrix(
    kernel: ExponentialKernel | None, mass: float, markovian_friction: float = 0.0
) -> np.ndarray:
    """The drift matrix A [1/ps] of the embedding in reduced variables (see the module notes)."""
    n_aux = 0 if kernel is None else kernel.n_aux
    a = np.zeros((1 + n_aux, 1 + n_aux))
    a[0, 0] = markovian_friction / mass
    if kernel is None:
        return a
    j = 1
    for c, tau, om in zip(kernel.amplitudes, kernel.taus, kernel.frequencies, strict=True):
        b = math.sqrt(c / mass)
        a[0, j], a[j, 0], a[j, j] = -b, b, 1.0 / tau
        if om > 0:
            a[j + 1, j + 1] = 1.0 / tau
            a[j, j + 1], a[j + 1, j] = om, -om
            j += 1
        j += 1
    return a


def _propagators(a: np.ndarray, dt: float, kt_over_m: float) -> tuple[np.ndarray, np.ndarray]:
    """T = exp(-A dt) and L (L L^T = 1 - T T^T), rescaled to physical velocities."""
    t_red = expm(-a * dt)
    cov = np.eye(a.shape[0]) - t_red @ t_red.T
    cov = 0.5 * (cov + cov.T)
    try:
        chol = np.linalg.cholesky(cov)
    except np.linalg.LinAlgError:  # semi-definite to rounding: lower factor of cov + jitter
        jitter = 1e-14 * max(1.0, float(np.max(np.abs(cov))))
        chol = np.linalg.cholesky(cov + jitter * np.eye(cov.shape[0]))
    scale = np.ones(a.shape[0])
    scale[0] = math.sqrt(kt_over_m)
    t_phys = scale[:, None] * t_red / scale[None, :]
    l_phys = scale[:, None] * chol
    return np.ascontiguousarray(t_phys), np.ascontiguousarray(l_phys)


def embedding_propagators(
    kernel: ExponentialKernel | None,
    mass: float,
    temperature: float,
    dt: float,
    markovian_friction: float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """The exact O-step matrices ``(T, L)`` of one degree of freedom: ``u <- T u + L xi`` with
    ``u = (v [nm/ps], w_1..w_n)`` and ``xi`` standard normal (for integrators elsewhere, e.g.
    :class:`stochastic.cg.memory_dynamics.GLEThermostat`)."""
    m = check_mass(mass)
    temp = check_temperature_K(temperature)
    if not (math.isfinite(dt) and dt > 0):
        raise MemoryInputError(f"dt must be a finite time step > 0 ps, got {dt!r}")
    a = drift_matrix(kernel, m, float(markovian_friction))
    return _propagators(a, float(dt), units.kT_kj_per_mol(temp) / m)


@dataclass(frozen=True, eq=False)
class GLEIntegrator:
    """A GLE integrator (made by :func:`gle`); ``T[j]`` and ``L[j]`` are the exact O-step
    matrices of window j (``edges``: its interior boundaries; none for one kernel)."""

    force: ForceFn
    mass: float
    temperature: float
    dt: float
    kernel: ExponentialKernel | PiecewiseKernel | None
    markovian_friction: float
    T: np.ndarray
    L: np.ndarray
    edges: np.ndarray

    @property
    def n_aux(self) -> int:
        """Auxiliary variables per degree of freedom."""
        return self.T.shape[1] - 1

    @property
    def friction(self) -> float | np.ndarray:
        """Total zero-frequency friction ``gamma_0 + int K`` [amu/ps] (one per window for a
        :class:`PiecewiseKernel`)."""
        if isinstance(self.kernel, PiecewiseKernel):
            return self.markovian_friction + np.array([k.integral for k in self.kernel.kernels])
        k = 0.0 if self.kernel is None else self.kernel.integral
        return self.markovian_friction + k

    def _windows(self, s: GLEState) -> np.ndarray:
        """Window index of every degree of freedom (by the last coordinate in 3D)."""
        if self.edges.size == 0:
            return np.zeros(s.x.size, dtype=np.int64)
        z = s.x if s.x.ndim == 1 else s.x[:, -1]
        win = np.searchsorted(self.edges, z, side="right").astype(np.int64)
        return win if s.x.ndim == 1 else np.repeat(win, s.x.shape[1])

    def init_state(
        self, x0: np.ndarray, rng: np.random.Generator | int, v0: np.ndarray | None = None
    ) -> GLEState:
        """State at ``x0`` with Maxwell-Boltzmann velocities (unless ``v0``) and stationary
        auxiliary variables (the exact equilibrium of ``(v, w)`` given x)."""
        rng = as_generator(rng)
        x = np.array(x0, dtype=float)
        if x.ndim not in (1, 2) or (x.ndim == 2 and x.shape[1] != 3):
            raise MemoryInputError(f"positions must have shape (n,) or (n, 3), got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise MemoryInputError("initial positions x0 have non-finite values")
        sd = math.sqrt(units.kT_kj_per_mol(self.temperature) / self.mass)
        v = (
            rng.standard_normal(x.shape) * sd
            if v0 is None
            else np.array(np.broadcast_to(v0, x.shape), dtype=float)
        )
        w = rng.standard_normal((x.size, self.n_aux))
        return GLEState(x, v, w, np.asarray(self.force(x), dtype=float).copy())

    def advance(
        self,
        s: GLEState,
        rng: np.random.Generator,
        xi: np.ndarray,
        hit: np.ndarray | None = None,
        bounds: tuple[float, float] = (-math.inf, math.inf),
        step: int = 0,
    ) -> None:
        """One step in place; ``xi`` is a (x.size, 1 + n_aux) buffer for the normal variates.

        ``hit[i]`` (if given, -1 for "not yet") records the first step at which particle i left
        ``bounds`` (absorbing ends for first-passage times) as ``2 step + (x >= bounds[1])``;
        3D positions use the last coordinate."""
        rng.standard_normal(out=xi)
        h = 0.5 * self.dt
        hm = h / self.mass
        f = self.force
        if isinstance(f, TabulatedForce) and s.x.ndim == 1:
            hh = _NO_HIT if hit is None else hit
            kern.step_tabulated(self.T.shape[1])(
                s.x, s.v, s.f, s.w, xi, self.T, self.L, self.edges, hm, h, f.z0, 1.0 / f.h,
                f.table.size - 1.0, f.table, f._slope, bounds[0], bounds[1], hh, step,
            )  # fmt: skip
            return
        x, v = s.x.reshape(-1), s.v.reshape(-1)
        win = self._windows(s)
        kern.step_baoa(self.T.shape[1])(x, v, s.f.reshape(-1), s.w, xi, self.T, self.L, win, hm, h)
        s.f[...] = f(s.x)
        s.v[...] += hm * s.f
        if hit is not None:
            c = s.x if s.x.ndim == 1 else s.x[:, -1]
            high = c >= bounds[1]
            new = ((c <= bounds[0]) | high) & (hit < 0)
            hit[new] = 2 * step + high[new]


def gle(
    force: ForceFn,
    *,
    mass: float,
    temperature: float,
    dt: float,
    kernel: ExponentialKernel | PiecewiseKernel | None = None,
    markovian_friction: float = 0.0,
    max_curvature: float | None = None,
) -> GLEIntegrator:
    """A GLE integrator (BAOAB with an exact extended O step; see the module notes).

    Parameters
    ----------
    force
        ``F(x)`` [kJ/(mol nm)] for positions (n,) or (n, 3); a
        :class:`~stochastic.forces.TabulatedForce` (:func:`stochastic.forces.profile_force` of a
        W(z) profile) takes the fast compiled 1D path.
    mass, temperature
        Particle mass [amu] and temperature [K].
    dt
        Time step [ps], checked against ``max_curvature`` [kJ/(mol nm^2)] (or the force's
        ``max_curvature`` attribute) as for BAOAB: ``dt < 2 / sqrt(k_max/m)``.
    kernel
        Memory kernel (sum of exponentials / damped oscillations, e.g.
        ``fit_exponentials(...).kernel``), a :class:`PiecewiseKernel` (one per window along the
        coordinate; the window is taken at the start of the step in 3D and after the first
        half-drift in the fused 1D path), or None for a purely Markovian run.
    markovian_friction
        Instantaneous friction gamma_0 [amu/ps] (white noise on v); with ``kernel=None`` this is
        Langevin dynamics.
    """
    m = check_mass(mass)
    temp = check_temperature_K(temperature)
    g0 = float(markovian_friction)
    if not (math.isfinite(g0) and g0 >= 0):
        raise MemoryInputError(
            f"markovian_friction must be >= 0 amu/ps, got {markovian_friction!r}"
        )
    if kernel is None and g0 == 0:
        raise MemoryInputError("give a kernel, a markovian_friction > 0, or both (no thermostat)")
    if kernel is not None and not isinstance(kernel, ExponentialKernel | PiecewiseKernel):
        raise MemoryInputError(
            "kernel must be an ExponentialKernel or a PiecewiseKernel (fit a tabulated one with "
            "fit_exponentials)"
        )
    curv = max_curvature if max_curvature is not None else getattr(force, "max_curvature", None)
    check_timestep(dt, scheme="baoab", gamma=max(g0, 1e-300), mass=m, max_curvature=curv)
    kernels = kernel.kernels if isinstance(kernel, PiecewiseKernel) else (kernel,)
    edges = kernel.edges if isinstance(kernel, PiecewiseKernel) else _NO_EDGES
    kt_over_m = units.kT_kj_per_mol(temp) / m
    mats = [_propagators(drift_matrix(k, m, g0), float(dt), kt_over_m) for k in kernels]
    t_mat = np.ascontiguousarray(np.stack([a for a, _ in mats]))
    l_mat = np.ascontiguousarray(np.stack([b for _, b in mats]))
    return GLEIntegrator(force, m, temp, float(dt), kernel, g0, t_mat, l_mat, edges)


def run_gle(
    integrator: GLEIntegrator,
    state: GLEState,
    n_steps: int,
    rng: np.random.Generator | int,
    *,
    record_every: int = 0,
) -> tuple[GLEState, Trajectory]:
    """Advance ``n_steps`` (on a copy of ``state``); record x and v every ``record_every`` steps.

    Returns the final state and a :class:`stochastic.langevin.Trajectory` (times [ps], x, v).
    """
    rng = as_generator(rng)
    s = state.copy()
    xi = np.empty((s.x.size, 1 + integrator.n_aux))
    times, xs, vs = [], [], []
    for k in range(1, int(n_steps) + 1):
        integrator.advance(s, rng, xi)
        if record_every and k % record_every == 0:
            times.append(state.t + k * integrator.dt)
            xs.append(s.x.copy())
            vs.append(s.v.copy())
        if k % 1000 == 0 and not np.all(np.isfinite(s.v)):
            raise MemoryInputError(
                f"non-finite velocities at step {k}: dt = {integrator.dt:g} ps is too large for "
                "the force (pass max_curvature to have it checked)"
            )
    s = replace(s, t=state.t + int(n_steps) * integrator.dt)
    traj = Trajectory(
        np.array(times),
        np.array(xs) if xs else np.empty((0, *s.x.shape)),
        np.array(vs) if vs else None,
    )
    return s, traj
