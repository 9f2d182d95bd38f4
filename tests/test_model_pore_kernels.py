"""The model pore's fast paths give the numbers of their plain-numpy definitions.

- the compiled wall term equals :class:`stochastic.md.confinement.CylindricalPore` (energy and
  forces to rounding), the compiled site term equals the shifted-force LJ + screened Coulomb
  written out here with numpy;
- the open cross-section A(z) from prefix sums equals the trapezoidal quadrature of
  ``2 pi rho exp(-U/kT)`` on the full (z, rho) grid, and the analytic soft-wall areas deep in
  the pore and in the bath;
- the equilibrium start draws from that grid density: its z and rho moments match the density's
  own (quadrature) moments within 4 standard errors;
- the batched equilibration detection equals the one-FFT-per-start definition;
- the compiled kernels load from numba's on-disk cache in a second process.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

from poreflux.units import COULOMB_KJ_NM
from stochastic.md.confinement import CylindricalPore
from stochastic.md.model_pore import BindingSite, ModelPore, accessible_area
from stochastic.md.system import KB_KJ_PER_MOL_K
from stochastic.pmf.timeseries import detect_equilibration, statistical_inefficiency
from stochastic.pmf.windows import UmbrellaWindow

T = 298.15
KT = KB_KJ_PER_MOL_K * T


def _positions(n: int, seed: int) -> np.ndarray:
    """Points everywhere the walkers go: axis, pore wall, membrane faces, mouths, bath wall."""
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(0, 0.3, n), rng.normal(0, 0.3, n), rng.uniform(-2.5, 2.5, n)])
    q = n // 8
    x[:q, :2] *= 0.2  # in the pore
    x[q : 2 * q, 2] = rng.uniform(-0.62, -0.58, q)  # at the lower face
    # on the axis, on a face, and in the membrane's mid-plane (equal depth below both faces: the
    # lower face wins the tie, as numpy.argmin picks the first minimum)
    x[2 * q : 2 * q + 5] = [[0, 0, 0.1], [0, 0, -0.3], [0, 0, 0.6], [0.3, 0, 0.6], [0.9, 0, 0]]
    return x


def test_compiled_walls_equal_the_confinement_term():
    """Energy and forces of both pierced slabs equal CylindricalPore's to 1e-12 (relative)."""
    pore = ModelPore()
    ps = pore.build_system("K+", n_copies=400, temperature=T)
    x = _positions(400, 1)
    specs = {"pore": (pore.radius, pore.z_lo, pore.z_hi), "bath": (pore.bath_radius, -1e6, 1e6)}
    for term in ps.terms[:2]:
        ref = CylindricalPore(ps.system, *specs[term.name], pore.wall_k)
        f_new, f_ref = np.zeros_like(x), np.zeros_like(x)
        e_new, _ = term.compute(x, None, f_new)
        e_ref, _ = ref.compute(x, None, f_ref)
        assert e_ref > 0
        assert e_new == pytest.approx(e_ref, rel=1e-12)
        np.testing.assert_allclose(f_new, f_ref, rtol=1e-12, atol=1e-9)


def _site_reference(pore: ModelPore, ion_sigma: float, ion_eps: float, x: np.ndarray):
    """Shifted-force LJ + screened Coulomb of a +1 ion with the site atoms, in numpy."""
    s = pore.site
    atoms = s.atom_positions()
    sig, eps = 0.5 * (ion_sigma + s.sigma), math.sqrt(ion_eps * s.epsilon)
    qq = COULOMB_KJ_NM / s.dielectric * s.charge  # ke q_ion q_site / eps_r, q_ion = +1

    def v_dv(r):
        sr6 = (sig / r) ** 6
        scr = np.exp(-r / s.debye_length)
        v = 4 * eps * (sr6**2 - sr6) + qq * scr / r
        dv = -24 * eps * (2 * sr6**2 - sr6) / r - qq * scr * (1 / r**2 + 1 / (s.debye_length * r))
        return v, dv

    d = x[:, None, :] - atoms[None, :, :]
    r = np.linalg.norm(d, axis=2)
    v, dv = v_dv(r)
    v_c, dv_c = v_dv(np.float64(s.cutoff))
    inside = r < s.cutoff
    u = np.where(inside, v - v_c - (r - s.cutoff) * dv_c, 0.0)
    g = np.where(inside, (dv - dv_c) / r, 0.0)
    return u.sum(axis=1), -np.einsum("is,isk->ik", g, d)


@pytest.mark.parametrize("ion", ["K+", "Na+"])
def test_compiled_site_equals_its_formula(ion):
    """Per-ion energies and forces equal the numpy formula to 1e-10 (relative), both inside and
    beyond the cutoff (where they are exactly zero)."""
    from stochastic.md.model_pore import ion_model

    pore = ModelPore()
    model = ion_model(ion)
    ps = pore.build_system(ion, n_copies=300, temperature=T)
    site = ps.terms[-1]
    x = _positions(300, 2)
    x = x[np.min(np.linalg.norm(x[:, None] - pore.site.atom_positions()[None], axis=2), 1) > 0.15]
    site.idx = site.idx[: len(x)]
    u_ref, f_ref = _site_reference(pore, model.sigma, model.epsilon, x)
    forces = np.zeros_like(x)
    energy, _ = site.compute(x, None, forces)
    assert np.count_nonzero(u_ref) > 50 and np.count_nonzero(u_ref == 0.0) > 50
    assert energy == pytest.approx(u_ref.sum(), rel=1e-10)
    np.testing.assert_allclose(forces, f_ref, rtol=1e-10, atol=1e-10 * np.abs(f_ref).max())
    np.testing.assert_allclose(site.energy_at(x), u_ref, rtol=1e-10, atol=1e-12)


def _grid_density(pore: ModelPore, z: np.ndarray, rho: np.ndarray) -> np.ndarray:
    """``rho exp(-U/kT)`` of the bare pore on the (z, rho) grid, U written out in numpy."""
    zz, rr = z[:, None], rho[None, :]
    d_rad, d_lo, d_hi = rr - pore.radius, zz - pore.z_lo, pore.z_hi - zz
    inside = (d_rad > 0) & (d_lo > 0) & (d_hi > 0)
    delta = np.where(inside, np.minimum(np.minimum(d_rad, d_lo), d_hi), 0.0)
    bath = np.maximum(rr - pore.bath_radius, 0.0)
    return rr * np.exp(-0.5 * pore.wall_k * (delta**2 + bath**2) / KT)


def test_cross_section_equals_grid_quadrature_and_soft_wall_areas():
    """A(z) from prefix sums = trapezoid on the grid (1e-12); deep in the pore and in the bath it
    is the analytic soft-wall area ``pi R^2 + 2 pi (R sqrt(pi kT/2k) + kT/k)`` (1e-6)."""
    pore = ModelPore()
    z = np.concatenate([np.linspace(-1.0, 1.0, 201), [pore.z_lo, pore.z_hi, 0.59999, -0.6001]])
    rho = pore._rho_grid(T)
    ref = 2 * np.pi * np.trapezoid(_grid_density(pore, z, rho), rho, axis=1)
    np.testing.assert_allclose(pore.cross_section(z, T), ref, rtol=1e-12)
    deep, bath = pore.cross_section(np.array([0.0, 2.0]), T)
    assert deep == pytest.approx(accessible_area(pore.radius, pore.wall_k, T), rel=1e-6)
    assert bath == pytest.approx(accessible_area(pore.bath_radius, pore.wall_k, T), rel=1e-6)
    assert pore.cross_section(0.3, T).shape == (1,)


@pytest.mark.parametrize("center", [0.0, 0.6, 1.5])
def test_equilibrium_start_samples_the_biased_density(center):
    """Mean and variance of z and rho of 40000 draws match the grid density x window bias
    (quadrature) within 4 standard errors, in the pore, at its mouth and in the bath."""
    pore = ModelPore(site=None)
    window = UmbrellaWindow(center, 700.0, "kJ/mol")
    x = pore._equilibrium_start(window, 40_000, T, np.random.default_rng(3))
    kap = window.kappa_kT(T)
    z = np.linspace(center - 6 / math.sqrt(kap), center + 6 / math.sqrt(kap), 301)
    rho = pore._rho_grid(T)
    dens = _grid_density(pore, z, rho) * np.exp(-0.5 * kap * (z - center) ** 2)[:, None]
    p = dens / dens.sum()
    for name, sample, grid in (
        ("z", x[:, 2], np.broadcast_to(z[:, None], p.shape)),
        ("rho", np.hypot(x[:, 0], x[:, 1]), np.broadcast_to(rho[None, :], p.shape)),
    ):
        mean = float(np.sum(p * grid))
        var = float(np.sum(p * (grid - mean) ** 2))
        se = math.sqrt(var / sample.size)
        assert abs(sample.mean() - mean) < 4 * se, (name, sample.mean(), mean, se)
        assert abs(sample.var() / var - 1) < 4 * math.sqrt(2 / sample.size) + 0.01, name


def _ar1(n: int, a: float, rng: np.random.Generator) -> np.ndarray:
    e = rng.standard_normal(n)
    x = np.empty(n)
    x[0] = e[0] / math.sqrt(1 - a * a)
    for i in range(1, n):
        x[i] = a * x[i - 1] + e[i]
    return x


def _detect_reference(x: np.ndarray, n_candidates: int = 50) -> tuple[int, float]:
    """Chodera's scan: one statistical_inefficiency (FFT) per candidate start."""
    n = x.size
    best = (0, 1.0, -1.0)
    for t0 in np.unique(np.linspace(0, n // 2, n_candidates).astype(int)):
        if n - t0 < 3:
            break
        g = statistical_inefficiency(x[t0:])
        if (n - t0) / g > best[2]:
            best = (int(t0), g, (n - t0) / g)
    return best[0], best[1]


def test_batched_equilibration_detection_equals_the_fft_scan():
    """Same t0 and g (1e-10) as the FFT scan on short-memory, long-memory (the FFT fallback),
    drifting, white and constant series."""
    rng = np.random.default_rng(5)
    drift = _ar1(2000, 0.6, rng) + 40 * np.exp(-np.arange(2000) / 150)
    series = [_ar1(12_000, 0.8, rng) + 2.0, _ar1(4000, 0.995, rng), drift,
              rng.standard_normal(500), np.ones(50), _ar1(5, 0.5, rng)]  # fmt: skip
    for x in series:
        t0, g, neff = detect_equilibration(x)
        t_ref, g_ref = _detect_reference(x)
        assert t0 == t_ref
        assert g == pytest.approx(g_ref, rel=1e-10)
        assert neff == pytest.approx((x.size - t0) / g, rel=1e-12)
    assert detect_equilibration(drift)[0] > 300  # the drift is cut off


@pytest.mark.slow
def test_compiled_kernels_load_from_the_cache_in_a_second_process(tmp_path):
    """numba ``cache=True``: a fresh process with the same cache folder compiles nothing
    (two fresh processes, ~10 s idle: slow suite)."""
    script = (
        "import numpy as np\n"
        "from stochastic.md.model_pore import ModelPore\n"
        "from stochastic.md.model_pore_kernels import cylinder_forces, site_forces\n"
        "ps = ModelPore().build_system('K+', n_copies=4)\n"
        "x = np.zeros((4, 3)); f = np.zeros((4, 3))\n"
        "[t.compute(x, None, f) for t in ps.terms]\n"
        "ps.terms[-1].energy_at(x)\n"
        "print(sum(len(k.stats.cache_misses) for k in (cylinder_forces, site_forces)),\n"
        "      sum(len(k.stats.cache_hits) for k in (cylinder_forces, site_forces)))\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    cmd = [sys.executable, "-c", script]
    runs = [
        subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout.split()
        for _ in range(2)
    ]
    assert int(runs[0][0]) >= 2  # compiled (and saved) in the first process
    assert runs[1] == ["0", runs[1][1]] and int(runs[1][1]) >= 2  # loaded in the second


def test_model_pore_site_beyond_cutoff_and_bad_site_input():
    """The site term is exactly zero beyond its cutoff for both ions."""
    pore = ModelPore(site=BindingSite(cutoff=0.8))
    for ion in ("K+", "Na+"):
        site = pore.build_system(ion, n_copies=2, temperature=T).terms[-1]
        far = np.array([[0.0, 0.0, 0.1 + 0.8 + 0.1 + 0.05], [0.3, 0.0, -1.2]])
        assert np.all(site.energy_at(far) == 0.0)


def test_walker_umbrella_slice_and_gather_paths_agree():
    """The bias on consecutive walkers (a slice) and on scattered ones (a gather) both give
    ``-k (x - c)`` on the tagged coordinate only and ``k/2 sum (x - c)^2``."""
    from stochastic.pmf.md_sampler import WalkerUmbrella

    x = _positions(40, 4)
    for idx in (np.arange(3, 23), np.array([30, 2, 17, 5, 9])):
        forces = np.zeros_like(x)
        energy, _ = WalkerUmbrella(idx, 2, 700.0, 0.4, "u").compute(x, None, forces)
        dev = x[idx, 2] - 0.4
        expected = np.zeros_like(x)
        expected[idx, 2] = -700.0 * dev
        np.testing.assert_array_equal(forces, expected)
        assert energy == pytest.approx(350.0 * float(dev @ dev), rel=1e-14)
