"""Relative-entropy minimisation (Shell) of CG pair potentials on a cubic B-spline basis.

The CG pair potential of each type pair is ``U(r) = sum_k lambda_k B_k(r)`` on clamped cubic
B-splines over ``[r_min, r_cut]``, the last two basis functions dropped so that U and dU/dr
vanish at the cutoff; below ``r_min`` (the excluded core of the target) U is continued by the
steep wall of :mod:`stochastic.cg.ibi`. With ``S_k = sum_pairs B_k(r_ij)`` (one frame's value of
``dU/dlambda_k``) the relative entropy of the mapped reference with respect to the CG model is,
up to a constant (Shell, J. Chem. Phys. 129, 144108 (2008); Chaimovich & Shell, J. Chem. Phys.
134, 094112 (2011)),

    S_rel(lambda) = beta lambda . <S>_AA + ln Z_CG(lambda) + const,
    grad = beta (<S>_AA - <S>_CG),       Hessian = beta^2 Cov_CG(S).

The potential being linear in ``lambda``, the Newton step is the inverse Monte Carlo step of
Lyubartsev & Laaksonen (on a spline basis instead of bins): IMC and (with forces) MS-CG are
projections of this one variational principle. Each iteration runs the CG model once and then
takes a Newton step (capped at ``step_max_kt`` kT change of U), then further Newton steps on
that ensemble reweighted to the trial parameters (``w_f ~ exp(-beta dlambda . S_f)``) as long
as the effective sample size of the reweighted ensemble stays above ``min_ess``. A second-difference
smoothness prior ``(mu/2) |D2 lambda|^2`` is added to S_rel.

S_rel is reported per iteration relative to the first one: the change between iterations n and
n+1 is ``beta dlambda . <S>_AA + ln <exp(-beta dlambda . S)>_n``, averaged with the reverse
estimate ``- ln <exp(beta dlambda . S)>_{n+1}`` (free-energy perturbation both ways).
Several state points are fitted at once by summing S_rel over them
(:class:`~stochastic.cg.multistate.StatePoint`). Pair counts come from the engine's RDFs with
per-frame counts (``compute_rdf(..., keep_frames=True)``), so B_k is evaluated at bin centres.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
from scipy.interpolate import BSpline
from scipy.special import logsumexp

from poreflux.files import atomic_write_bytes
from stochastic.cg.errors import CGConvergenceError, CGInputError
from stochastic.cg.ibi import Pair, _extrapolate_core, boltzmann_inversion, pressure_and_error
from stochastic.cg.multistate import StatePoint, check_states
from stochastic.cg.tabulated import PairTable
from stochastic.cg.targets import RDF, check_target, rdf_noise, rdf_rms

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RelEntSettings:
    """Relative-entropy parameters.

    Parameters
    ----------
    n_knots
        Knot intervals of the cubic B-spline basis per pair on ``[r_min, r_cut]``.
    max_iterations
        CG simulations at most; then the best iteration is returned (``strict``: raise).
    noise_factor
        Converged when every state's RDF distance is below ``noise_factor`` times its noise floor
        (:func:`stochastic.cg.targets.rdf_noise`) or, without error estimates, ``tolerance``.
    tolerance
        Absolute RMS RDF criterion when the RDFs carry no errors.
    min_iterations
        Do not stop earlier.
    smoothness
        Weight of the second-difference prior, relative to the mean diagonal of the Hessian.
    step_max_kt
        Largest change of U [kT] allowed in one Newton step.
    reweight_steps
        Newton steps taken on one (reweighted) CG ensemble.
    min_ess
        Smallest effective sample size (fraction of frames) of a reweighted ensemble.
    g_min
        Target bins below this are the excluded core.
    table_spacing
        Grid spacing [nm] of the tables handed to the engine.
    strict
        Raise :class:`CGConvergenceError` when the criteria are never met.
    pressure_constraint
        Constrain every Newton step to keep each state's CG pressure, linearised in lambda
        through the virial of the reweighted ensemble, at the state's reference pressure
        (``StatePoint.pressure``; needs ``StatePoint.volume``). The RDF of a dense liquid barely
        constrains a slowly varying potential error, the pressure pins exactly that direction.
    """

    n_knots: int = 24
    max_iterations: int = 20
    noise_factor: float | None = 1.5
    tolerance: float = 0.02
    min_iterations: int = 2
    smoothness: float = 1e-3
    step_max_kt: float = 0.5
    reweight_steps: int = 4
    min_ess: float = 0.3
    g_min: float = 1e-3
    table_spacing: float = 0.002
    strict: bool = False
    pressure_constraint: bool = False

    def __post_init__(self) -> None:
        if self.n_knots < 4 or self.max_iterations < 1 or self.reweight_steps < 1:
            raise CGInputError("need n_knots >= 4, max_iterations >= 1 and reweight_steps >= 1")
        if not (0 < self.min_ess < 1 and self.step_max_kt > 0 and self.smoothness >= 0):
            raise CGInputError("need 0 < min_ess < 1, step_max_kt > 0 and smoothness >= 0")
        if self.noise_factor is not None and not self.noise_factor > 0:
            raise CGInputError(f"noise_factor must be > 0 or None, got {self.noise_factor}")


@dataclass(frozen=True)
class RelEntIteration:
    """One CG simulation: parameters used, worst RDF distance and noise, first state's pressure.

    ``s_rel`` is S_rel relative to iteration 0 [dimensionless, summed over states] (nan until the
    step into this iteration has been estimated), ``ess`` the effective sample size fraction of
    the last accepted reweighted step.
    """

    index: int
    coefficients: np.ndarray
    distance: float
    noise: float
    pressure: float
    pressure_error: float
    s_rel: float
    ess: float
    wall_time: float
    distances: dict[str, float] = field(default_factory=dict)

    def describe(self) -> str:
        """One line for logs."""
        return (
            f"iter {self.index:3d}: RDF rms {self.distance:.4f} (noise {self.noise:.4f}), "
            f"P {self.pressure:+.4f} +- {self.pressure_error:.4f}, S_rel {self.s_rel:+.4f}, "
            f"ESS {self.ess:.2f}"
        )


@dataclass(frozen=True)
class RelEntResult:
    """Chosen potentials (tables and on the RDF grid), the history, best index, convergence."""

    tables: dict[Pair, PairTable]
    potentials: dict[Pair, np.ndarray]
    r: np.ndarray
    history: tuple[RelEntIteration, ...]
    best: int
    converged: bool

    @property
    def best_iteration(self) -> RelEntIteration:
        """The iteration whose potentials were returned."""
        return self.history[self.best]


class _Ensemble:
    """Per-frame basis sums S_f (F, K) of one state's CG run and the AA target means.

    With ``virial`` (the bin matrix of ``-r dB_k/dr``) also the per-frame virial basis sums
    T_f (F, K), so that the frame's pair virial is ``W_f = T_f . lambda``.
    """

    def __init__(self, rdfs: dict[Pair, RDF], targets: dict[Pair, RDF], design, beta: float,
                 virial: np.ndarray | None = None):  # fmt: skip
        blocks, want, vir = [], [], []
        for p, t in targets.items():
            g = rdfs.get(p)
            if g is None or g.frame_counts is None or g.ideal is None:
                raise CGInputError(
                    f"relative entropy needs per-frame pair counts for pair {p}: compute the "
                    "CG RDFs with compute_rdf(..., keep_frames=True)"
                )
            t.check_same_grid(g)
            blocks.append(g.frame_counts @ design)
            want.append((t.g * g.ideal) @ design)
            if virial is not None:
                vir.append(g.frame_counts @ virial)
        self.s = np.hstack(blocks)
        self.s_aa = np.concatenate(want)
        self.beta = beta
        self.t = np.hstack(vir) if vir else None
        self.pressure = float("nan")  # the CG run's mean pressure, set by the driver

    def weights(self, dlam: np.ndarray) -> np.ndarray:
        """Normalised reweighting factors of the frames for parameters ``lambda + dlam``."""
        lw = self.log_weights(dlam)
        w = np.exp(lw - lw.max())
        return w / w.sum()

    def virial_change(self, lam: np.ndarray, dlam: np.ndarray) -> tuple[float, np.ndarray]:
        """``<W>_{lam+dlam} - <W>_lam`` [kJ/mol] and its gradient in ``dlam``.

        ``d<W>/d lambda = <T> - beta Cov(W, S)`` on the reweighted ensemble.
        """
        assert self.t is not None
        w = self.weights(dlam)
        wf = self.t @ (lam + dlam)
        mean_w = float(w @ wf)
        grad = w @ self.t - self.beta * ((wf - mean_w) * w) @ (self.s - w @ self.s)
        return mean_w - float(np.mean(self.t @ lam)), grad

    def log_weights(self, dlam: np.ndarray) -> np.ndarray:
        """``-beta dlambda . S_f`` (unnormalised log weights of the reweighted ensemble)."""
        return -self.beta * (self.s @ dlam)

    def moments(self, dlam: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """Reweighted mean, covariance and effective sample size fraction of S."""
        w = self.weights(dlam)
        mean = w @ self.s
        d = self.s - mean
        cov = (d * w[:, None]).T @ d
        return mean, cov, float(1.0 / np.sum(w * w) / len(w))

    def delta_ln_z(self, dlam: np.ndarray) -> float:
        """``ln <exp(-beta dlambda . S)>`` over the frames (free-energy perturbation)."""
        return float(logsumexp(self.log_weights(dlam)) - np.log(len(self.s)))


class RelativeEntropy:
    """Relative-entropy minimisation driver (one or several state points).

    Parameters
    ----------
    states
        :class:`~stochastic.cg.multistate.StatePoint` list (all with one grid and pair set); the
        engines must return RDFs with per-frame counts.
    settings
        :class:`RelEntSettings`.
    workdir
        Directory for per-iteration files (restart); None keeps everything in memory.
    """

    def __init__(
        self,
        states: Sequence[StatePoint],
        settings: RelEntSettings | None = None,
        workdir: str | Path | None = None,
    ):
        check_states(states)
        self.states = tuple(states)
        self.settings = settings or RelEntSettings()
        ref = next(iter(states[0].targets.values()))
        self.pairs = list(states[0].targets)
        self.edges, self.r, self.r_cut = ref.edges, ref.r, ref.r_max
        s = self.settings
        self.first = {p: max(check_target(st.targets[p], s.g_min) for st in states)
                      for p in self.pairs}  # fmt: skip
        r_min = float(self.edges[min(self.first.values())])
        inner = np.linspace(r_min, self.r_cut, s.n_knots + 1)
        self.knots = np.concatenate([[r_min] * 3, inner, [self.r_cut] * 3])
        n_basis = s.n_knots + 3 - 2  # drop the two functions not flat at the cutoff
        rr = np.clip(self.r, r_min, self.r_cut)
        full = BSpline.design_matrix(rr, self.knots, 3).toarray()[:, :n_basis]
        full[self.r < r_min] = 0.0
        self.design = full
        self.n_basis = n_basis
        self.virial = self._virial_design(r_min) if s.pressure_constraint else None
        d2 = np.diff(np.eye(n_basis), 2, axis=0)
        self.penalty = np.kron(np.eye(len(self.pairs)), d2.T @ d2)
        self.workdir = Path(workdir) if workdir is not None else None
        if self.workdir is not None:
            self.workdir.mkdir(parents=True, exist_ok=True)
        self._pending_delta = 0.0  # forward S_rel estimate of the step after the last iteration
        self._next = np.zeros(0)

    def _virial_design(self, r_min: float) -> np.ndarray:
        """Bin matrix of ``-r dB_k/dr`` (pair virial per pair at each bin centre and basis)."""
        missing = [st.label for st in self.states if st.pressure is None or st.volume is None]
        if missing:
            raise CGInputError(
                f"pressure_constraint needs StatePoint.pressure and StatePoint.volume; states "
                f"{missing} lack one of them"
            )
        rr = np.clip(self.r, r_min, self.r_cut)
        eye = np.eye(len(self.knots) - 4)
        d = np.array([BSpline(self.knots, eye[k], 3).derivative()(rr)
                      for k in range(self.n_basis)]).T  # fmt: skip
        d[self.r < r_min] = 0.0
        return -self.r[:, None] * d

    @classmethod
    def single(cls, targets, simulate, temperature, settings=None, workdir=None):
        """Driver for one state point (``targets``, ``simulate``, ``temperature`` [K])."""
        return cls([StatePoint("state", temperature, targets, simulate)], settings, workdir)

    # --- potentials ----------------------------------------------------------------------
    def potentials(self, lam: np.ndarray) -> dict[Pair, np.ndarray]:
        """Potentials [kJ/mol] on the RDF bin centres, wall-continued into the core."""
        out = {}
        for k, p in enumerate(self.pairs):
            u = self.design @ lam[k * self.n_basis : (k + 1) * self.n_basis]
            out[p] = _extrapolate_core(self.r, u, self.first[p])
        return out

    def tables(self, lam: np.ndarray) -> dict[Pair, PairTable]:
        """Tables for the engine (spline through the bin-centre values, 0 at the cutoff)."""
        h = self.settings.table_spacing
        r0 = float(self.edges[1])
        return {p: PairTable.from_potential(self.r, u, self.r_cut, r0=r0, h=h)
                for p, u in self.potentials(lam).items()}  # fmt: skip

    def initial_coefficients(self) -> np.ndarray:
        """Penalised least-squares fit of the first state's Boltzmann inversion."""
        st = self.states[0]
        kt = _kt(st.temperature)
        out = []
        for p in self.pairs:
            u0 = boltzmann_inversion(st.targets[p], kt, self.settings.g_min)
            m = self.r >= self.edges[self.first[p]]
            a = self.design[m]
            d2 = np.diff(np.eye(self.n_basis), 2, axis=0)
            lhs = a.T @ a + 1e-3 * np.mean(np.diag(a.T @ a)) * d2.T @ d2
            out.append(np.linalg.solve(lhs, a.T @ u0[m]))
        return np.concatenate(out)

    # --- Newton steps on reweighted ensembles --------------------------------------------
    def _gradient_hessian(self, ensembles, dlam):
        grad = np.zeros(len(dlam))
        hess = np.zeros((len(dlam), len(dlam)))
        ess = 1.0
        for st, ens in zip(self.states, ensembles, strict=True):
            mean, cov, e = ens.moments(dlam)
            grad += st.weight * ens.beta * (ens.s_aa - mean)
            hess += st.weight * ens.beta**2 * cov
            ess = min(ess, e)
        return grad, hess, ess

    def newton(self, lam: np.ndarray, ensembles: list[_Ensemble]) -> tuple[np.ndarray, float]:
        """Newton steps from ``lam`` on the reweighted ``ensembles``; new lambda and ESS."""
        s = self.settings
        dlam = np.zeros_like(lam)
        _, hess0, _ = self._gradient_hessian(ensembles, dlam)
        mu = s.smoothness * float(np.mean(np.diag(hess0)))
        ridge = 1e-6 * float(np.mean(np.diag(hess0))) * np.eye(len(lam))
        ess = 1.0
        u_max = s.step_max_kt * min(_kt(st.temperature) for st in self.states)
        for sub in range(s.reweight_steps):
            grad, hess, _ = self._gradient_hessian(ensembles, dlam)
            grad = grad + mu * self.penalty @ (lam + dlam)
            step = self._step(hess + mu * self.penalty + ridge, grad, lam, dlam, ensembles)
            size = max(np.max(np.abs(self.design @ step[k : k + self.n_basis]))
                       for k in range(0, len(lam), self.n_basis))  # fmt: skip
            if size > u_max:
                step *= u_max / size
            e = min(ens.moments(dlam + step)[2] for ens in ensembles)
            if sub > 0 and e < s.min_ess:  # the first (IMC-like) step is always taken
                break
            dlam, ess = dlam + step, e
        return lam + dlam, ess

    def _step(self, a, grad, lam, dlam, ensembles) -> np.ndarray:
        """Newton step ``-a^-1 grad``; with the pressure constraint the step of the KKT system
        keeping each state's linearised pressure ``P + dW / (3V)`` at its reference."""
        if self.virial is None:
            return -np.linalg.solve(a, grad)
        rows, rhs = [], []
        for st, ens in zip(self.states, ensembles, strict=True):
            dw, gw = ens.virial_change(lam, dlam)
            scale = 1.0 / (3.0 * st.volume)
            rows.append(gw * scale)
            rhs.append(st.pressure.value - (ens.pressure + dw * scale))
        g = np.array(rows).T
        kkt = np.block([[a, g], [g.T, np.zeros((g.shape[1], g.shape[1]))]])
        return np.linalg.solve(kkt, np.concatenate([-grad, rhs]))[: len(grad)]

    # --- loop ----------------------------------------------------------------------------
    def _simulate(self, k: int, lam: np.ndarray):
        """Run every state with ``lam``; the iteration record (S_rel nan) and the ensembles."""
        t0 = time.perf_counter()
        tables = self.tables(lam)
        ensembles, dists, worst, pressure = [], {}, (-1.0, float("nan")), None
        for st in self.states:
            rdfs, p = st.simulate(tables)
            pressure = pressure_and_error(p) if pressure is None else pressure
            ens = _Ensemble(rdfs, st.targets, self.design, 1.0 / _kt(st.temperature), self.virial)
            ens.pressure = pressure_and_error(p)[0]
            ensembles.append(ens)
            for pair, t in st.targets.items():
                d = (rdf_rms(rdfs[pair], t), rdf_noise(rdfs[pair], t))
                dists[st.label] = max(dists.get(st.label, -1.0), d[0])
                worst = max(worst, d, key=lambda x: x[0])
        assert pressure is not None
        wall = time.perf_counter() - t0
        it = RelEntIteration(k, lam.copy(), worst[0], worst[1], pressure[0], pressure[1],
                             float("nan"), 1.0, wall, dists)  # fmt: skip
        return it, ensembles

    def _delta_s_rel(self, dlam: np.ndarray, before: list, after: list | None) -> float:
        """S_rel(lambda + dlam) - S_rel(lambda), both-way FEP when ``after`` is given."""
        out = 0.0
        for k, st in enumerate(self.states):
            fwd = before[k].delta_ln_z(dlam)
            ln_z = fwd if after is None else 0.5 * (fwd - after[k].delta_ln_z(-dlam))
            out += st.weight * (before[k].beta * float(dlam @ before[k].s_aa) + ln_z)
        return out

    def converged(self, it: RelEntIteration) -> bool:
        """RDF distance within the noise criterion (or the tolerance) after min_iterations."""
        return it.index + 1 >= self.settings.min_iterations and self._ratio(it) < 1.0

    def _ratio(self, it: RelEntIteration) -> float:
        s = self.settings
        use_noise = s.noise_factor is not None and np.isfinite(it.noise) and it.noise > 0
        return it.distance / (s.noise_factor * it.noise if use_noise else s.tolerance)

    def run(self) -> RelEntResult:
        """Simulate, take reweighted Newton steps, repeat until converged or max_iterations."""
        s = self.settings
        history = self.load_history()
        lam = self._next_lambda(history) if history else self.initial_coefficients()
        s_rel, before, prev_lam = (history[-1].s_rel if history else 0.0), None, None
        while len(history) < s.max_iterations:
            it, ensembles = self._simulate(len(history), lam)
            if prev_lam is not None and before is not None:
                s_rel += self._delta_s_rel(lam - prev_lam, before, ensembles)
            elif history:
                s_rel = history[-1].s_rel + self._pending_delta
            new_lam, ess = self.newton(lam, ensembles)
            it = replace(it, s_rel=s_rel, ess=ess)
            self._pending_delta = self._delta_s_rel(new_lam - lam, ensembles, None)
            history.append(it)
            self._save(it, new_lam)
            log.info("relative entropy %s", it.describe())
            if self.converged(it):
                return self._result(history, True)
            before, prev_lam, lam = ensembles, lam, new_lam
        msg = "relative entropy did not converge (criteria not met) in " + (
            f"{s.max_iterations} iterations:\n" + "\n".join(h.describe() for h in history)
        )
        if s.strict:
            raise CGConvergenceError(msg, history)
        log.warning("%s\nreturning the best iteration", msg)
        return self._result(history, False)

    def _result(self, history: list[RelEntIteration], converged: bool) -> RelEntResult:
        best = len(history) - 1
        if not converged:
            best = int(np.argmin([self._ratio(h) for h in history]))
        lam = history[best].coefficients
        return RelEntResult(self.tables(lam), self.potentials(lam), self.r, tuple(history),
                            best, converged)  # fmt: skip

    # --- persistence ---------------------------------------------------------------------
    def _path(self, k: int) -> Path:
        assert self.workdir is not None
        return self.workdir / f"relent_{k:03d}.npz"

    def _save(self, it: RelEntIteration, next_lam: np.ndarray) -> None:
        if self.workdir is None:
            return
        arrays = {
            "knots": self.knots,
            "coefficients": it.coefficients,
            "next": next_lam,
            "pending_delta": np.array(self._pending_delta),
            "numbers": np.array(
                [
                    it.distance,
                    it.noise,
                    it.pressure,
                    it.pressure_error,
                    it.s_rel,
                    it.ess,
                    it.wall_time,
                ]
            ),
        }
        atomic_write_bytes(self._path(it.index), lambda fh: np.savez(fh, **arrays))

    def load_history(self) -> list[RelEntIteration]:
        """Iterations stored in ``workdir`` (consecutive from 0), checked against the basis."""
        hist: list[RelEntIteration] = []
        while self.workdir is not None and self._path(len(hist)).exists():
            with np.load(self._path(len(hist))) as d:
                if d["knots"].shape != self.knots.shape or not np.allclose(d["knots"], self.knots):
                    raise CGInputError(
                        f"{self._path(len(hist))} was written for another basis or RDF grid; "
                        "use a fresh workdir"
                    )
                n = d["numbers"]
                hist.append(RelEntIteration(len(hist), d["coefficients"].copy(), *map(float, n)))
                self._next = d["next"].copy()
                self._pending_delta = float(d["pending_delta"])
        return hist

    def _next_lambda(self, history: list[RelEntIteration]) -> np.ndarray:
        log.info("relative entropy: restarting after %d stored iterations", len(history))
        return self._next


def _kt(temperature: float) -> float:
    from stochastic.md.system import KB_KJ_PER_MOL_K

    return KB_KJ_PER_MOL_K * temperature


def relative_entropy_fit(
    targets: dict[Pair, RDF],
    simulate,
    temperature: float,
    settings: RelEntSettings | None = None,
    workdir: str | Path | None = None,
) -> RelEntResult:
    """Single-state relative-entropy fit in one call (see :class:`RelativeEntropy`)."""
    return RelativeEntropy.single(targets, simulate, temperature, settings, workdir).run()
