"""Sampler with per-type friction, validation report and plots."""

import numpy as np
import pytest

from stochastic.cg.errors import CGInputError
from stochastic.cg.sampling import FluidSampler
from stochastic.cg.tabulated import PairTable, TabulatedPair
from stochastic.cg.targets import RDF, Estimate, diffusion_estimate
from stochastic.cg.validation import StatePointComparison, plot_msd, plot_rdfs, validation_table
from stochastic.md.observers import msd
from stochastic.md.system import KB_KJ_PER_MOL_K, Box, ParticleType, System


def test_per_type_langevin_friction_gives_einstein_d():
    """Non-interacting beads: D = kT / (m gamma) per type (Einstein), long-time limit."""
    temp = 1.0 / KB_KJ_PER_MOL_K  # kT = 1 kJ/mol
    types = [ParticleType("A", 2.0), ParticleType("B", 1.0)]
    system = System.from_counts(types, [150, 150], Box((8.0, 8.0, 8.0)))
    zero = PairTable(0.5, 0.1, np.zeros(11), np.zeros(11))
    term = TabulatedPair(system, {("A", "A"): zero})
    x = np.random.default_rng(0).random((300, 3)) * 8.0
    s = FluidSampler(system, x, temp, dt=0.01, seed=3)
    gam = {"A": 5.0, "B": 20.0}
    smp = s.run([term], 200, 6000, 10, friction=gam)
    for name, idx in (("A", slice(0, 150)), ("B", slice(150, 300))):
        d = diffusion_estimate(smp.frames[:, idx], smp.frame_dt, 2.0, 12.0)
        m = 2.0 if name == "A" else 1.0
        exact = 1.0 / (m * gam[name])
        assert abs(d.value / exact - 1) < 0.08, (name, d, exact)
    assert abs(smp.temperature.mean() / temp - 1) < 0.03
    with pytest.raises(CGInputError, match="no friction"):
        s.run([term], 0, 100, 10, friction={"A": 1.0})


def test_validation_report_and_plots(tmp_path):
    edges = np.linspace(0, 2.0, 41)
    g = np.ones(40)
    ref = RDF(edges, g)
    cg = RDF(edges, g + 0.01)
    fit = StatePointComparison("fit", False, ref, cg, Estimate(1.0, 0.01), Estimate(1.02, 0.01))
    held = StatePointComparison(
        "held", True, ref, cg, Estimate(0.5, 0.01), Estimate(0.7, 0.01),
        Estimate(0.1, 0.001), Estimate(0.12, 0.001),
    )  # fmt: skip
    assert np.isclose(fit.rdf_rms, 0.01)
    assert np.isclose(held.pressure_error, 0.2)
    assert np.isclose(held.diffusion_ratio, 1.2)
    table = validation_table([fit, held])
    assert "held-out" in table and "fit" in table
    assert plot_rdfs([fit, held], tmp_path / "rdf.png").stat().st_size > 1000
    t = np.arange(50) * 0.1
    x = np.cumsum(np.random.default_rng(0).normal(size=(50, 10, 3)), axis=0)
    assert plot_msd({"ref": (t, msd(x))}, tmp_path / "msd.png").stat().st_size > 1000
