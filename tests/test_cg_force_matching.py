"""Force matching (MS-CG) on LJ reference forces recovers the LJ pair force."""

import numpy as np
import pytest

from stochastic.cg.errors import CGInputError
from stochastic.cg.force_matching import force_match
from stochastic.cg.mapping import Mapping
from stochastic.cg.targets import rdf_rms
from stochastic.cg.testsystems import lj_fluid


def _lj_force(r):
    s6 = r**-6.0
    return 24 * (2 * s6 * s6 - s6) / r


@pytest.fixture(scope="module")
def reference():
    fl = lj_fluid(4, 0.776, 0.85)
    smp = fl.sampler(seed=3).run([fl.lj_term()], 1000, 1000, 50, record_forces=True)
    return fl, smp


def test_force_matching_recovers_lj_force_within_2_percent(reference):
    fl, smp = reference
    # identity mapping (one atom per bead) through the mapping machinery
    n = fl.system.n_particles
    m = Mapping.by_molecule(n, [[0]], ["A"], fl.system.masses)
    x = m.map_positions(smp.frames, fl.system.box)
    f = m.map_forces(smp.forces)
    res = force_match(x, f, fl.system.box, m.bead_type_names, 2.5, n_knots=40)
    r = np.linspace(0.95, 2.5, 400)[:-1]
    err = np.abs(res.force(("A", "A"), r) - _lj_force(r))
    scale = np.abs(_lj_force(r)).max()
    assert err.max() < 0.02 * scale
    # pointwise within 2% wherever the force is not near its zero crossing
    big = np.abs(_lj_force(r)) > 0.05 * scale
    assert np.all(err[big] < 0.02 * np.abs(_lj_force(r[big])))
    assert res.residual < 1e-4
    # the table built from the fit integrates to the shifted LJ potential
    t = res.tables[("A", "A")]
    s6 = r**-6
    u_lj = 4 * (s6 * s6 - s6) - 4 * (2.5**-12 - 2.5**-6)
    assert np.max(np.abs(t.energy(r) - u_lj)) < 0.02


def test_force_matching_inputs(reference):
    fl, smp = reference
    with pytest.raises(CGInputError, match="must both be"):
        force_match(smp.frames, smp.forces[:, :10], fl.system.box, fl.system.type_names, 2.5)
    with pytest.raises(CGInputError, match="type names"):
        force_match(smp.frames, smp.forces, fl.system.box, ("A",), 2.5)
    bad = np.array(smp.forces[:3])
    bad[2, 7, 1] = np.nan
    with pytest.raises(CGInputError, match=r"forces.*frame 2.*bead 7"):
        force_match(smp.frames[:3], bad, fl.system.box, fl.system.type_names, 2.5)
    bad = np.array(smp.frames[:3])
    bad[1, 4, 0] = np.inf
    with pytest.raises(CGInputError, match=r"positions.*frame 1.*bead 4"):
        force_match(bad, smp.forces[:3], fl.system.box, fl.system.type_names, 2.5)


@pytest.mark.slow
def test_force_matched_potential_reproduces_the_rdf(reference):
    """Simulating the force-matched table gives the reference RDF (RMS < 0.02)."""
    fl, smp = reference
    res = force_match(smp.frames, smp.forces, fl.system.box, fl.system.type_names, 2.5)
    ref = fl.sampler(seed=11).run([fl.lj_term()], 2000, 10000, 20)
    cg = fl.sampler(seed=12).run([fl.table_term(res.tables[("A", "A")])], 2000, 10000, 20)
    rms = rdf_rms(fl.rdf(cg), fl.rdf(ref))
    print(f"force-matched RDF rms {rms:.4f}")
    assert rms < 0.02
