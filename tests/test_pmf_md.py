"""Umbrella sampling on the particle-MD core (MDSampler) and the MD model pore (issue 7, part A).

Physics checks:
- a particle in a known 1D double well along z, sampled by Langevin MD in harmonic windows:
  WHAM and MBAR reproduce the exact Boltzmann PMF;
- Hummer's D from an MD window equals the Einstein D = kT/(m gamma) set by the friction;
- resuming a run adds samples without recomputing finished windows;
- the model pore without site has the exact, purely entropic PMF -ln(A(z)/A_bath) (A = open,
  Boltzmann-weighted cross-section); with the site the K+ and Na+ analogues differ at the site and
  the PMF is flat in the baths;
- bad inputs raise clear errors.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from poreflux.units import kT_kj_per_mol
from stochastic.md.errors import MDInputError
from stochastic.md.model_pore import BindingSite, ModelPore, accessible_area
from stochastic.md.system import ParticleType, System
from stochastic.pmf.data import decorrelate
from stochastic.pmf.diffusion import diffusion_profile, hummer_diffusion
from stochastic.pmf.errors import PMFInputError, SamplingWarning
from stochastic.pmf.mbar import mbar
from stochastic.pmf.md_sampler import MDSampler, friction_for_diffusion
from stochastic.pmf.pore_umbrella import PorePMF, pore_pmf
from stochastic.pmf.umbrella import UmbrellaSampling, load_run
from stochastic.pmf.wham import wham
from stochastic.pmf.windows import UmbrellaWindow, evenly_spaced_windows

T = 298.15
KT = kT_kj_per_mol(T)


class ZDoubleWell:
    """External force term ``U = Eb ((z/z0)^2 - 1)^2`` [kJ/mol] on every particle (test only)."""

    cutoff = None
    name = "double_well"

    def __init__(self, eb_kj: float, z0: float):
        self.eb, self.z0 = eb_kj, z0

    def compute(self, x, nlist, forces):
        u = x[:, 2] / self.z0
        forces[:, 2] -= self.eb * 4.0 * (u * u - 1.0) * u / self.z0
        return float(np.sum(self.eb * (u * u - 1.0) ** 2)), 0.0


def walkers(n: int, mass: float, name: str = "P") -> System:
    return System.from_counts([ParticleType(name, mass)], [n])


def dw_sampler(n_walkers: int = 16) -> MDSampler:
    mass, d = 2.0, 0.05  # amu, nm^2/ps (a light, fast particle: tau ~ 0.1 ps per window)
    gamma = friction_for_diffusion(d, mass, T)
    return MDSampler(
        walkers(n_walkers, mass),
        (ZDoubleWell(3.0 * KT, 0.5),),
        np.zeros((n_walkers, 3)),
        tuple(range(n_walkers)),
        T,
        gamma,
        0.005,
        stride=10,
        n_equilibration=500,
    )


def test_md_double_well_pmf_matches_boltzmann():
    """MD windows (17 x 16 walkers x 600 samples) over a 3 kT double well: WHAM and MBAR within
    0.2 kT RMS of the exact PMF on [-1.5, 1.5] z0 (measured 0.04-0.09 kT over 8 seeds)."""
    sampler = dw_sampler()
    windows = evenly_spaced_windows(-0.8, 0.8, 17, kappa=200.0)  # kT/nm^2
    run = UmbrellaSampling(
        windows, sampler, None, seed=3, dt=sampler.sample_interval, progress=False
    )
    raw = run.run(16 * 600)
    data = decorrelate(raw)
    for est in (wham, mbar):
        res = est(data, bins=40, range=(-0.75, 0.75))
        exact = 3.0 * ((res.grid / 0.5) ** 2 - 1.0) ** 2
        diff = res.pmf - exact
        diff -= diff.mean()
        rms = float(np.sqrt(np.mean(diff**2)))
        print(f"{est.__name__}: RMS error {rms:.3f} kT")
        assert rms < 0.2


def test_md_hummer_diffusion_equals_einstein():
    """Hummer's D in one stiff MD window (no other force) within 10 % of D = kT/(m gamma)
    (measured 0.96-1.05 x D over 5 seeds with 64 walkers x 3000 samples)."""
    n_w, mass, d_set = 64, 39.1, 2.0e-3
    gamma = friction_for_diffusion(d_set, mass, T)
    sampler = MDSampler(
        walkers(n_w, mass), (), np.zeros((n_w, 3)), tuple(range(n_w)), T, gamma, 0.005,
        stride=5, n_equilibration=400,
    )  # fmt: skip
    assert sampler.einstein_diffusion() == pytest.approx(d_set, rel=1e-12)
    xi = sampler(UmbrellaWindow(0.3, 5000.0, "kJ/mol"), n_w * 3000, np.random.default_rng(7))
    est = hummer_diffusion(xi, sampler.sample_interval)
    print(f"Hummer D = {est.D:.4e} +- {est.sigma:.1e} nm^2/ps, Einstein {d_set:.4e}")
    assert abs(est.D / d_set - 1.0) < 0.10
    # the window's variance is the equipartition value kT/kappa
    assert est.variance == pytest.approx(KT / 5000.0, rel=0.05)
    assert est.position == pytest.approx(0.3, abs=0.005)


def test_md_sampler_kappa_units_and_resume(tmp_path):
    """kappa in kT and in kJ/mol give the same window; a resumed/extended run adds samples and
    leaves finished windows untouched; load_run/diffusion_profile see dt = stride * dt_md."""
    sampler = dw_sampler(n_walkers=4)
    w_kt = UmbrellaWindow(0.5, 400.0, "kT")
    w_kj = UmbrellaWindow(0.5, 400.0 * KT, "kJ/mol")
    a = sampler(w_kt, 40, np.random.default_rng(1))
    b = sampler(w_kj, 40, np.random.default_rng(1))
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)

    windows = evenly_spaced_windows(-0.6, 0.6, 4, kappa=200.0)
    folder = tmp_path / "run"
    first = UmbrellaSampling(
        windows, sampler, folder, seed=5, dt=sampler.sample_interval, progress=False
    )
    first.run(200)
    before = [np.load(folder / f"window_{k:03d}.npz")["xi"].copy() for k in range(4)]
    stamps = [(folder / f"window_{k:03d}.npz").stat().st_mtime_ns for k in range(4)]

    calls = []

    def counting(window, n, rng, start=None):
        calls.append((window.center, n, start))
        return sampler(window, n, rng, start=start)

    again = UmbrellaSampling(
        windows, counting, folder, seed=5, dt=sampler.sample_interval, progress=False
    )
    again.run(200)  # nothing missing: no sampler call, files untouched
    assert calls == []
    assert [(folder / f"window_{k:03d}.npz").stat().st_mtime_ns for k in range(4)] == stamps
    raw = again.extend(100)
    assert len(calls) == 4 and all(n == 100 for _, n, _ in calls)
    assert all(s == pytest.approx(x[-1]) for (_, _, s), x in zip(calls, before, strict=True))
    for k in range(4):
        np.testing.assert_array_equal(raw.samples[k][:200], before[k])
        assert raw.samples[k].size == 300
    stored = load_run(folder)
    assert stored.dt == pytest.approx(sampler.sample_interval)
    assert json.loads((folder / "manifest.json").read_text())["dt"] == pytest.approx(0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SamplingWarning)
        prof = diffusion_profile(stored, n_blocks=2)
    assert np.all(prof.D > 0)


# --- model pore ----------------------------------------------------------------------------
SMALL = {"length": 0.8}
QUICK = {"quick": True, "friction": 5.0, "n_walkers": 128, "n_samples": 12800, "stride": 10,
         "n_equilibration": 300}  # fmt: skip


@pytest.fixture(scope="module")
def site_pmfs() -> dict[str, PorePMF]:
    pore = ModelPore(site=BindingSite(cutoff=0.8), **SMALL)
    with warnings.catch_warnings():  # short walkers: D(z) is biased, W(z) is what is tested
        warnings.simplefilter("ignore", SamplingWarning)
        return {ion: pore_pmf(pore, ion, None, seed=11, **QUICK) for ion in ("K+", "Na+")}


def test_model_pore_without_site_is_entropic():
    """Bare pore: W(z) = -ln(A(z)/A_bath) exactly (walls only). MBAR within 3 sigma + 0.15 kT of
    the pore plateau -ln(A_pore/A_bath) = 3.29 kT, and within 0.4 kT RMS of the exact profile away
    from the mouths (measured 3.41 +- 0.29 kT and 0.155 kT here; 2.80-3.46 kT and 0.12-0.28 kT
    over 4 other seeds)."""
    pore = ModelPore(site=None, **SMALL)
    expected = pore.confinement_free_energy(T)
    a_p = accessible_area(pore.radius, pore.wall_k, T)
    a_b = accessible_area(pore.bath_radius, pore.wall_k, T)
    assert expected == pytest.approx(-np.log(a_p / a_b))
    # the quadrature of the exact profile agrees with the closed form inside the pore
    assert pore.bare_pmf(np.array([0.0]), T)[0] == pytest.approx(expected, rel=1e-4)
    with warnings.catch_warnings():  # short walkers: D(z) may be flagged, W(z) is tested
        warnings.simplefilter("ignore", SamplingWarning)
        res = pore_pmf(pore, "K+", None, seed=2, bath_extent=0.6, **QUICK)
    g, w, s = res.pmf.grid, res.pmf.pmf, res.pmf.sigma
    inner = np.abs(g) < 0.25
    plateau = float(np.mean(w[inner]))
    sig = float(np.mean(s[inner]))
    print(f"bare pore plateau {plateau:.2f} +- {sig:.2f} kT, exact {expected:.2f} kT")
    assert abs(plateau - expected) < 3 * sig + 0.15
    away = np.abs(np.abs(g) - 0.5 * pore.length) > 0.08
    d = w[away] - pore.bare_pmf(g[away], T)
    d -= d.mean()
    rms = float(np.sqrt(np.mean(d**2)))
    print(f"RMS deviation from the exact bare-pore profile: {rms:.3f} kT")
    assert rms < 0.4


def test_model_pore_selectivity_emerges(site_pmfs):
    """K+ and Na+ analogues see the same site but get different PMFs there (the cage fits Na+):
    W_K(0) - W_Na(0) > 1 kT and > 3 sigma (measured 2.74 +- 0.46 kT here, 2.7-3.4 kT over 4
    other seeds)."""
    wk, sk = site_pmfs["K+"].value_at(0.0)
    wn, sn = site_pmfs["Na+"].value_at(0.0)
    print(f"W(site): K+ {wk:.2f} +- {sk:.2f} kT, Na+ {wn:.2f} +- {sn:.2f} kT")
    diff = wk - wn
    assert diff > 1.0
    assert diff > 3.0 * np.hypot(sk, sn)


def test_model_pore_flat_in_bath(site_pmfs):
    """Beyond the site's cutoff the PMF is flat: in each bath the spread of W over the bins is
    < 0.25 kT and the two baths agree within 3 sigma + 0.1 kT (measured spreads 0.06-0.09 kT,
    gaps 0.0-0.9 kT with sigma 0.37-0.51 kT over 5 seeds)."""
    for ion, r in site_pmfs.items():
        g, w, s = r.pmf.grid, r.pmf.pmf, r.pmf.sigma
        assert r.pmf.sigma is not None and r.temperature == T and r.ion == ion
        far = 1.2  # |z| beyond which no site atom is within the 0.8 nm cutoff
        lo, hi = g < -far, g > far
        spread = max(np.std(w[lo]), np.std(w[hi]))
        gap = abs(np.mean(w[hi]) - np.mean(w[lo]))
        print(f"{ion}: bath spread {spread:.3f} kT, bath-bath {gap:.2f} +- {np.mean(s[hi]):.2f}")
        assert spread < 0.25
        assert gap < 3 * np.mean(s[hi]) + 0.1
        # D profile: one Hummer estimate per window, positive, in nm^2/ps
        assert r.diffusion.D.size == len(r.pmf.f_k) and np.all(r.diffusion.D > 0)


def test_model_pore_system_and_geometry():
    """Einstein friction gives the species' D; site energies (the matching continuum geometry:
    pnp.hierarchy.channel_geometry, tests/test_pmf_coupling.py)."""
    pore = ModelPore()
    ps = pore.build_system("Na+", n_copies=3, temperature=T)
    m = ps.system.masses[0]
    assert KT / (m * ps.friction) == pytest.approx(ps.diffusion)
    assert ps.diffusion == pytest.approx(1.334e-3, rel=1e-3)  # poreflux.species Na+ at 298.15 K
    assert ps.system.n_particles == 3 and ps.ions == (0, 1, 2)
    # the site term vanishes beyond its cutoff and its forces match finite differences
    site = ps.terms[-1]
    far = np.array([[0.0, 0.0, pore.site.cutoff + 0.5]])
    assert site.energy_at(far)[0] == 0.0
    from stochastic.md.forcefield import ForceField

    ff = ForceField(ps.system, ps.terms)
    x = np.array([[0.03, 0.02, 0.05], [0.05, -0.01, -0.1], [0.0, 0.1, 0.5]])
    f = ff.compute(x).forces
    h = 1e-6
    for i in range(3):
        for k in range(3):
            xp, xm = x.copy(), x.copy()
            xp[i, k] += h
            xm[i, k] -= h
            fd = -(ff.energy(xp) - ff.energy(xm)) / (2 * h)
            assert f[i, k] == pytest.approx(fd, rel=1e-5, abs=1e-4)


def test_bad_inputs():
    with pytest.raises(MDInputError, match="radius"):
        ModelPore(radius=-0.1)
    with pytest.raises(MDInputError, match="outside the pore"):
        ModelPore(length=1.0, site=BindingSite(z=0.6))
    with pytest.raises(MDInputError, match="ring radius"):
        ModelPore(radius=0.3, site=BindingSite(ring_radius=0.25))
    with pytest.raises(MDInputError, match="bath_radius"):
        ModelPore(radius=0.5, bath_radius=0.4)
    with pytest.raises(MDInputError, match="unknown ion"):
        ModelPore().build_system("Li+")
    with pytest.raises(MDInputError, match="unknown ion"):
        pore_pmf(ModelPore(), "Cl-", None)
    with pytest.raises(PMFInputError, match="ModelPore"):
        pore_pmf("pore", "K+", None)
    with pytest.raises(PMFInputError, match="friction"):
        MDSampler(walkers(1, 1.0), (), np.zeros((1, 3)), (0,), T, -1.0, 0.01)
    with pytest.raises(PMFInputError, match="tagged"):
        MDSampler(walkers(1, 1.0), (), np.zeros((1, 3)), (3,), T, 1.0, 0.01)
    with pytest.raises(PMFInputError, match="periodic"):
        dw_sampler(2)(UmbrellaWindow(0.0, 1.0, period=1.0), 4, np.random.default_rng(0))
    with pytest.raises(PMFInputError, match="diffusion"):
        friction_for_diffusion(0.0, 1.0, T)


@pytest.mark.slow
def test_model_pore_physical_friction_and_resume(tmp_path, monkeypatch, site_pmfs):
    """Physical friction (Einstein, the species' D): Hummer D in the baths within 15 % of the
    species' D; the PMF does not depend on the friction (matches the friction-5/ps run within
    3 sigma + 0.3 kT at the site and beyond); a second call on the same folder resumes (no new
    samples) and returns the same PMF. Measured: D_bath = 1.372e-3 vs 1.334e-3 nm^2/ps (+2.9 %),
    W_Na(0) = -1.47 +- 0.43 kT (physical) vs -1.45 +- 0.27 kT (5/ps); ~100 s."""
    pore = ModelPore(site=BindingSite(cutoff=0.8), **SMALL)
    opts = {"n_windows": 30, "n_walkers": 32, "n_samples": 32 * 800, "stride": 25, "seed": 4}
    res = pore_pmf(pore, "Na+", tmp_path / "na", **opts)
    ps = pore.build_system("Na+", temperature=T)
    bath = np.abs(res.diffusion.position) > 0.5 * pore.length + 0.3
    d_bath = float(np.median(res.diffusion.D[bath]))
    print(f"Hummer D in the baths {d_bath:.3e} nm^2/ps, species {ps.diffusion:.3e}")
    assert abs(d_bath / ps.diffusion - 1.0) < 0.15
    fast = site_pmfs["Na+"]
    for z in (0.0, -1.3, 1.3):
        w1, s1 = res.value_at(z)
        w2, s2 = fast.value_at(z)
        print(f"z = {z}: W {w1:.2f} +- {s1:.2f} (physical friction), {w2:.2f} +- {s2:.2f} (5/ps)")
        assert abs(w1 - w2) < 3 * np.hypot(s1, s2) + 0.3
    calls = []
    original = MDSampler.__call__

    def spy(self, *args, **kwargs):
        calls.append(1)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(MDSampler, "__call__", spy)
    again = pore_pmf(pore, "Na+", tmp_path / "na", **opts)
    assert calls == []
    np.testing.assert_array_equal(again.pmf.pmf, res.pmf.pmf)
