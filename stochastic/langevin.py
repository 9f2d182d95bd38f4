"""Langevin and Brownian dynamics of independent particles in 1D or 3D.

Units (particle column of the README's table): positions nm, time ps, velocities nm/ps, mass amu
(g/mol), friction coefficient gamma amu/ps, forces kJ/(mol nm), energies kJ/mol, temperature K.
With these ``kT/m`` is in nm^2/ps^2 and ``D = kT/gamma`` in nm^2/ps (= 1e3 nm^2/ns, the continuum
unit). Conversions: :func:`gamma_from_D` (D in nm^2/ns -> gamma in amu/ps),
:func:`stochastic.profiles.friction_kg_per_s_to_amu_per_ps` (SI -> amu/ps).

Inertial Langevin ``m dv = F dt - gamma v dt + sqrt(2 gamma kT) dW`` is integrated with BAOAB
(Leimkuhler & Matthews, Appl. Math. Res. Express 2013, 34), written as its split steps:

- B (kick): ``v += (dt/2) F / m``
- A (drift): ``x += (dt/2) v``
- O (Ornstein-Uhlenbeck, exact): ``v = c1 v + sqrt((1 - c1^2) kT/m) xi``, ``c1 = exp(-gamma dt/m)``

so the fluctuation-dissipation noise ``<eta(t) eta(t')> = 2 gamma kT delta(t - t')`` enters
through the exact O step. Overdamped Brownian dynamics ``gamma dx = F dt + sqrt(2 gamma kT) dW``
is integrated by Euler-Maruyama or by the Leimkuhler-Matthews scheme (noise averaged over two
consecutive steps: second-order accurate invariant measure).

A profile's own D(z) enters through :func:`brownian_in_profile` (Ito form with the
noise-induced drift dD/dz, the particle version of the 1D Smoluchowski equation).

Integrators are ``(init_fn, step_fn)`` pairs over a frozen :class:`ParticleState`; :func:`run` and
:func:`stochastic.first_passage.first_passage_times` drive the split steps in place (1e5
particles: ~3-4e7 particle-steps/s in 1D on one core; ``backend="numba"`` is ~1.7x faster with
identical trajectories). An integer seed gives :func:`make_rng` (SFC64) streams; ``n`` normals
are drawn per step in particle order, so a run is reproducible for a seed, size and backend.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np

from poreflux import units
from poreflux.errors import PorefluxError
from stochastic.forces import ForceFn, TabulatedForce, Walls, axial_force, profile_force
from stochastic.profiles import Profile, StochasticInputError

__all__ = [
    "A_step",
    "B_step",
    "InstabilityError",
    "Integrator",
    "O_step",
    "ParticleState",
    "TabulatedForce",
    "TimestepError",
    "Trajectory",
    "Walls",
    "as_generator",
    "axial_force",
    "baoab",
    "brownian",
    "brownian_in_profile",
    "check_finite",
    "check_timestep",
    "gamma_from_D",
    "kT",
    "make_rng",
    "profile_force",
    "run",
]

logger = logging.getLogger(__name__)


class TimestepError(StochasticInputError):
    """The time step is too large for the force curvature / friction (unstable)."""


class InstabilityError(PorefluxError, RuntimeError):
    """Positions or velocities became non-finite during a run."""


def kT(temperature: float) -> float:
    """Thermal energy [kJ/mol]."""
    return units.kT_kj_per_mol(temperature)


def gamma_from_D(D_nm2_per_ns: float, temperature: float) -> float:
    """Einstein friction ``gamma = kT/D`` [amu/ps] from D [nm^2/ns]."""
    if not D_nm2_per_ns > 0:
        raise StochasticInputError(f"D must be > 0 nm^2/ns, got {D_nm2_per_ns!r}")
    return kT(temperature) / (D_nm2_per_ns * 1e-3)


def make_rng(seed: int) -> np.random.Generator:
    """Reproducible random stream for particle runs: ``Generator(SFC64(seed))``.

    SFC64 passes the standard statistical test batteries and draws normal variates ~25% faster
    than numpy's default PCG64 (the random numbers bound a vectorised Langevin step). Any
    ``numpy.random.Generator`` may be passed instead.
    """
    return np.random.Generator(np.random.SFC64(seed))


def as_generator(rng: np.random.Generator | int | None) -> np.random.Generator:
    """A Generator as given, or :func:`make_rng` of an integer seed (None is refused)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, bool) or not isinstance(rng, int | np.integer):
        raise StochasticInputError(
            f"pass a numpy Generator or an integer seed (reproducibility), got {rng!r}"
        )
    return make_rng(int(rng))


# ------------------------------------------------------------------------------ state
@dataclass(frozen=True, eq=False)
class ParticleState:
    """Positions ``x`` [nm] (shape (n,) or (n, 3)), velocities ``v`` [nm/ps] (None for BD),
    forces ``f`` [kJ/(mol nm)], time ``t`` [ps]; ``noise`` is the previous step's noise of the
    Leimkuhler-Matthews scheme."""

    x: np.ndarray
    v: np.ndarray | None
    f: np.ndarray
    t: float = 0.0
    noise: np.ndarray | None = None

    @property
    def n(self) -> int:
        """Number of particles."""
        return self.x.shape[0]

    def copy(self) -> ParticleState:
        """Deep copy of the arrays."""
        cp = lambda a: None if a is None else a.copy()  # noqa: E731
        return ParticleState(cp(self.x), cp(self.v), cp(self.f), self.t, cp(self.noise))


# ------------------------------------------------------------------------------ split steps
def B_step(v: np.ndarray, f: np.ndarray, dt_over_m: float) -> np.ndarray:
    """Kick (in place): ``v += (dt/m) F`` (called with dt/2)."""
    v += dt_over_m * f
    return v


def A_step(x: np.ndarray, v: np.ndarray, dt: float) -> np.ndarray:
    """Drift (in place): ``x += dt v`` (called with dt/2)."""
    x += dt * v
    return x


def O_step(
    v: np.ndarray, c1: float, sigma: float, rng: np.random.Generator, buf: np.ndarray
) -> np.ndarray:
    """Exact Ornstein-Uhlenbeck velocity update (in place): ``v = c1 v + sigma xi``.

    ``c1 = exp(-gamma dt/m)``, ``sigma = sqrt((1 - c1^2) kT/m)`` (fluctuation-dissipation).
    """
    v *= c1
    rng.standard_normal(out=buf)
    buf *= sigma
    v += buf
    return v


# ------------------------------------------------------------------------------ integrators
def check_timestep(
    dt: float,
    *,
    scheme: str,
    gamma: float,
    max_curvature: float | None,
    mass: float | None = None,
) -> None:
    """Raise :class:`TimestepError` if ``dt`` [ps] is beyond the linear stability limit.

    ``max_curvature`` = max |dF/dx| [kJ/(mol nm^2)]. BAOAB: ``dt < 2/omega``,
    ``omega = sqrt(k_max/m)``; Brownian dynamics: ``dt < 2 gamma/k_max``. A warning is logged
    when ``dt`` exceeds a tenth of the limit (stable but inaccurate).
    """
    if not (math.isfinite(dt) and dt > 0):
        raise TimestepError(f"dt must be a finite positive time in ps, got {dt!r}")
    if max_curvature is None or max_curvature <= 0:
        logger.info("no force curvature known: dt = %g ps not checked for stability", dt)
        return
    if scheme == "baoab":
        limit = 2.0 / math.sqrt(max_curvature / mass)
        what = f"2/omega with omega = sqrt(k_max/m) = {math.sqrt(max_curvature / mass):.4g} 1/ps"
    else:
        limit = 2.0 * gamma / max_curvature
        what = f"2 gamma/k_max = 2 * {gamma:.4g} / {max_curvature:.4g}"
    if dt >= limit:
        raise TimestepError(
            f"dt = {dt:g} ps is unstable for {scheme}: the limit is {what} = {limit:.4g} ps "
            f"(max force curvature {max_curvature:.4g} kJ/(mol nm^2)); use dt <= {0.1 * limit:.3g} "
            "ps for accurate sampling, or soften the force field"
        )
    if dt > 0.1 * limit:
        logger.warning(
            "dt = %g ps is %.0f%% of the stability limit %.3g ps: expect a sampling bias",
            dt,
            100 * dt / limit,
            limit,
        )


@dataclass(frozen=True, eq=False)
class Integrator:
    """An integrator: ``init_fn(x0, rng, v0=None) -> state`` and ``step_fn(state, rng) -> state``.

    ``advance(state_arrays..., rng)`` is the in-place kernel used by :func:`run`.
    """

    name: str
    dt: float
    temperature: float
    gamma: float
    mass: float | None
    force: ForceFn
    walls: Walls | None
    init_fn: Callable[..., ParticleState]
    advance: Callable[[ParticleState, np.random.Generator, np.ndarray], None]

    def step_fn(self, state: ParticleState, rng: np.random.Generator | int) -> ParticleState:
        """One step; returns a new state and leaves ``state`` unchanged."""
        new = state.copy()
        self.advance(new, as_generator(rng), np.empty_like(new.x))
        return replace(new, t=state.t + self.dt)


def _validate_common(dt, gamma, temperature, mass=None):
    if not (math.isfinite(temperature) and temperature > 0):
        raise StochasticInputError(f"temperature must be > 0 K, got {temperature!r}")
    if not (np.all(np.asarray(gamma) > 0) and np.all(np.isfinite(gamma))):
        raise StochasticInputError(f"friction gamma must be > 0 amu/ps, got {gamma!r}")
    if mass is not None and not (np.all(np.asarray(mass) > 0) and np.all(np.isfinite(mass))):
        raise StochasticInputError(f"mass must be > 0 amu, got {mass!r}")
    if not (math.isfinite(dt) and dt > 0):
        raise TimestepError(f"dt must be a finite positive time in ps, got {dt!r}")


def _eval_force(force: ForceFn, x: np.ndarray, out: np.ndarray) -> None:
    """``out[...] = force(x)``, written in place when the force supports ``out=``."""
    if getattr(force, "supports_out", False):
        force(x, out=out)
    else:
        out[...] = force(x)


def _curvature(force: ForceFn, max_curvature: float | None) -> float | None:
    return max_curvature if max_curvature is not None else getattr(force, "max_curvature", None)


def baoab(
    force: ForceFn,
    *,
    mass: float,
    gamma: float,
    temperature: float,
    dt: float,
    walls: Walls | None = None,
    max_curvature: float | None = None,
    backend: str = "numpy",
) -> Integrator:
    """Inertial Langevin dynamics with the BAOAB splitting.

    Parameters
    ----------
    force
        ``F(x)`` [kJ/(mol nm)] for positions of shape (n,) or (n, 3), e.g. :func:`profile_force`.
    mass, gamma
        Mass [amu] and friction coefficient [amu/ps] (``t_mom = m/gamma``).
    temperature
        Temperature [K].
    dt
        Time step [ps]; checked against ``max_curvature`` [kJ/(mol nm^2)] (taken from the
        force's ``max_curvature`` attribute if present).
    walls
        Optional reflecting/absorbing walls.
    backend
        ``"numpy"`` (default): the split steps :func:`B_step`, :func:`A_step`, :func:`O_step` as
        vectorised numpy calls. ``"numba"``: the same arithmetic fused into one compiled loop
        per step (1D positions with a :class:`TabulatedForce` only; the normal variates still
        come from ``rng``, so both backends give the same trajectory up to rounding).
    """
    if backend not in ("numpy", "numba"):
        raise StochasticInputError(f"backend must be 'numpy' or 'numba', got {backend!r}")
    _validate_common(dt, gamma, temperature, mass)
    gamma, mass = float(gamma), float(mass)
    check_timestep(
        dt, scheme="baoab", gamma=gamma, mass=mass, max_curvature=_curvature(force, max_curvature)
    )
    kt = kT(temperature)
    c1 = math.exp(-gamma * dt / mass)
    sigma = math.sqrt((1.0 - c1 * c1) * kt / mass)
    half_dt_over_m = 0.5 * dt / mass
    half_dt = 0.5 * dt

    def init_fn(x0, rng, v0=None) -> ParticleState:
        x = np.array(x0, dtype=float)
        if v0 is None:
            v = as_generator(rng).standard_normal(x.shape) * math.sqrt(kt / mass)
        else:
            v = np.array(np.broadcast_to(v0, x.shape), dtype=float)
        return ParticleState(x, v, np.asarray(force(x), dtype=float).copy())

    def advance(s: ParticleState, rng: np.random.Generator, buf: np.ndarray) -> None:
        x, v = s.x, s.v
        B_step(v, s.f, half_dt_over_m)
        A_step(x, v, half_dt)
        O_step(v, c1, sigma, rng, buf)
        A_step(x, v, half_dt)
        if walls is not None:
            walls.reflect(x, v)
        _eval_force(force, x, s.f)
        B_step(v, s.f, half_dt_over_m)

    if backend == "numba":
        if not isinstance(force, TabulatedForce):
            raise StochasticInputError("backend='numba' needs a TabulatedForce (profile_force)")
        kernel = _numba_baoab_kernel()
        lo, hi, refl_lo, refl_hi = _reflecting_bounds(walls)
        table, slope = force.table, force._slope
        z0, inv_h, top = force.z0, 1.0 / force.h, table.size - 1.0

        def advance(s: ParticleState, rng: np.random.Generator, buf: np.ndarray) -> None:
            if s.x.ndim != 1:
                raise StochasticInputError("backend='numba' integrates 1D positions only")
            rng.standard_normal(out=buf)
            kernel(
                s.x,
                s.v,
                s.f,
                buf,
                half_dt_over_m,
                half_dt,
                c1,
                sigma,
                z0,
                inv_h,
                top,
                table,
                slope,
                lo,
                hi,
                refl_lo,
                refl_hi,
            )

    return Integrator("baoab", dt, temperature, gamma, mass, force, walls, init_fn, advance)


def _reflecting_bounds(walls: Walls | None) -> tuple[float, float, bool, bool]:
    if walls is None:
        return 0.0, 0.0, False, False
    refl_lo = walls.low is not None and walls.low_kind == "reflecting"
    refl_hi = walls.high is not None and walls.high_kind == "reflecting"
    return (
        float(walls.low) if refl_lo else 0.0,
        float(walls.high) if refl_hi else 0.0,
        refl_lo,
        refl_hi,
    )


_KERNELS: dict[str, Callable] = {}


def _numba_baoab_kernel() -> Callable:
    """Compile (once, cached on disk) the fused 1D BAOAB step with a tabulated force."""
    if "baoab" in _KERNELS:
        return _KERNELS["baoab"]
    try:
        import numba
    except ImportError as exc:  # pragma: no cover - numba is optional
        raise StochasticInputError("backend='numba' needs numba; use backend='numpy'") from exc

    @numba.njit(cache=True)
    def kernel(
        x,
        v,
        f,
        xi,
        half_dt_over_m,
        half_dt,
        c1,
        sigma,
        z0,
        inv_h,
        top,
        table,
        slope,
        lo,
        hi,
        refl_lo,
        refl_hi,
    ):
        for i in range(x.size):
            vi = v[i] + half_dt_over_m * f[i]  # B
            xx = x[i] + half_dt * vi  # A
            vi = c1 * vi + sigma * xi[i]  # O
            xx = xx + half_dt * vi  # A
            # (this branch layout compiles to a fast loop; "if refl and xx < lo" did not)
            if xx < lo:
                if refl_lo:
                    xx = 2.0 * lo - xx
                    vi = -vi
            elif xx > hi:  # noqa: SIM102 (keep the nesting: see above)
                if refl_hi:
                    xx = 2.0 * hi - xx
                    vi = -vi
            s = (xx - z0) * inv_h
            s = min(max(s, 0.0), top)
            k = int(s)
            fi = (s - k) * slope[k] + table[k]
            x[i] = xx
            v[i] = vi + half_dt_over_m * fi  # B
            f[i] = fi

    _KERNELS["baoab"] = kernel
    return kernel


def brownian(
    force: ForceFn,
    *,
    gamma: float,
    temperature: float,
    dt: float,
    scheme: str = "euler_maruyama",
    walls: Walls | None = None,
    max_curvature: float | None = None,
) -> Integrator:
    """Overdamped Brownian dynamics ``dx = (F/gamma) dt + sqrt(2 kT dt/gamma) xi``.

    ``scheme``: ``"euler_maruyama"`` or ``"leimkuhler_matthews"`` (``x += F dt/gamma +
    sqrt(kT dt/(2 gamma)) (xi_n + xi_{n+1})``, second-order accurate configurational sampling).
    Units as :func:`baoab`; ``D = kT/gamma`` [nm^2/ps].
    """
    if scheme not in ("euler_maruyama", "leimkuhler_matthews"):
        raise StochasticInputError(
            f"scheme must be 'euler_maruyama' or 'leimkuhler_matthews', got {scheme!r}"
        )
    _validate_common(dt, gamma, temperature)
    check_timestep(dt, scheme=scheme, gamma=gamma, max_curvature=_curvature(force, max_curvature))
    kt = kT(temperature)
    drift = dt / gamma
    lm = scheme == "leimkuhler_matthews"
    amp = math.sqrt(kt * dt / (2.0 * gamma)) if lm else math.sqrt(2.0 * kt * dt / gamma)

    def init_fn(x0, rng, v0=None) -> ParticleState:
        x = np.array(x0, dtype=float)
        noise = as_generator(rng).standard_normal(x.shape) if lm else None
        return ParticleState(x, None, np.asarray(force(x), dtype=float).copy(), noise=noise)

    def advance(s: ParticleState, rng: np.random.Generator, buf: np.ndarray) -> None:
        x = s.x
        x += drift * s.f
        rng.standard_normal(out=buf)
        if lm:
            prev = s.noise
            prev += buf
            prev *= amp
            x += prev
            prev[...] = buf
        else:
            buf *= amp
            x += buf
        if walls is not None:
            walls.reflect(x, None)
        _eval_force(force, x, s.f)

    return Integrator(scheme, dt, temperature, gamma, None, force, walls, init_fn, advance)


def brownian_in_profile(
    profile: Profile,
    *,
    dt: float,
    walls: Walls | None = None,
    n_table: int | None = None,
) -> Integrator:
    """Brownian dynamics in a profile's W(z) with its position-dependent D(z) (1D, Ito).

    ``dx = [D(x) (-dW/dx) + dD/dx] dt + sqrt(2 D(x) dt) xi`` (Euler-Maruyama) with W in kT and
    D converted to nm^2/ps; the ``dD/dx`` (noise-induced) drift keeps the Boltzmann distribution
    ``e^{-W}`` stationary, so this process is the particle version of the 1D Smoluchowski
    equation of :mod:`stochastic.smoluchowski`. Drift and noise amplitude are tabulated on
    ``n_table`` uniform points. ``state.f`` holds the drift velocity [nm/ps].
    """
    _validate_common(dt, 1.0, profile.temperature)
    n = max(4 * profile.z.size, 4001) if n_table is None else int(n_table)
    z = np.linspace(profile.z[0], profile.z[-1], n)
    d_ps = profile.D_at(z) * 1e-3  # nm^2/ps
    dd = np.gradient(d_ps, z, edge_order=2)
    drift = d_ps * -profile.dW_at(z) + dd
    curv = float(np.max(np.abs(d_ps * profile.dW_at(z, 2))))  # |d drift/dx| [1/ps], leading part
    if dt * curv >= 2.0:
        raise TimestepError(
            f"dt = {dt:g} ps is unstable: the limit 2/max|D W''| is {2.0 / curv:.4g} ps; use "
            f"dt <= {0.2 / curv:.3g} ps"
        )
    h = float(z[1] - z[0])
    drift_tab = TabulatedForce(float(z[0]), h, drift, curv)
    amp_tab = TabulatedForce(float(z[0]), h, np.sqrt(2.0 * d_ps * dt), 0.0)

    def init_fn(x0, rng=None, v0=None) -> ParticleState:
        x = np.array(x0, dtype=float)
        if x.ndim != 1:
            raise StochasticInputError("brownian_in_profile integrates 1D positions, shape (n,)")
        return ParticleState(x, None, drift_tab(x))

    def advance(s: ParticleState, rng: np.random.Generator, buf: np.ndarray) -> None:
        x = s.x
        rng.standard_normal(out=buf)
        buf *= amp_tab(x)
        x += dt * s.f
        x += buf
        if walls is not None:
            walls.reflect(x, None)
        drift_tab(x, out=s.f)

    gamma_mid = kT(profile.temperature) / float(np.mean(d_ps))
    return Integrator(
        "brownian_in_profile",
        dt,
        profile.temperature,
        gamma_mid,
        None,
        drift_tab,
        walls,
        init_fn,
        advance,
    )


# ------------------------------------------------------------------------------ drivers
@dataclass(frozen=True, eq=False)
class Trajectory:
    """Recorded positions (and velocities) every ``record_every`` steps; times in ps."""

    times: np.ndarray
    x: np.ndarray
    v: np.ndarray | None


def check_finite(state: ParticleState, integ: Integrator) -> None:
    """Raise :class:`InstabilityError` (with the time step advice) on a non-finite state."""
    if not np.all(np.isfinite(state.x)) or (
        state.v is not None and not np.all(np.isfinite(state.v))
    ):
        raise InstabilityError(
            f"{integ.name}: non-finite positions/velocities at t = {state.t:g} ps; dt = "
            f"{integ.dt:g} ps is too large for the force field (pass max_curvature to get the "
            "stability limit checked up front) or the force is singular"
        )


def run(
    integrator: Integrator,
    state: ParticleState,
    n_steps: int,
    rng: np.random.Generator | int,
    *,
    record_every: int = 0,
    progress: bool = False,
    check_every: int = 1000,
) -> tuple[ParticleState, Trajectory]:
    """Advance ``n_steps`` steps (in place on a copy of ``state``); record every k-th step.

    Returns the final state and the recorded trajectory (empty if ``record_every`` is 0). A tqdm
    progress bar is shown with ``progress=True``.
    """
    rng = as_generator(rng)
    s = state.copy()
    buf = np.empty_like(s.x)
    times, xs, vs = [], [], []
    steps = range(1, int(n_steps) + 1)
    if progress:
        from tqdm.auto import tqdm

        steps = tqdm(steps, desc=integrator.name, unit="step", mininterval=0.5)
    t0 = s.t
    for k in steps:
        with np.errstate(over="ignore", invalid="ignore"):  # caught by check_finite
            integrator.advance(s, rng, buf)
        if record_every and k % record_every == 0:
            times.append(t0 + k * integrator.dt)
            xs.append(s.x.copy())
            if s.v is not None:
                vs.append(s.v.copy())
        if k % check_every == 0:
            check_finite(s, integrator)
    s = replace(s, t=t0 + int(n_steps) * integrator.dt)
    check_finite(s, integrator)
    traj = Trajectory(
        np.array(times),
        np.array(xs) if xs else np.empty((0, *s.x.shape)),
        np.array(vs) if vs else None,
    )
    return s, traj
