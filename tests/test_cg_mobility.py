"""Mobility preservation: friction calibration brings D_CG to D_ref; speed-up is reported."""

import numpy as np
import pytest

from stochastic.cg.errors import CGConvergenceError, CGInputError
from stochastic.cg.mobility import (
    FrictionCalibration,
    PotentialPredictor,
    additivity_guess,
    calibrate_friction,
)
from stochastic.cg.tabulated import lj_table
from stochastic.cg.targets import Estimate, diffusion_estimate
from stochastic.cg.testsystems import lj_fluid
from stochastic.md.system import KB_KJ_PER_MOL_K

TEMP = 300.0
KT = KB_KJ_PER_MOL_K * TEMP


def _model(d_free, mass, enhancement, noise=0.0, seed=0):
    """D(gamma) = kT / (kT/D_free + enhancement * M gamma) (+ relative noise)."""
    rng = np.random.default_rng(seed)
    calls = []

    def evaluate(gam):
        calls.append(dict(gam))
        out = {}
        for k, g in gam.items():
            d = KT / (KT / d_free[k] + enhancement[k] * mass[k] * g)
            out[k] = Estimate(d * (1 + noise * rng.standard_normal()), noise * d)
        return out

    return evaluate, calls


def test_additivity_guess_is_exact_for_additive_friction():
    d_free, m = 0.5, 40.0
    g0 = 3.0
    d_ref = KT / (KT / d_free + m * g0)
    assert np.isclose(additivity_guess(d_ref, d_free, m, TEMP), g0, rtol=1e-12)
    with pytest.raises(CGInputError, match="already diffuses slower"):
        additivity_guess(0.5, 0.4, m, TEMP)


def test_calibration_per_type_with_non_additive_friction():
    d_free = {"A": 0.6, "B": 0.2}
    mass = {"A": 72.0, "B": 30.0}
    d_ref = {"A": 0.1, "B": 0.05}
    # the Langevin friction is 2.5x (A) and 0.6x (B) as effective as additivity assumes
    ev, calls = _model(d_free, mass, {"A": 2.5, "B": 0.6}, noise=0.005)
    cal = calibrate_friction(ev, d_ref, d_free, mass, TEMP, tolerance=0.02, max_evaluations=8)
    assert isinstance(cal, FrictionCalibration)
    for k in d_ref:
        assert abs(cal.relative_error[k]) < 0.02
        assert np.isclose(cal.speedup[k], d_free[k] / d_ref[k])
    assert len(calls) <= 6
    exact_a = additivity_guess(d_ref["A"], d_free["A"], mass["A"], TEMP) / 2.5
    assert np.isclose(cal.friction["A"], exact_a, rtol=0.05)
    assert "speed-up" in cal.report()


def test_calibration_failure_reports_history():
    ev, _ = _model({"A": 0.6}, {"A": 10.0}, {"A": 1.0}, noise=0.3, seed=2)
    with pytest.raises(CGConvergenceError, match="did not reach") as info:
        calibrate_friction(ev, {"A": 0.1}, {"A": 0.6}, {"A": 10.0}, TEMP, 1e-4, 3)
    assert len(info.value.history) == 3
    with pytest.raises(CGInputError, match="same bead types"):
        calibrate_friction(ev, {"A": 0.1}, {"B": 0.6}, {"A": 10.0}, TEMP)


def test_predictor_protocol_is_structural():
    class Constant:
        def predict(self, masses, rdfs, diffusion, temperature):
            return {("A", "A"): lj_table()}

    p: PotentialPredictor = Constant()
    assert ("A", "A") in p.predict({"A": 1.0}, {}, {"A": 0.1}, TEMP)


@pytest.mark.slow
def test_lj_liquid_with_added_friction_mobility_is_recovered():
    """Reference: LJ liquid (T*=0.85, rho*=0.776) with Langevin friction 2/ps, D_ref known.

    CG model: the same pair potential as a table, Newtonian (faster) before calibration.
    After calibration D_CG must be within 5% of D_ref in an independent validation run.
    """
    fl = lj_fluid(4, 0.776, 0.85)
    fit = (2.0, 10.0)
    ref = fl.sampler(seed=5).run([fl.lj_term()], 2000, 40000, 20, friction=2.0)
    d_ref = diffusion_estimate(ref.frames, ref.frame_dt, *fit)
    term = fl.table_term(lj_table())
    cg = fl.sampler(seed=6)
    free = cg.run([term], 2000, 20000, 20, newtonian=True)
    d_free = diffusion_estimate(free.frames, free.frame_dt, *fit)

    def evaluate(gam):
        smp = cg.run([term], 1000, 20000, 20, friction=gam)
        return {"A": diffusion_estimate(smp.frames, smp.frame_dt, *fit)}

    cal = calibrate_friction(evaluate, {"A": d_ref.value}, {"A": d_free.value}, {"A": 1.0},
                             fl.temperature, tolerance=0.02, max_evaluations=8)  # fmt: skip
    check = fl.sampler(seed=7).run([term], 2000, 40000, 20, friction=cal.friction)
    d_check = diffusion_estimate(check.frames, check.frame_dt, *fit)
    print(cal.report())
    print(
        f"D_ref {d_ref.value:.4f}+-{d_ref.error:.4f} D_check {d_check.value:.4f}"
        f"+-{d_check.error:.4f} speed-up {cal.speedup['A']:.2f} gamma {cal.friction['A']:.3f}"
    )
    assert cal.speedup["A"] > 1.5
    assert abs(d_check.value / d_ref.value - 1) < 0.05
    assert abs(cal.relative_error["A"]) < 0.05
