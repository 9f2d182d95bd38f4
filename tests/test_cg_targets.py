"""RDF, pressure and diffusion targets: normalisation, agreement with the MD core, errors."""

import numpy as np
import pytest

from stochastic.cg.errors import CGInputError
from stochastic.cg.targets import (
    RDF,
    check_target,
    compute_rdf,
    diffusion_estimate,
    pressure_estimate,
    rdf_rms,
)
from stochastic.md.observers import rdf as md_rdf
from stochastic.md.system import Box


def test_rdf_matches_md_core_and_ideal_gas():
    rng = np.random.default_rng(1)
    box = Box((5.0, 5.0, 5.0))
    frames = rng.random((40, 300, 3)) * 5.0
    idx = np.arange(300)
    ours = compute_rdf(frames, box, idx, None, 2.5, 0.05)
    r, g = md_rdf(frames, box, idx, idx, 2.5, 50)
    assert np.allclose(ours.r, r)
    assert np.allclose(ours.g, g, rtol=1e-12, atol=1e-12)
    # ideal gas: g = 1 within counting noise (~1/sqrt(counts)) beyond the first bins
    m = ours.r > 0.5
    noise = 1 / np.sqrt(ours.counts[m])
    assert np.all(np.abs(ours.g[m] - 1) < 5 * noise)
    # cross RDF of two halves also ~1 and agrees with the MD core
    a, b = idx[:150], idx[150:]
    cross = compute_rdf(frames, box, a, b, 2.5, 0.05)
    assert np.allclose(cross.g, md_rdf(frames, box, a, b, 2.5, 50)[1])


def test_rdf_grid_checks():
    box = Box((4.0, 4.0, 4.0))
    x = np.random.default_rng(0).random((2, 50, 3)) * 4
    with pytest.raises(CGInputError, match="integer multiple"):
        compute_rdf(x, box, np.arange(50), None, 2.0, 0.03)
    with pytest.raises(CGInputError, match="half the box"):
        compute_rdf(x, box, np.arange(50), None, 2.5, 0.05)
    a = compute_rdf(x, box, np.arange(50), None, 2.0, 0.05)
    b = compute_rdf(x, box, np.arange(50), None, 2.0, 0.1)
    with pytest.raises(CGInputError, match="RDF grids differ"):
        rdf_rms(a, b)


def test_empty_target_bins_are_reported():
    edges = np.linspace(0, 2, 11)
    core = RDF(edges, np.array([0, 0, 0, 0.5, 1.2, 1.1, 1.0, 1.0, 1.0, 1.0]))
    assert check_target(core) == 3
    holey = RDF(edges, np.array([0, 0, 0, 0.5, 1.2, 0.0, 1.0, 1.0, 1.0, 1.0]))
    with pytest.raises(CGInputError, match="empty bin"):
        check_target(holey)
    with pytest.raises(CGInputError, match="empty"):
        check_target(RDF(edges, np.zeros(10)))
    with pytest.raises(CGInputError, match="n_bins"):
        RDF(edges, np.zeros(9))


def test_diffusion_estimate_recovers_brownian_d():
    rng = np.random.default_rng(2)
    d_true, dt = 0.05, 0.1
    steps = rng.normal(scale=np.sqrt(2 * d_true * dt), size=(2000, 200, 3))
    x = np.cumsum(steps, axis=0)
    est = diffusion_estimate(x, dt, 1.0, 5.0)
    assert abs(est.value - d_true) < 4 * est.error + 1e-12
    assert est.error < 0.05 * d_true
    with pytest.raises(CGInputError, match="frames"):
        diffusion_estimate(x[:10], dt, 1.0, 5.0)


def test_pressure_estimate_block_error():
    rng = np.random.default_rng(4)
    p = 0.5 + rng.normal(scale=0.2, size=5000)
    est = pressure_estimate(p, 10)
    assert abs(est.value - 0.5) < 4 * est.error
    assert np.isclose(est.error, 0.2 / np.sqrt(5000), rtol=0.5)
