"""CG dynamics with memory: a GLE thermostat whose kernel is fitted to the mapped reference VACF.

A CG potential (IBI, force matching) reproduces structure; friction calibration
(:mod:`stochastic.cg.mobility`) adds a Langevin friction that restores D only. The missing
degrees of freedom act on a bead through a friction with *memory*: the generalized Langevin
equation (Mori-Zwanzig), ``M dV/dt = F_CG(R) - int_0^t K(s) V(t - s) ds + dF(t)``,
``<dF(0) dF(t)> = kT K(t)``. This module runs it on the MD core and fits K from data:

1. Total kernels. The velocity autocorrelation C(t) of a bead (per Cartesian component) defines
   a total memory kernel by ``M dC/dt = -int_0^t K_tot(s) C(t - s) ds`` (Volterra inversion,
   :func:`stochastic.memory.kernel_from_vacf`); it holds everything that decorrelates the
   velocity, the CG pair forces included.
2. Thermostat kernel. The CG dynamics with a GLE thermostat K_th has, to first order, a total
   kernel ``K_tot,CG = K_cons + K_th`` where ``K_cons`` is the total kernel of the Newtonian CG
   model. So ``K_th = K_tot,ref - K_cons`` is the first guess and iterative memory
   reconstruction (Jung, Hanke & Schmid, J. Chem. Theory Comput. 13, 2481 (2017)) corrects it:
   ``K_th <- K_th + (K_tot,ref - K_tot,CG[K_th])`` (:func:`memory_reconstruction`).
3. Embedding. K_th is fitted by a sum of exponentials and damped oscillations
   (:func:`stochastic.memory.fit_exponentials`, non-negative amplitudes: a positive-definite
   kernel) and integrated exactly by auxiliary Ornstein-Uhlenbeck variables per bead and
   component (:class:`GLEThermostat`, BAOAB with the exact O step of
   :mod:`stochastic.memory.gle`; Ceriotti, Bussi & Parrinello, J. Chem. Theory Comput. 6, 1170
   (2010)).

The plain Langevin thermostat is the special case ``K_th = 2 M gamma delta(t)``; its VACF decays
exponentially where the reference one has the shape of the caging and of the slow friction.

Units: nm, ps, amu, kJ/mol, K; K in amu/ps^2; C in nm^2/ps^2; D in nm^2/ps.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from stochastic.cg.errors import CGInputError
from stochastic.md.system import KB_KJ_PER_MOL_K
from stochastic.memory import (
    ExponentialFit,
    ExponentialKernel,
    autocorrelation,
    fit_exponentials,
    kernel_from_vacf,
)
from stochastic.memory.gle import embedding_propagators

__all__ = [
    "GLEThermostat",
    "MemoryReconstruction",
    "VACFRecorder",
    "memory_reconstruction",
    "run_recorded",
    "thermostat_kernel",
    "vacf_shape_rms",
]


@dataclass
class GLEThermostat:
    """BAOAB with the O step of a GLE: auxiliary OU variables per particle and component.

    Parameters
    ----------
    dt
        Time step [ps].
    temperature
        [K].
    kernels
        Bead type name -> :class:`~stochastic.memory.ExponentialKernel` (types not listed move
        Newtonian).
    type_names
        Type name of every particle (length N), e.g. ``[t.name for t in system.types][i]``.
    masses
        Particle masses [amu] (one mass per type).
    seed
        Random seed or generator.
    """

    dt: float
    temperature: float
    kernels: dict[str, ExponentialKernel]
    type_names: Sequence[str]
    masses: np.ndarray
    seed: int | np.random.Generator | None = None
    conserves_momentum: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        if not (np.isfinite(self.dt) and self.dt > 0):
            raise CGInputError(f"dt must be > 0 ps, got {self.dt!r}")
        if not (np.isfinite(self.temperature) and self.temperature > 0):
            raise CGInputError(f"temperature must be > 0 K, got {self.temperature!r}")
        names = np.asarray(list(self.type_names))
        m = np.asarray(self.masses, dtype=float)
        if m.shape != names.shape:
            raise CGInputError("masses and type_names need one entry per particle")
        s = self.seed
        self.rng = s if isinstance(s, np.random.Generator) else np.random.default_rng(s)
        kt = KB_KJ_PER_MOL_K * self.temperature
        self._groups = []
        for name, kernel in self.kernels.items():
            idx = np.flatnonzero(names == name)
            if idx.size == 0:
                raise CGInputError(f"no particle of type {name!r} for its GLE kernel")
            mass = float(m[idx[0]])
            if not np.allclose(m[idx], mass):
                raise CGInputError(f"particles of type {name!r} must share one mass")
            t_mat, l_mat = embedding_propagators(kernel, mass, self.temperature, self.dt)
            w = self.rng.standard_normal((idx.size, 3, kernel.n_aux))
            self._groups.append((idx, t_mat, l_mat, w, kt / mass))

    def _o_step(self, v: np.ndarray) -> None:
        """Exact OU update of (v, w) of every thermostatted particle (in place)."""
        for k, (idx, t_mat, l_mat, w, _) in enumerate(self._groups):
            u = np.concatenate([v[idx][..., None], w], axis=2)  # (n, 3, 1 + n_aux)
            xi = self.rng.standard_normal(u.shape)
            u = u @ t_mat.T + xi @ l_mat.T
            v[idx] = u[..., 0]
            self._groups[k] = (idx, t_mat, l_mat, u[..., 1:].copy(), self._groups[k][4])

    def step(self, sim) -> None:
        """Advance one time step of a :class:`stochastic.md.simulation.Simulation`."""
        h = 0.5 * self.dt
        sim.v += h * sim.f * sim.inv_m[:, None]
        sim.x += h * sim.v
        self._o_step(sim.v)
        sim.x += h * sim.v
        sim.evaluate()
        sim.v += h * sim.f * sim.inv_m[:, None]


@dataclass
class VACFRecorder:
    """An MD reporter accumulating the (mapped) VACF block by block, without storing frames.

    Every ``interval`` steps the velocities (mapped to beads by ``mapping`` if given) go into a
    buffer of ``block`` frames; a full buffer becomes one block VACF (all origins, beads and
    components, lags ``0..max_lag``). Blocks far longer than the VACF's decay are independent:
    their scatter gives the standard errors (:meth:`vacf`, :meth:`diffusion`).
    """

    interval: int
    block: int
    max_lag: int
    frame_dt: float
    mapping: object | None = None
    blocks: list = field(default_factory=list)
    _buffer: list = field(default_factory=list)

    def __post_init__(self) -> None:
        if int(self.block) < 2 * int(self.max_lag) or int(self.max_lag) < 2:
            raise CGInputError(
                f"need max_lag >= 2 and blocks of >= 2 max_lag frames, got block = {self.block}, "
                f"max_lag = {self.max_lag}"
            )

    def report(self, sim) -> None:
        """Store the current (mapped) velocities; close a block when it is full."""
        v = sim.v if self.mapping is None else self.mapping.map_velocities(sim.v[None])[0]
        self._buffer.append(np.array(v, dtype=float))
        if len(self._buffer) == int(self.block):
            self.blocks.append(autocorrelation(np.array(self._buffer), int(self.max_lag)))
            self._buffer = []

    @property
    def t(self) -> np.ndarray:
        """Lags [ps]."""
        return np.arange(int(self.max_lag) + 1) * float(self.frame_dt)

    def vacf(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean VACF over blocks [nm^2/ps^2] and its standard error (NaN with one block)."""
        if not self.blocks:
            raise CGInputError("no complete VACF block yet: run at least `block` intervals")
        b = np.array(self.blocks)
        se = b.std(axis=0, ddof=1) / np.sqrt(len(b)) if len(b) > 1 else np.full(b.shape[1], np.nan)
        return b.mean(axis=0), se

    def diffusion(self, t_max: float | None = None) -> tuple[float, float]:
        """Green-Kubo ``D = int_0^t_max C dt`` [nm^2/ps] and its block standard error."""
        t = self.t
        n = t.size if t_max is None else int(np.searchsorted(t, t_max + 1e-12))
        d = np.array([np.trapezoid(c[:n], t[:n]) for c in self.blocks])
        se = d.std(ddof=1) / np.sqrt(d.size) if d.size > 1 else float("nan")
        return float(d.mean()), float(se)


def run_recorded(forcefield, integrator, positions, velocities, n_steps, recorders=()):
    """Run MD with reporters; return the final positions and velocities (to continue from)."""
    from stochastic.md.simulation import Simulation

    sim = Simulation(forcefield, integrator, positions, velocities)
    sim.run(int(n_steps), list(recorders))
    return sim.x.copy(), sim.v.copy()


def vacf_shape_rms(c_a: np.ndarray, c_b: np.ndarray) -> float:
    """RMS of ``C_a/C_a(0) - C_b/C_b(0)`` over the given lags (the VACF shape difference)."""
    a, b = np.asarray(c_a, float), np.asarray(c_b, float)
    if a.shape != b.shape or a.ndim != 1 or not (a[0] > 0 and b[0] > 0):
        raise CGInputError("need two VACFs on the same lags with positive values at lag 0")
    return float(np.sqrt(np.mean((a / a[0] - b / b[0]) ** 2)))


def thermostat_kernel(
    t: np.ndarray,
    k_target: np.ndarray,
    integral: float,
    n_terms: int = 2,
    n_oscillatory: int = 1,
) -> ExponentialFit:
    """Fit a thermostat kernel (tabulated, amu/ps^2) by non-negative exponentials and damped
    oscillations whose integral is held at ``integral`` [amu/ps] (the friction that gives D).

    A total-kernel difference dips below zero after its initial spike (the reference's faster
    velocity decorrelation is followed by less back-scattering); a damped oscillation with a
    positive amplitude represents such a lobe and keeps the kernel positive definite.
    """
    return fit_exponentials(t, k_target, n_terms, n_oscillatory=n_oscillatory, integral=integral)


@dataclass(frozen=True)
class MemoryReconstruction:
    """Result of :func:`memory_reconstruction`.

    ``kernel`` is the best of the kernels that were run (see :func:`memory_reconstruction`);
    per run: the kernel, the tabulated target it was fitted to, the integral it was fitted
    with [amu/ps], and the CG run's VACF shape error and D [nm^2/ps].
    """

    kernel: ExponentialKernel
    fit: ExponentialFit
    kernels: tuple[ExponentialKernel, ...]
    targets: tuple[np.ndarray, ...]
    integrals: tuple[float, ...]
    shape_rms: tuple[float, ...]
    diffusion: tuple[float, ...]
    best: int


def _best_run(shapes: list[float], ds: list[float], d_ref: float, d_tol: float) -> int:
    """The run with the smallest VACF shape error among those with ``|D/D_ref - 1| <= d_tol``,
    else the one with the smallest D error."""
    err = np.abs(np.asarray(ds) / d_ref - 1.0)
    ok = np.flatnonzero(err <= d_tol)
    if ok.size:
        return int(ok[np.argmin(np.asarray(shapes)[ok])])
    return int(np.argmin(err))


def memory_reconstruction(
    t: np.ndarray,
    vacf_ref: np.ndarray,
    vacf_newton: np.ndarray,
    run_cg: Callable[[ExponentialKernel], tuple[np.ndarray, float]],
    mass: float,
    temperature: float,
    *,
    d_ref: float,
    d_newton: float,
    n_runs: int = 4,
    n_terms: int = 2,
    n_oscillatory: int = 1,
    relaxation: float = 0.5,
    d_tolerance: float = 0.05,
) -> MemoryReconstruction:
    """Thermostat kernel from the reference VACF by iterative memory reconstruction.

    Shape: the first target is ``K_tot,ref - K_tot,newton`` (Volterra inversions of the VACFs
    on ``t``), then ``K_th + relaxation (K_tot,ref - K_tot,CG[K_th])`` (Jung, Hanke & Schmid
    2017). Integral (the long-time friction, hence D): first ``kT (1/D_ref - 1/D_newton)``
    (friction additivity), then ``+ relaxation kT (1/D_ref - 1/D_CG)`` after each run; the fit
    holds it exactly (the integral of a kernel inverted on a finite grid is the least accurate
    part of it, and the CG friction is not additive: the damped update avoids overshooting).
    Every fitted kernel is run once; the returned one has the smallest VACF shape error among
    those with ``|D/D_ref - 1| <= d_tolerance`` (else the smallest D error): run it again
    (independently) to quote its D and shape.

    Parameters
    ----------
    t
        Uniform lags [ps] from 0 (cut where the reference kernel has decayed).
    vacf_ref, vacf_newton
        Mapped reference VACF and the Newtonian CG model's VACF on ``t`` [nm^2/ps^2].
    run_cg
        ``run_cg(kernel) -> (VACF on t, D)`` of the CG model with that GLE thermostat.
    mass, temperature
        Bead mass [amu], [K].
    d_ref, d_newton
        Reference and Newtonian CG diffusion coefficients [nm^2/ps] (e.g. Green-Kubo).
    n_runs
        CG runs (kernels tried), >= 1.
    n_terms, n_oscillatory, relaxation, d_tolerance
        Fit terms, the step factor of the updates and the D tolerance of the selection.
    """
    kt = KB_KJ_PER_MOL_K * float(temperature)
    integral = kt * (1.0 / d_ref - 1.0 / d_newton)
    if not integral > 0 or int(n_runs) < 1:
        raise CGInputError(
            f"need n_runs >= 1 and a Newtonian CG model faster (D = {d_newton:.4g}) than the "
            f"reference (D = {d_ref:.4g}): a thermostat can only slow it down"
        )
    k_ref = kernel_from_vacf(t, vacf_ref, mass, temperature).K
    target = k_ref - kernel_from_vacf(t, vacf_newton, mass, temperature).K
    fits, targets, integrals, shapes, ds = [], [], [], [], []
    for _ in range(int(n_runs)):
        fit = thermostat_kernel(t, target, integral, n_terms, n_oscillatory)
        fits.append(fit)
        targets.append(target)
        integrals.append(integral)
        c_cg, d_cg = run_cg(fit.kernel)
        shapes.append(vacf_shape_rms(vacf_ref, c_cg))
        ds.append(float(d_cg))
        step = relaxation * kt * (1.0 / d_ref - 1.0 / d_cg)
        integral = integral + step if integral + step > 0 else 0.5 * integral
        k_cg = kernel_from_vacf(t, c_cg, mass, temperature).K
        target = fit.kernel(t) + relaxation * (k_ref - k_cg)
    best = _best_run(shapes, ds, d_ref, d_tolerance)
    return MemoryReconstruction(
        fits[best].kernel, fits[best], tuple(f.kernel for f in fits), tuple(targets),
        tuple(integrals), tuple(shapes), tuple(ds), best,
    )  # fmt: skip
