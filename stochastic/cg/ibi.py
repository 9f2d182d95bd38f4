"""Iterative Boltzmann inversion (IBI) with optional pressure correction.

Start from the direct Boltzmann inversion ``U_0(r) = -kT ln g_target(r)`` and iterate
``U_{n+1} = U_n + alpha kT ln(g_n / g_target)`` (Reith, Puetz & Mueller-Plathe, J. Comput.
Chem. 24, 1624 (2003)). The update is smoothed with a binomial filter; where g is (nearly)
zero (the excluded core) no update is possible and the potential is continued by a steep
exponential wall matching U and the force at the first populated bin. The optional pressure
correction of the same paper adds ``dU_P(r) = A (1 - r/r_c)`` with
``A = -sign(dP) min(A_max, s |dP|)``, ``dP = P_n - P_target``, ``A_max = 0.1 kT`` by default.

The loop is engine-agnostic: a ``simulate(tables) -> (rdfs, pressure)`` callable runs the CG
model (e.g. :class:`stochastic.cg.sampling.FluidSampler` with
:class:`stochastic.cg.tabulated.TabulatedPair`). With a ``workdir`` every iteration's potential,
RDF, distance and pressure are written atomically (``iter_NNN.npz``) and a new run continues
from the last stored iteration.

Convergence is judged against the statistical noise of each run: when the RDFs carry per-bin
block-averaged standard errors (``RDF.g_error``, from :func:`stochastic.cg.targets.compute_rdf`)
the RMS RDF distance must fall below ``noise_factor`` times the distance two independent runs of
the same model would show (:func:`stochastic.cg.targets.rdf_noise`), and the pressure
difference below ``noise_factor`` times its combined standard error. Without error estimates the
absolute ``tolerance`` and ``pressure_tolerance`` apply. If no iteration meets the criteria the
iteration with the best score (squared distances in units of the criteria) is returned with
``converged=False`` (``strict=True`` raises :class:`CGConvergenceError` carrying the history).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from poreflux.files import atomic_write_bytes
from stochastic.cg.errors import CGConvergenceError, CGInputError
from stochastic.cg.tabulated import PairTable
from stochastic.cg.targets import RDF, Estimate, check_target, rdf_noise, rdf_rms

log = logging.getLogger(__name__)

Pair = tuple[str, str]
#: ``simulate(tables) -> ({pair: RDF}, pressure [kJ/mol/nm^3])``; the pressure may be an
#: :class:`~stochastic.cg.targets.Estimate` (mean and standard error) or a plain float.
Simulate = Callable[[dict[Pair, PairTable]], tuple[dict[Pair, RDF], "float | Estimate"]]


@dataclass(frozen=True)
class IBISettings:
    """IBI parameters.

    Parameters
    ----------
    temperature
        Temperature [K].
    alpha
        Update step size in (0, 1].
    max_iterations
        Iterations run at most; then the best iteration is returned (``strict``: raise).
    tolerance
        Absolute RMS RDF distance criterion, used when the RDFs carry no error estimate.
    noise_factor
        With error estimates, converged when the RMS RDF distance is below ``noise_factor``
        times the noise floor (:func:`stochastic.cg.targets.rdf_noise`) and ``|P - P_target|``
        below ``noise_factor`` times the combined pressure standard error. None: use the
        absolute tolerances throughout.
    g_min
        Bins with g below this are treated as empty (core region; extrapolated).
    smooth
        Width (bins, odd) of the binomial filter applied to each update; 1 = none.
    pressure_target
        Target pressure [kJ/mol/nm^3]; None disables the pressure correction.
    pressure_tolerance
        With a pressure target and no pressure error estimate, convergence also needs
        ``|P - P_target|`` below this [kJ/mol/nm^3].
    pressure_target_error
        Standard error of the target pressure [kJ/mol/nm^3] (adds to the CG run's error).
    pressure_scale
        ``s`` in ``|A| = min(A_max, s |dP|)`` [kJ/mol per kJ/mol/nm^3].
    pressure_max_kt
        ``A_max`` in units of kT.
    table_spacing
        Grid spacing of the tables handed to the engine [nm].
    imc_from
        From this iteration on, replace the IBI step by the inverse Monte Carlo (Newton) step
        of Lyubartsev & Laaksonen, Phys. Rev. E 52, 3730 (1995), when the engine returns
        per-frame pair counts (``RDF.frame_counts``); None = IBI throughout. IBI converges the
        long-wavelength part of the potential very slowly in dense liquids; IMC does not.
        Implemented for one pair type (with several, cross-pair responses would be needed and
        the IBI step is used).
    imc_regularization
        Tikhonov weight (relative to the mean variance) added to the pair-count covariance.
    min_iterations
        Do not stop before this many iterations even if the criteria are met (the RDF distance
        falls below a loose tolerance long before the potential has settled).
    strict
        Raise :class:`CGConvergenceError` instead of returning the best iteration when no
        iteration meets the criteria.
    """

    temperature: float
    alpha: float = 1.0
    max_iterations: int = 30
    tolerance: float = 0.02
    g_min: float = 1e-3
    smooth: int = 3
    pressure_target: float | None = None
    pressure_tolerance: float = 0.05
    pressure_scale: float = 0.2
    pressure_max_kt: float = 0.1
    table_spacing: float = 0.002
    imc_from: int | None = None
    imc_regularization: float = 1e-2
    min_iterations: int = 1
    noise_factor: float | None = 1.5
    pressure_target_error: float = 0.0
    strict: bool = False

    def __post_init__(self) -> None:
        if not 0 < self.alpha <= 1:
            raise CGInputError(f"alpha must be in (0, 1], got {self.alpha}")
        if self.temperature <= 0:
            raise CGInputError(f"temperature must be > 0 K, got {self.temperature}")
        if self.max_iterations < 1 or self.tolerance <= 0:
            raise CGInputError("need max_iterations >= 1 and tolerance > 0")
        if self.smooth < 1 or self.smooth % 2 == 0:
            raise CGInputError(f"smooth must be an odd number of bins >= 1, got {self.smooth}")
        if self.noise_factor is not None and not self.noise_factor > 0:
            raise CGInputError(f"noise_factor must be > 0 or None, got {self.noise_factor}")
        if not (self.pressure_tolerance > 0 and self.pressure_target_error >= 0):
            raise CGInputError("need pressure_tolerance > 0 and pressure_target_error >= 0")
        if self.pressure_target is not None and not np.isfinite(self.pressure_target):
            raise CGInputError(f"pressure_target must be finite, got {self.pressure_target}")

    @property
    def kt(self) -> float:
        """k_B T [kJ/mol]."""
        from stochastic.md.system import KB_KJ_PER_MOL_K

        return KB_KJ_PER_MOL_K * self.temperature


@dataclass(frozen=True)
class IBIIteration:
    """One iteration: potentials (on the RDF bin centres) used, RDFs obtained, distances.

    ``noise`` is the RDF noise floor of the worst pair (nan if unknown), ``pressure_error`` the
    standard error of the run's mean pressure (nan if unknown).
    """

    index: int
    potentials: dict[Pair, np.ndarray]
    rdfs: dict[Pair, RDF]
    distance: float
    pressure: float
    wall_time: float
    noise: float = float("nan")
    pressure_error: float = float("nan")

    def describe(self) -> str:
        """One line for logs and error messages."""
        return (
            f"iter {self.index:3d}: RDF rms {self.distance:.4f} (noise {self.noise:.4f}), "
            f"P {self.pressure:+.4f} +- {self.pressure_error:.4f}"
        )


@dataclass(frozen=True)
class IBIResult:
    """Chosen potentials as tables and on the RDF grid, and the whole history.

    ``best`` is the index of the iteration whose potentials are returned: the first one meeting
    the criteria (``converged``) or else the one with the lowest score.
    """

    tables: dict[Pair, PairTable]
    potentials: dict[Pair, np.ndarray]
    r: np.ndarray
    history: tuple[IBIIteration, ...]
    best: int = -1
    converged: bool = True

    @property
    def n_iterations(self) -> int:
        """Number of iterations run."""
        return len(self.history)

    @property
    def best_iteration(self) -> IBIIteration:
        """The iteration whose potentials were returned (distance, noise, pressure)."""
        return self.history[self.best]


def pressure_and_error(pressure: float | Estimate) -> tuple[float, float]:
    """(mean, standard error) from an engine's pressure (nan error for a plain float)."""
    if isinstance(pressure, Estimate):
        value, error = float(pressure.value), float(pressure.error)
    else:
        value, error = float(pressure), float("nan")
    if not np.isfinite(value):
        raise CGInputError(f"the simulation returned a non-finite pressure ({value})")
    return value, error


def rdf_distance(rdfs: dict[Pair, RDF], targets: dict[Pair, RDF]) -> tuple[float, float]:
    """RMS distance of the worst pair and that pair's noise floor (nan if unknown)."""
    for p in targets:
        if p not in rdfs:
            raise CGInputError(f"the simulation returned no RDF for pair {p}")
    dists = {p: rdf_rms(rdfs[p], t) for p, t in targets.items()}
    worst = max(dists, key=lambda p: dists[p])
    return dists[worst], rdf_noise(rdfs[worst], targets[worst])


def boltzmann_inversion(target: RDF, kt: float, g_min: float = 1e-3) -> np.ndarray:
    """``-kT ln g`` on the bin centres, linearly extrapolated into the empty core."""
    first = check_target(target, g_min)
    u = np.empty_like(target.g)
    u[first:] = -kt * np.log(target.g[first:])
    return _extrapolate_core(target.r, u, first)


def _extrapolate_core(r: np.ndarray, u: np.ndarray, first: int) -> np.ndarray:
    """Repulsive continuation below bin ``first``, continuous in U and force.

    ``U(r) = U_f + (F_f / k) (exp(k (r_f - r)) - 1)`` with ``k = 13 / r_f`` (the logarithmic
    steepening ``-d ln F / d r`` of an ``r^-12`` wall) and ``F_f >= kT``-scale positive force
    from the slope of the first populated bins: a soft linear core would let CG beads into the
    excluded region and wreck the pressure.
    """
    out = u.copy()
    if first == 0:
        return out
    k = min(first + 2, len(u) - 1)
    force = -(u[k] - u[first]) / (r[k] - r[first])
    force = max(force, abs(u[k] - u[first]) / max(r[k] - r[first], 1e-12), 1.0)
    rf = r[first]
    kappa = 13.0 / rf
    out[:first] = u[first] + force / kappa * np.expm1(kappa * (rf - r[:first]))
    return out


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Binomial filter over ``width`` bins (e.g. 1-2-1 for 3): removes the bin-to-bin zigzag
    (zero response at the grid's Nyquist frequency), which in dense liquids otherwise grows
    from RDF noise from iteration to iteration."""
    if width == 1:
        return x
    kernel = np.array([1.0])
    for _ in range(width - 1):
        kernel = np.convolve(kernel, [0.5, 0.5])
    pad = width // 2
    return np.convolve(np.pad(x, pad, mode="edge"), kernel, mode="valid")


def _atomic_savez(path: Path, **arrays: np.ndarray) -> None:
    atomic_write_bytes(path, lambda fh: np.savez(fh, **arrays))


class IterativeBoltzmannInversion:
    """IBI driver.

    Parameters
    ----------
    targets
        ``{(type_a, type_b): RDF}`` from the mapped reference (all on one grid; the outer edge
        is the cutoff of the CG tables).
    simulate
        Runs the CG model with the given tables and returns ``({pair: RDF}, pressure)``; RDFs
        carrying per-frame pair counts (``compute_rdf(..., keep_frames=True)``) enable the IMC
        step (``IBISettings.imc_from``).
    settings
        :class:`IBISettings`.
    workdir
        Directory for per-iteration files (restart); None keeps everything in memory.
    """

    def __init__(
        self,
        targets: dict[Pair, RDF],
        simulate: Simulate,
        settings: IBISettings,
        workdir: str | Path | None = None,
    ):
        if not targets:
            raise CGInputError("IBI needs at least one target RDF")
        ref = next(iter(targets.values()))
        for t in targets.values():
            ref.check_same_grid(t)
            check_target(t, settings.g_min)
        self.targets = dict(targets)
        self.simulate = simulate
        self.settings = settings
        self.r = ref.r
        self.edges = ref.edges
        self.r_cut = ref.r_max
        self.workdir = Path(workdir) if workdir is not None else None
        if self.workdir is not None:
            self.workdir.mkdir(parents=True, exist_ok=True)

    # --- tables --------------------------------------------------------------------------
    def table(self, u: np.ndarray) -> PairTable:
        """Table for a potential on the bin centres (spline, shifted to 0 at the cutoff)."""
        return PairTable.from_potential(
            self.r, u, self.r_cut, r0=float(self.edges[1]), h=self.settings.table_spacing
        )

    def initial_potentials(self) -> dict[Pair, np.ndarray]:
        """Direct Boltzmann inversion of every target."""
        s = self.settings
        return {p: boltzmann_inversion(t, s.kt, s.g_min) for p, t in self.targets.items()}

    # --- update --------------------------------------------------------------------------
    def update(
        self,
        potentials: dict[Pair, np.ndarray],
        rdfs: dict[Pair, RDF],
        pressure: float,
        iteration: int = 0,
    ) -> dict[Pair, np.ndarray]:
        """One IBI or IMC (and pressure-correction) update of every pair potential."""
        s = self.settings
        out = {}
        for p, u in potentials.items():
            if p not in rdfs:
                raise CGInputError(f"the simulation returned no RDF for pair {p}")
            target, g = self.targets[p], rdfs[p]
            target.check_same_grid(g)
            first = check_target(target, s.g_min)
            ok = (target.g > s.g_min) & (g.g > s.g_min)
            du = np.zeros_like(u)
            use_imc = s.imc_from is not None and iteration >= s.imc_from and len(potentials) == 1
            if use_imc and g.frame_counts is not None and g.ideal is not None:
                du[ok] = s.alpha * self._imc_step(target, g, ok)
            else:
                du[ok] = s.alpha * s.kt * np.log(g.g[ok] / target.g[ok])
            # populated in the target but never visited by the CG model: push in (attract)
            du[(target.g > s.g_min) & (g.g <= s.g_min)] = -s.alpha * s.kt
            du[first:] = _smooth(du[first:], s.smooth)
            new = u + du
            if s.pressure_target is not None:
                dp = pressure - s.pressure_target
                amp = -np.sign(dp) * min(s.pressure_max_kt * s.kt, s.pressure_scale * abs(dp))
                new = new + amp * (1.0 - self.r / self.r_cut)
            new = _extrapolate_core(self.r, new, first)
            out[p] = new
        return out

    def _imc_step(self, target: RDF, g: RDF, sel: np.ndarray) -> np.ndarray:
        """Newton step ``dU = kT C^-1 (<S> - S_target)`` on the bins ``sel``.

        ``S`` are the per-frame pair counts, ``C`` their covariance: for ``H = sum_k U_k S_k``,
        ``d<S_j>/dU_k = -C_jk / kT``. In the dilute limit ``C = diag(<S>)`` and the step is the
        IBI step ``kT ln(<S>/S_target)`` to first order.
        """
        assert g.frame_counts is not None and g.ideal is not None
        counts = g.frame_counts[:, sel]
        mean = counts.mean(0)
        want = target.g[sel] * g.ideal[sel]
        cov = np.atleast_2d(np.cov(counts, rowvar=False))
        lam = self.settings.imc_regularization * float(np.mean(np.diag(cov)))
        cov[np.diag_indices_from(cov)] += lam
        return self.settings.kt * np.linalg.solve(cov, mean - want)

    # --- persistence ---------------------------------------------------------------------
    def _path(self, k: int) -> Path:
        assert self.workdir is not None
        return self.workdir / f"iter_{k:03d}.npz"

    def _save(self, it: IBIIteration) -> None:
        if self.workdir is None:
            return
        arrays: dict[str, np.ndarray] = {
            "edges": self.edges,
            "distance": np.array(it.distance),
            "pressure": np.array(it.pressure),
            "wall_time": np.array(it.wall_time),
            "noise": np.array(it.noise),
            "pressure_error": np.array(it.pressure_error),
            "pairs": np.array([f"{a}|{b}" for a, b in it.potentials]),
        }
        for k, (p, u) in enumerate(it.potentials.items()):
            arrays[f"u_{k}"] = u
            arrays[f"g_{k}"] = it.rdfs[p].g
        _atomic_savez(self._path(it.index), **arrays)

    def _load(self, k: int) -> IBIIteration:
        with np.load(self._path(k)) as d:
            if d["edges"].shape != self.edges.shape or not np.allclose(d["edges"], self.edges):
                raise CGInputError(
                    f"{self._path(k)} was written for a different RDF grid; use a fresh "
                    "workdir for a new target"
                )
            pairs = [tuple(s.split("|")) for s in d["pairs"]]
            if set(pairs) != set(self.targets):
                raise CGInputError(f"{self._path(k)} holds pairs {pairs}, targets differ")
            pots = {p: d[f"u_{i}"].copy() for i, p in enumerate(pairs)}
            rdfs = {p: RDF(self.edges, d[f"g_{i}"].copy(), p) for i, p in enumerate(pairs)}
            extra = {key: float(d[key]) for key in ("noise", "pressure_error") if key in d.files}
            return IBIIteration(
                k, pots, rdfs, float(d["distance"]), float(d["pressure"]),
                float(d["wall_time"]), **extra,
            )  # fmt: skip

    def load_history(self) -> list[IBIIteration]:
        """Iterations stored in ``workdir`` (consecutive from 0), checked against the targets."""
        if self.workdir is None:
            return []
        hist: list[IBIIteration] = []
        while self._path(len(hist)).exists():
            hist.append(self._load(len(hist)))
        return hist

    # --- convergence ---------------------------------------------------------------------
    def scales(self, it: IBIIteration) -> tuple[float, float]:
        """The RDF distance and ``|P - P_target|`` an iteration must stay below.

        ``noise_factor`` times the measured noise where the run reports it, else the absolute
        tolerances.
        """
        s = self.settings
        rdf_scale, p_scale = s.tolerance, s.pressure_tolerance
        if s.noise_factor is not None:
            if np.isfinite(it.noise) and it.noise > 0:
                rdf_scale = s.noise_factor * it.noise
            p_err = float(np.hypot(it.pressure_error, s.pressure_target_error))
            if np.isfinite(p_err) and p_err > 0:
                p_scale = s.noise_factor * p_err
        return rdf_scale, p_scale

    def score(self, it: IBIIteration, scales: tuple[float, float] | None = None) -> float:
        """Squared RDF (and pressure) distance in units of the criteria (< 1 each when met).

        ``scales`` overrides the iteration's own criteria (to rank iterations on one scale).
        """
        rdf_scale, p_scale = self.scales(it) if scales is None else scales
        out = (it.distance / rdf_scale) ** 2
        if self.settings.pressure_target is not None:
            out += ((it.pressure - self.settings.pressure_target) / p_scale) ** 2
        return float(out)

    def converged(self, it: IBIIteration) -> bool:
        """Whether an iteration meets the RDF (and pressure) criteria."""
        s = self.settings
        rdf_scale, p_scale = self.scales(it)
        ok = it.distance < rdf_scale and it.index + 1 >= s.min_iterations
        if s.pressure_target is not None:
            ok = ok and abs(it.pressure - s.pressure_target) < p_scale
        return ok

    # --- loop ----------------------------------------------------------------------------
    def _iterate(self, k: int, pots: dict[Pair, np.ndarray]) -> tuple[IBIIteration, dict]:
        """Run the CG model with ``pots``; return the iteration record and the full RDFs."""
        t0 = time.perf_counter()
        tables = {p: self.table(u) for p, u in pots.items()}
        rdfs, pressure = self.simulate(tables)
        p_value, p_error = pressure_and_error(pressure)
        dist, noise = rdf_distance(rdfs, self.targets)
        slim = {p: replace(g, frame_counts=None) for p, g in rdfs.items()}  # memory
        it = IBIIteration(k, pots, slim, dist, p_value, time.perf_counter() - t0, noise, p_error)
        return it, rdfs

    def run(self) -> IBIResult:
        """Iterate until converged or ``max_iterations``; see the module docstring."""
        s = self.settings
        history = self.load_history()
        if history:
            last = history[-1]
            if self.converged(last):
                return self._result(history, True)
            pots = self.update(last.potentials, last.rdfs, last.pressure, last.index)
            log.info("IBI: restarting after %d stored iterations", len(history))
        else:
            pots = self.initial_potentials()
        while len(history) < s.max_iterations:
            it, rdfs = self._iterate(len(history), pots)
            history.append(it)
            self._save(it)
            log.info("IBI %s", it.describe())
            if self.converged(it):
                return self._result(history, True)
            pots = self.update(pots, rdfs, it.pressure, it.index)
        lines = "\n".join(h.describe() for h in history)
        message = (
            f"IBI did not converge (criteria not met) in {s.max_iterations} iterations; "
            f"history:\n{lines}"
        )
        if s.strict:
            raise CGConvergenceError(
                f"{message}\nTry more iterations, a smaller alpha, longer CG runs (less noisy "
                "RDFs) or a looser noise_factor / tolerance.",
                history,
            )
        result = self._result(history, False)
        log.warning("%s\nreturning the best: %s", message, result.best_iteration.describe())
        return result

    def _result(self, history: list[IBIIteration], converged: bool) -> IBIResult:
        best = len(history) - 1
        if not converged:  # rank on the median criteria: a noisy run must not look better
            common = tuple(np.median([self.scales(h) for h in history], axis=0))
            best = int(np.argmin([self.score(h, common) for h in history]))
        pots = history[best].potentials
        tables = {p: self.table(u) for p, u in pots.items()}
        return IBIResult(tables, pots, self.r, tuple(history), best, converged)
