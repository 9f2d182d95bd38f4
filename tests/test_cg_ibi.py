"""Iterative Boltzmann inversion: update rule, convergence, pressure correction, restart, errors.

The fast tests drive IBI with an analytic "engine" in which g(r) = exp(-(U(r) + W(r))/kT) for a
fixed indirect term W (a stand-in for many-body correlations). IBI with step alpha then reduces
the potential error by the factor (1 - alpha) per iteration and converges to U_true exactly.
The slow tests run the real LJ liquid with the MD core (see test_cg_lj_acceptance.py).
"""

import itertools

import numpy as np
import pytest

from stochastic.cg.errors import CGConvergenceError, CGInputError
from stochastic.cg.ibi import IBISettings, IterativeBoltzmannInversion, boltzmann_inversion
from stochastic.cg.targets import RDF

KT = 1.0
TEMP = KT / 0.0083144626181532
EDGES = np.linspace(0.0, 2.5, 126)
R = 0.5 * (EDGES[1:] + EDGES[:-1])
PAIR = ("A", "A")


def _u_true(r):
    s6 = r**-6.0
    return 4 * (s6 * s6 - s6) - 4 * (2.5**-12 - 2.5**-6)


W = 0.4 * np.exp(-((R - 1.3) ** 2) / 0.05)


def _g_of(u):
    g = np.exp(-(u + W) / KT)
    g[R < 0.85] = 0.0
    return g


TARGET = RDF(EDGES, _g_of(_u_true(R)), PAIR)


class Engine:
    """g = exp(-(U_table + W)/kT) on the bin centres; counts calls."""

    def __init__(self, pressure=0.0):
        self.calls = 0
        self.pressure = pressure

    def __call__(self, tables):
        self.calls += 1
        u = tables[PAIR].energy(R)
        return {PAIR: RDF(EDGES, _g_of(u), PAIR)}, self.pressure


def _err(ibi, u):
    m = R > 0.95
    return np.max(np.abs(ibi.table(u).energy(R[m]) - _u_true(R[m])))


def test_direct_inversion_is_minus_kt_ln_g():
    u0 = boltzmann_inversion(TARGET, KT)
    m = TARGET.g > 1e-3  # below g_min: excluded core
    assert np.allclose(u0[m], -KT * np.log(TARGET.g[m]))
    core = ~m
    assert np.all(np.diff(u0[core]) < 0), "core continuation must be repulsive"
    assert np.all(np.isfinite(u0))


def test_ibi_converges_geometrically_to_the_true_potential():
    alpha = 0.5
    settings = IBISettings(TEMP, alpha=alpha, smooth=1, tolerance=1e-4, max_iterations=30)
    ibi = IterativeBoltzmannInversion({PAIR: TARGET}, Engine(), settings)
    res = ibi.run()
    errs = [_err(ibi, it.potentials[PAIR]) for it in res.history]
    assert errs[-1] < 1e-3
    # error of the indirect term shrinks by (1 - alpha) per iteration
    rates = np.array(errs[1:6]) / np.array(errs[:5])
    assert np.allclose(rates, 1 - alpha, atol=0.05)
    assert res.history[-1].distance < 1e-4


def test_pressure_correction_is_a_capped_linear_ramp():
    s = IBISettings(TEMP, smooth=1, pressure_target=0.0, pressure_scale=0.2, pressure_max_kt=0.1)
    ibi = IterativeBoltzmannInversion({PAIR: TARGET}, Engine(), s)
    u = boltzmann_inversion(TARGET, KT)
    same = {PAIR: TARGET}
    for dp, amp in ((0.2, -0.04), (5.0, -0.1 * s.kt), (-0.3, 0.06)):
        du = ibi.update({PAIR: u}, same, dp)[PAIR] - u
        m = TARGET.g > 1e-3
        assert np.allclose(du[m], amp * (1 - R[m] / 2.5), atol=1e-12)


def test_non_convergence_raises_with_history_and_restart_continues(tmp_path):
    s = IBISettings(TEMP, alpha=0.1, smooth=1, tolerance=1e-6, max_iterations=3, strict=True)
    eng = Engine()
    with pytest.raises(CGConvergenceError, match="did not converge") as info:
        IterativeBoltzmannInversion({PAIR: TARGET}, eng, s, tmp_path).run()
    assert len(info.value.history) == 3 and eng.calls == 3
    assert "iter   2" in str(info.value)
    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["iter_000.npz", "iter_001.npz", "iter_002.npz"]
    # restart: continues from iteration 3 with the stored potential
    s5 = IBISettings(TEMP, alpha=0.1, smooth=1, tolerance=1e-6, max_iterations=5, strict=True)
    eng2 = Engine()
    ibi = IterativeBoltzmannInversion({PAIR: TARGET}, eng2, s5, tmp_path)
    with pytest.raises(CGConvergenceError) as info2:
        ibi.run()
    assert eng2.calls == 2 and len(info2.value.history) == 5
    d = [h.distance for h in info2.value.history]
    assert all(b < a for a, b in itertools.pairwise(d)), "restart must continue, not reset"
    # a different target grid must not reuse the stored iterations
    other = RDF(np.linspace(0, 2.5, 64), np.interp(np.linspace(0, 2.5, 64)[:-1] + 0.02,
                                                   R, TARGET.g), PAIR)  # fmt: skip
    with pytest.raises(CGInputError, match="different RDF grid"):
        IterativeBoltzmannInversion({PAIR: other}, Engine(), s5, tmp_path).run()


def test_bad_inputs_raise():
    s = IBISettings(TEMP)
    coarse = RDF(np.linspace(0, 2.5, 64), np.ones(63), PAIR)
    with pytest.raises(CGInputError, match="RDF grids differ"):
        IterativeBoltzmannInversion({PAIR: TARGET, ("A", "B"): coarse}, Engine(), s)

    def wrong_grid(tables):
        return {PAIR: coarse}, 0.0

    with pytest.raises(CGInputError, match="RDF grids differ"):
        IterativeBoltzmannInversion({PAIR: TARGET}, wrong_grid, s).run()
    holey = TARGET.g.copy()
    holey[80] = 0.0
    with pytest.raises(CGInputError, match="empty bin"):
        IterativeBoltzmannInversion({PAIR: RDF(EDGES, holey, PAIR)}, Engine(), s)
    with pytest.raises(CGInputError, match="alpha"):
        IBISettings(TEMP, alpha=1.5)
    with pytest.raises(CGInputError, match="odd"):
        IBISettings(TEMP, smooth=2)


def test_imc_step_reduces_to_ibi_in_the_dilute_limit():
    """Poisson pair counts (no correlations): the IMC Newton step is kT ln(<S>/S_t) to 1st order."""
    rng = np.random.default_rng(5)
    ideal = np.full(len(R), 50.0)
    g_cg = TARGET.g * (1 + 0.05 * np.sin(3 * R))
    frames = rng.poisson(g_cg * ideal, size=(40000, len(R))).astype(float)
    cg = RDF(EDGES, frames.mean(0) / ideal, PAIR, frames.sum(0), frames, ideal)
    s = IBISettings(TEMP, imc_from=0, imc_regularization=1e-9)
    ibi = IterativeBoltzmannInversion({PAIR: TARGET}, Engine(), s)
    sel = (TARGET.g > 0.2) & (cg.g > 0.2)
    step = ibi._imc_step(TARGET, cg, sel)
    ibi_step = KT * np.log(cg.g[sel] / TARGET.g[sel])
    assert np.max(np.abs(ibi_step)) > 0.04
    assert np.max(np.abs(step - ibi_step)) < 0.2 * np.max(np.abs(ibi_step))  # + cov. noise


def test_ibi_with_the_md_core_improves_the_rdf(tmp_path):
    """Smoke run with the real engine (108 LJ particles, short runs): the RDF distance falls."""
    from stochastic.cg.testsystems import lj_fluid, table_simulator

    fl = lj_fluid(3, 0.776, 0.85)
    ref = fl.sampler(seed=1).run([fl.lj_term()], 1000, 4000, 20)
    target = fl.rdf(ref, 0.05)
    s = IBISettings(fl.temperature, tolerance=1e-6, g_min=1e-3, max_iterations=3, noise_factor=None,
                    strict=True)  # fmt: skip
    sim = table_simulator(fl, n_equil=300, n_prod=2000, bin_width=0.05)
    with pytest.raises(CGConvergenceError) as info:
        IterativeBoltzmannInversion({PAIR: target}, sim, s, tmp_path).run()
    d = [h.distance for h in info.value.history]
    assert d[-1] < 0.6 * d[0], d
    assert len(list(tmp_path.glob("iter_*.npz"))) == 3
