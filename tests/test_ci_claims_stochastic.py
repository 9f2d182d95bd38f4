"""CI-sized versions of stochastic claims whose full-size checks are marked slow.

- Brownian dynamics with a position-dependent D(z) over a barrier: the mean first-passage time
  equals the Smoluchowski MFPT with the same D(z) (full size:
  ``test_brownian_in_profile_mfpt_with_D_of_z_matches_smoluchowski`` in tests/test_langevin.py).
- The model-pore umbrella sampler with the physical (Einstein) friction: Hummer's D in a bath
  window is the species' D, and the restrained distribution at the pore mouth is the exact
  entropic PMF's whatever the friction (full size: ``test_model_pore_physical_friction_and_resume``
  in tests/test_pmf_md.py, ~100 s).

Tolerances are 4 standard errors measured in the same run plus the stated method bias.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import trapezoid

from poreflux.units import kT_kj_per_mol
from stochastic import langevin as lg
from stochastic import smoluchowski as sm
from stochastic.first_passage import first_passage_times
from stochastic.md.model_pore import ModelPore
from stochastic.pmf.diffusion import hummer_diffusion
from stochastic.pmf.md_sampler import MDSampler
from stochastic.pmf.windows import UmbrellaWindow
from stochastic.profiles import Profile

T = 298.15


# ----------------------------------------------------------------------------- BD with D(z)
def test_bd_mfpt_with_D_of_z_matches_smoluchowski():
    """BD (Euler-Maruyama with the noise-induced drift dD/dz) over a 2 kT cubic barrier with D
    rising from 1 to 1.5 nm^2/ns across it; 2000 particles from the well, reflecting at -0.4 nm,
    absorbing at 0.85 nm.

    Tolerance: 4 standard errors of the mean passage time (measured: 1.8 %) + 3 % time-step
    bias (D dt W'' = 0.04; measured -1.6 +- 1.1 % with 5000 particles at 0.04 and at 0.02).
    Measured ratio 0.98-1.01 over 3 seeds. Without the dD/dz drift the ratio is 2.06; with a
    constant D it moves by the D(z) contrast (~30 %).
    """
    a, barrier = 0.5, 2.0
    p = Profile.from_callables(
        lambda z: barrier * (3 * (z / a) ** 2 - 2 * (z / a) ** 3),
        lambda z: 1.0 + 0.5 * np.tanh((z - 0.3) / 0.2),
        z_range=(-0.4, 0.9),
        temperature=T,
        n=1301,
    )
    t_ref = 1e3 * sm.mfpt(p, 0.0, bounds=(-0.4, 0.85))  # ps
    dt = 0.04 / (1.5e-3 * barrier * 6 / a**2)  # D_max dt W''(0) = 0.04 [D in nm^2/ps]
    walls = lg.Walls(-0.4, 0.85, "reflecting", "absorbing")
    integ = lg.brownian_in_profile(p, dt=dt, walls=walls)
    n = 2000
    rng = lg.make_rng(5)
    fp = first_passage_times(integ, integ.init_fn(np.zeros(n)), rng, t_max=4 * t_ref)
    absorbed = fp.times[fp.side != 0]
    assert absorbed.size > 0.95 * n
    se = float(np.std(absorbed)) / np.sqrt(n) / t_ref
    ratio = fp.mean_with_tail() / t_ref
    assert abs(ratio - 1.0) < 4 * se + 0.03, (ratio, se)


# ----------------------------------------------------------------------------- pore PMF
def _pore_window(pore, friction, center, kappa, n_walkers, per_walker, stride, seed):
    """Samples (walker after walker) of Na+ in one umbrella window of the bare model pore."""
    setup = pore.build_system("Na+", n_copies=n_walkers, temperature=T)
    sampler = MDSampler(
        setup.system,
        setup.terms,
        setup.positions,
        setup.ions,
        T,
        setup.friction if friction is None else friction,
        0.004,
        stride=stride,
        n_equilibration=200,
        place=setup.place,
    )
    window = UmbrellaWindow(center, kappa, "kJ/mol")
    xi = sampler(window, n_walkers * per_walker, np.random.default_rng(seed))
    return setup, sampler, xi.reshape(n_walkers, per_walker)


def test_pore_sampler_physical_friction_gives_species_D_in_the_bath():
    """Bath window (z = 1.2 nm, the pore ends at 0.4 nm), Einstein friction kT/(m D_Na):
    Hummer's D equals the species' D within 4 of its block standard errors (measured
    0.90-1.04 x D, SE 5-6 %, over 3 seeds), and the window variance is kT/kappa within 10 %
    (measured +0.7 to +2 %). A friction off by 2 gives D off by 2."""
    pore = ModelPore(site=None, length=0.8)
    kappa = 5000.0  # kJ/mol/nm^2: window correlation time m gamma / kappa = 0.37 ps
    setup, sampler, xi = _pore_window(pore, None, 1.2, kappa, 64, 1500, 3, seed=1)
    assert setup.friction == pytest.approx(
        kT_kj_per_mol(T) / (setup.system.masses[0] * setup.diffusion), rel=1e-12
    )
    est = hummer_diffusion(xi.reshape(-1), sampler.sample_interval)
    assert abs(est.D - setup.diffusion) < 4 * est.sigma, (est.D, est.sigma, setup.diffusion)
    assert est.sigma < 0.1 * setup.diffusion
    assert abs(est.variance / (kT_kj_per_mol(T) / kappa) - 1.0) < 0.10


def test_pore_mouth_window_follows_the_exact_pmf_with_physical_friction():
    """A window centred on the pore mouth (z = 0.4 nm) feels the entropic force of the bare pore
    (W = -ln(A(z)/A_bath), exact): the mean of the restrained coordinate is
    int z e^{-W-U} / int e^{-W-U} = 0.4158 nm, pushed out of the pore by the PMF's slope. With
    the physical (Einstein) friction the walker mean agrees with it within 4 standard errors
    (between walkers) + 2e-3 nm (the tabulated cross-section); measured 0.4135 +- 0.0027 nm with
    32 walkers. (The friction-5/ps runs of the same sampler are checked against the exact PMF in
    tests/test_pmf_md.py.) Without the walls' entropy the mean would be the centre."""
    pore = ModelPore(site=None, length=0.8)
    kappa, center = 2000.0, 0.4
    z = np.linspace(center - 0.3, center + 0.3, 3001)
    u = pore.bare_pmf(z, T) + 0.5 * kappa * (z - center) ** 2 / kT_kj_per_mol(T)
    weight = np.exp(-(u - u.min()))
    exact = trapezoid(z * weight, z) / trapezoid(weight, z)
    assert abs(exact - center) > 5e-3  # the PMF's slope is felt
    _, _, xi = _pore_window(pore, None, center, kappa, 64, 400, 4, seed=2)
    means = xi.mean(axis=1)
    se = float(np.std(means, ddof=1)) / np.sqrt(len(means))
    assert abs(float(means.mean()) - exact) < 4 * se + 2e-3, (means.mean(), exact, se)
    assert 4 * se + 2e-3 < 0.7 * (exact - center)  # the test resolves the shift
