"""Bottom-up CG of a molecular fluid: LJ dimers -> one centre-of-mass bead per molecule.

Reference: 256 rigid-ish dimers (two LJ sites, sigma = epsilon = m = 1, harmonic bond 0.5 sigma,
intramolecular LJ excluded) at T* = 1.5 and 0.3 molecules/sigma^3, Newtonian dynamics. The
mapped positions and forces give the CG target RDF, force-matched pair force and the reference
centre-of-mass diffusion coefficient. The un-thermostatted CG model diffuses faster (speed-up
printed); friction calibration restores D. Slow (a few minutes of CPU).

RDF bound. Pair MS-CG does not reproduce the g(r) of a molecular fluid exactly (it is the
force projection, not the structure fit): two independent 20000-step CG runs averaged differ
from the reference by 0.041 RMS (bins 0.02 sigma; over-structured first peak, 2.60 vs 2.47),
of which about 0.037 is systematic. Independent Newtonian runs of one model differ from each
other by 0.036, three times the block-average noise floor of one run (0.011: the block errors
do not see the run-to-run spread of NVE runs, e.g. of their total energy), so a single run
is 0.037-0.052 from the reference (measured 0.052 and 0.037). The test asserts the 0.04
systematic limit plus twice the run-to-run noise measured with a second CG run.
"""

import numpy as np
import pytest

from stochastic.cg.force_matching import force_match
from stochastic.cg.mapping import Mapping
from stochastic.cg.mobility import calibrate_friction
from stochastic.cg.sampling import FluidSampler
from stochastic.cg.tabulated import TabulatedPair
from stochastic.cg.targets import compute_rdf, diffusion_estimate, rdf_noise, rdf_rms
from stochastic.md.bonded import HarmonicBonds
from stochastic.md.init import fcc_lattice
from stochastic.md.lj import LennardJones
from stochastic.md.system import ParticleType, System, reduced_temperature_to_kelvin

pytestmark = pytest.mark.slow

FIT = (2.0, 10.0)


def test_dimer_fluid_force_matching_and_mobility():
    com, box = fcc_lattice(4, 0.3)
    n = len(com)
    rng = np.random.default_rng(0)
    b = rng.normal(size=(n, 3))
    b *= 0.25 / np.linalg.norm(b, axis=1)[:, None]
    x = np.empty((2 * n, 3))
    x[0::2], x[1::2] = com - b, com + b
    bonds = [(2 * k, 2 * k + 1) for k in range(n)]
    atoms = System.from_counts([ParticleType("S", 1.0, 0, 1.0, 1.0)], [2 * n], box, bonds)
    temp = reduced_temperature_to_kelvin(1.5)
    terms = [LennardJones(atoms, 2.5, mode="shifted"), HarmonicBonds(atoms, bonds, 2000.0, 0.5)]
    ref = FluidSampler(atoms, x, temp, dt=0.004, seed=1).run(
        terms, 6000, 20000, 20, newtonian=True, record_forces=True
    )
    mapping = Mapping.by_molecule(n, [[0, 1]], ["B"], atoms.masses)
    xb = mapping.map_positions(ref.frames, box)
    fb = mapping.map_forces(ref.forces)
    # bond forces cancel inside each bead; the total force is unchanged by the map
    assert np.allclose(fb.sum(1), ref.forces.sum(1), atol=1e-8)
    d_ref = diffusion_estimate(xb, ref.frame_dt, *FIT)
    rc = 3.0
    g_ref = compute_rdf(xb, box, np.arange(n), None, rc, 0.02)
    fm = force_match(xb[::5], fb[::5], box, mapping.bead_type_names, rc, regularization=1e-6)

    beads = System.from_counts([ParticleType("B", float(mapping.bead_masses[0]))], [n], box)
    term = TabulatedPair(beads, {("B", "B"): fm.tables[("B", "B")]})
    cg = FluidSampler(beads, xb[-1], temp, dt=0.004, seed=2)
    free = cg.run([term], 3000, 20000, 20, newtonian=True)
    d_free = diffusion_estimate(free.frames, free.frame_dt, *FIT)
    g_cg = compute_rdf(free.frames, box, np.arange(n), None, rc, 0.02)
    rms = rdf_rms(g_cg, g_ref)
    other = FluidSampler(beads, xb[0], temp, dt=0.004, seed=12).run([term], 3000, 20000, 20,
                                                                    newtonian=True)  # fmt: skip
    run_noise = rdf_rms(compute_rdf(other.frames, box, np.arange(n), None, rc, 0.02), g_cg)
    run_noise /= np.sqrt(2.0)  # one run's RMS deviation from its expectation

    def evaluate(gam):
        smp = cg.run([term], 1000, 20000, 20, friction=gam)
        return {"B": diffusion_estimate(smp.frames, smp.frame_dt, *FIT)}

    cal = calibrate_friction(evaluate, {"B": d_ref.value}, {"B": d_free.value}, {"B": 2.0}, temp,
                             tolerance=0.02, max_evaluations=8)  # fmt: skip
    print(f"FM residual {fm.residual:.3f}, CG RDF rms {rms:.4f} (run-to-run noise "
          f"{run_noise:.4f}, block noise floor {rdf_noise(g_cg, g_ref):.4f})")  # fmt: skip
    print(cal.report())
    assert rms < 0.04 + 2 * run_noise
    assert fm.residual < 1.0
    assert cal.speedup["B"] > 1.0
    assert abs(cal.relative_error["B"]) < 0.05
