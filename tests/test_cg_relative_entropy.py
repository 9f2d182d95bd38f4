"""Relative-entropy minimisation: Newton/IMC identity, S_rel bookkeeping, LJ recovery (CI + slow).

Known answer: the CG model of a one-site LJ fluid is the fluid itself, so S_rel is minimised by
the LJ potential (shifted at r_c = 2.5 sigma). Reduced units: sigma = 1 nm, epsilon = 1 kJ/mol.
"""

import numpy as np
import pytest

from stochastic.cg.errors import CGInputError
from stochastic.cg.ibi import IBISettings, IterativeBoltzmannInversion
from stochastic.cg.multistate import StatePoint
from stochastic.cg.relative_entropy import RelativeEntropy, RelEntSettings, relative_entropy_fit
from stochastic.cg.tabulated import lj_table
from stochastic.cg.targets import RDF, pressure_estimate
from stochastic.cg.testsystems import lj_fluid, table_simulator

PAIR = ("A", "A")
R_TEST = np.linspace(0.95, 2.5, 300)[:-1]
R_WELL = np.array([2 ** (1 / 6)])


def _devs(table):
    dev = float(np.max(np.abs(table.energy(R_TEST) - lj_table().energy(R_TEST))))
    well = float(abs(table.energy(R_WELL)[0] - lj_table().energy(R_WELL)[0]))
    return dev, well


def test_newton_step_is_the_imc_step():
    """Synthetic ensemble of Poisson pair counts: one Newton step = ``kT C^-1 (<S> - S_aa)``
    in the spline basis (the inverse Monte Carlo step), repulsive where the CG model has too
    many pairs."""
    edges = np.linspace(0, 2.5, 51)
    r = 0.5 * (edges[1:] + edges[:-1])
    g = np.where(r > 0.9, 1.0 + 0.3 * np.exp(-((r - 1.1) ** 2) / 0.02), 0.0)
    ideal = np.full(len(r), 40.0)
    rng = np.random.default_rng(3)
    frames = rng.poisson(g * ideal * 1.02, size=(20000, len(r))).astype(float)
    cg = RDF(edges, frames.mean(0) / ideal, PAIR, frames.sum(0), frames, ideal)
    target = RDF(edges, g, PAIR)
    temp = 1.0 / 0.0083144626181532
    s = RelEntSettings(n_knots=8, smoothness=0.0, reweight_steps=1, step_max_kt=1e9)
    re = RelativeEntropy.single({PAIR: target}, lambda t: ({PAIR: cg}, 0.0), temp, s)
    from stochastic.cg.relative_entropy import _Ensemble

    ens = _Ensemble({PAIR: cg}, {PAIR: target}, re.design, 1.0)
    lam = np.zeros(re.n_basis)
    new, _ = re.newton(lam, [ens])
    want = np.linalg.solve(np.cov(ens.s, rowvar=False, ddof=0) + 1e-6 * np.mean(
        np.diag(np.cov(ens.s, rowvar=False, ddof=0))) * np.eye(re.n_basis),
        ens.s.mean(0) - ens.s_aa)  # fmt: skip
    assert np.allclose(new - lam, want, rtol=1e-6, atol=1e-9)
    # the CG model has 2 % too many pairs: the step must be repulsive on average
    assert np.mean(re.design @ (new - lam)) > 0


def test_pressure_constrained_newton_step():
    """Synthetic Poisson ensemble: the virial gradient ``<T> - beta Cov(W, S)`` equals central
    finite differences of the reweighted mean virial, and one constrained Newton step (the KKT
    step) moves the linearised pressure exactly onto the target while minimising the quadratic
    model: its residual ``H step + grad`` is parallel to the constraint gradient."""
    from stochastic.cg.relative_entropy import _Ensemble
    from stochastic.cg.targets import Estimate

    edges = np.linspace(0, 2.5, 51)
    r = 0.5 * (edges[1:] + edges[:-1])
    g = np.where(r > 0.9, 1.0 + 0.3 * np.exp(-((r - 1.1) ** 2) / 0.02), 0.0)
    ideal = np.full(len(r), 40.0)
    rng = np.random.default_rng(5)
    frames = rng.poisson(g * ideal * 1.02, size=(4000, len(r))).astype(float)
    cg = RDF(edges, frames.mean(0) / ideal, PAIR, frames.sum(0), frames, ideal)
    target = RDF(edges, g, PAIR)
    temp = 1.0 / 0.0083144626181532
    s = RelEntSettings(n_knots=8, smoothness=0.0, reweight_steps=1, step_max_kt=1e9,
                       pressure_constraint=True)  # fmt: skip
    state = StatePoint("s", temp, {PAIR: target}, lambda t: ({PAIR: cg}, 0.0),
                       pressure=Estimate(0.5, 0.01), volume=300.0)  # fmt: skip
    re = RelativeEntropy([state], s)
    ens = _Ensemble({PAIR: cg}, {PAIR: target}, re.design, 1.0, re.virial)
    ens.pressure = 0.8
    lam = 0.1 * rng.standard_normal(re.n_basis)
    d = 1e-4 * rng.standard_normal(re.n_basis)
    dw0, grad_w = ens.virial_change(lam, np.zeros_like(lam))
    fd = (ens.virial_change(lam, d)[0] - ens.virial_change(lam, -d)[0]) / 2
    assert abs(dw0) < 1e-12 * np.abs(ens.t @ lam).max()
    assert fd == pytest.approx(grad_w @ d, rel=1e-6)
    new, _ = re.newton(lam, [ens])
    step = new - lam
    p_new = ens.pressure + grad_w @ step / (3 * 300.0)
    assert p_new == pytest.approx(0.5, abs=1e-9)
    grad, hess, _ = re._gradient_hessian([ens], np.zeros_like(lam))
    res = (hess + 1e-6 * np.mean(np.diag(hess)) * np.eye(re.n_basis)) @ step + grad
    assert np.allclose(res, (res @ grad_w) / (grad_w @ grad_w) * grad_w, atol=1e-8 * np.abs(
        grad).max())  # fmt: skip
    with pytest.raises(CGInputError, match="volume"):
        RelativeEntropy([StatePoint("s", temp, {PAIR: target}, state.simulate)], s)


@pytest.fixture(scope="module")
def lj_small():
    fl = lj_fluid(3, 0.776, 0.85)
    ref = fl.sampler(seed=1).run([fl.lj_term()], 1000, 6000, 10)
    return fl, fl.rdf(ref, 0.05), pressure_estimate(ref.pressure, 8)


def test_cg_runs_are_reproducible_bit_for_bit(lj_small):
    """Same seed, same pair counts to the last bit: the CG engine has no unseeded randomness
    (the spread of the CI potential error comes from chaotic divergence of trajectories, e.g.
    after a change of the MD core's round-off, not from the code path being non-deterministic)."""
    fl, _, _ = lj_small
    runs = [table_simulator(fl, seed=4, n_equil=50, n_prod=200, bin_width=0.05)(
        {PAIR: lj_table()})[0][PAIR].frame_counts for _ in range(2)]  # fmt: skip
    assert np.array_equal(runs[0], runs[1])


def test_ci_relative_entropy_lj(lj_small, tmp_path):
    """108 particles, <= 6 CG runs of 3000 steps: the RDF reaches its noise floor, S_rel falls
    (each step up by less than 1, total by more than 10), the potential beats the Boltzmann
    inversion (0.62 eps max deviation) and a restart continues the stored history.

    Bounds from the spread of this test over 10 independent trajectories (8 seeds, and these
    seeds under two MD-core versions whose round-off differs): best RDF rms / noise 1.05-2.0
    (2 of 10 not within the 1.5x criterion after 6 runs), S_rel drop 18-25, max |U - U_LJ|
    0.10-0.43 eps (mean 0.22, sd 0.10), well 0.02-0.35 eps (mean 0.14, sd 0.10): the bounds
    are mean + 3 sd. 108 particles do not determine the potential better; the 0.05 eps claim
    is the full-size slow test."""
    fl, target, p_ref = lj_small
    s = RelEntSettings(n_knots=12, max_iterations=6, min_iterations=2)
    sim = table_simulator(fl, n_equil=200, n_prod=3000, bin_width=0.05)
    res = relative_entropy_fit({PAIR: target}, sim, fl.temperature, s, tmp_path)
    dev, well = _devs(res.tables[PAIR])
    srel = [h.s_rel for h in res.history]
    best = res.best_iteration
    print(f"CI RE: {len(srel)} iterations, converged {res.converged}, S_rel {np.round(srel, 2)}, "
          f"RDF rms {best.distance:.4f} (noise {best.noise:.4f}), max dev {dev:.3f}, "
          f"well {well:.3f}, P {best.pressure:.3f} vs {p_ref.value:.3f}")  # fmt: skip
    assert best.distance < 2.5 * best.noise
    assert np.all(np.diff(srel) < 1.0) and srel[-1] < srel[0] - 10
    assert dev < 0.55 and well < 0.45
    stored = sorted(p.name for p in tmp_path.glob("relent_*.npz"))
    assert len(stored) == len(srel)
    # restart: nothing to do but reload; more iterations continue from the stored state
    s2 = RelEntSettings(n_knots=12, max_iterations=len(srel) + 1, min_iterations=len(srel) + 1)
    res2 = relative_entropy_fit({PAIR: target}, sim, fl.temperature, s2, tmp_path)
    assert len(res2.history) == len(srel) + 1
    assert np.allclose(res2.history[0].coefficients, res.history[0].coefficients)


def test_relative_entropy_inputs(lj_small, tmp_path):
    fl, target, _ = lj_small
    with pytest.raises(CGInputError, match="n_knots"):
        RelEntSettings(n_knots=2)
    with pytest.raises(CGInputError, match="min_ess"):
        RelEntSettings(min_ess=1.5)

    def no_frames(tables):
        return {PAIR: RDF(target.edges, target.g, PAIR)}, 0.0

    with pytest.raises(CGInputError, match="keep_frames"):
        relative_entropy_fit({PAIR: target}, no_frames, fl.temperature, RelEntSettings())
    with pytest.raises(CGInputError, match="temperature"):
        StatePoint("bad", -1.0, {PAIR: target}, no_frames)
    np.savez(tmp_path / "relent_000.npz", knots=np.zeros(3))
    with pytest.raises(CGInputError, match="another basis"):
        relative_entropy_fit({PAIR: target}, no_frames, fl.temperature, RelEntSettings(), tmp_path)


@pytest.mark.slow
def test_relative_entropy_recovers_lj_and_matches_ibi():
    """256 particles, 10000-step CG runs, Newton steps constrained to the reference pressure:
    well within 0.05 eps, RDF rms at most IBI's + 2 noise floors, S_rel monotone within noise.

    Without the pressure constraint the same run left the well 0.081 eps off with the CG
    pressure 0.2-0.6 above the reference: the g(r) of a dense liquid barely constrains a slowly
    varying potential error, the pressure pins exactly that direction."""
    fl = lj_fluid(4, 0.776, 0.85)
    ref = fl.sampler(seed=1).run([fl.lj_term()], 2000, 20000, 10)
    target = fl.rdf(ref, 0.02)
    state = StatePoint("LJ", fl.temperature, {PAIR: target}, table_simulator(fl, n_prod=10000),
                       pressure=pressure_estimate(ref.pressure, 8),
                       volume=fl.system.box.volume)  # fmt: skip
    s = RelEntSettings(n_knots=16, max_iterations=15, min_iterations=8, pressure_constraint=True)
    res = RelativeEntropy([state], s).run()
    dev, well = _devs(res.tables[PAIR])
    ibi = IterativeBoltzmannInversion({PAIR: target}, table_simulator(fl, seed=5, n_prod=10000),
                                      IBISettings(fl.temperature, imc_from=2, max_iterations=15,
                                                  min_iterations=8)).run()  # fmt: skip
    b, bi = res.best_iteration, ibi.best_iteration
    srel = [h.s_rel for h in res.history]
    print(f"RE: S_rel {np.round(srel, 2)}, RDF rms {b.distance:.4f} (noise {b.noise:.4f}), "
          f"max dev {dev:.3f}, well {well:.3f}, P {b.pressure:.3f} vs "
          f"{state.pressure.value:.3f}; IBI+IMC RDF rms {bi.distance:.4f}")  # fmt: skip
    assert well < 0.05
    assert b.distance < bi.distance + 2 * b.noise
    assert np.all(np.diff(srel[: res.best + 1]) < 1.0)
