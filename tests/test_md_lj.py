"""Lennard-Jones term, neighbour lists, NVE energy conservation and the NIST LJ fluid."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.integrate import quad

from stochastic.md.errors import MDInputError, OverlapError
from stochastic.md.forcefield import ForceField
from stochastic.md.init import fcc_lattice, maxwell_boltzmann, random_positions
from stochastic.md.integrators import LangevinBAOAB, VelocityVerlet
from stochastic.md.lj import LennardJones, lj_reference
from stochastic.md.neighbors import NeighborList
from stochastic.md.observers import EnergyReporter
from stochastic.md.reference_data import LAMMPS_LJ_EPAIR_STEP0, NIST_LJ_RC3
from stochastic.md.simulation import Simulation
from stochastic.md.system import Box, ParticleType, System, reduced_temperature_to_kelvin
from stochastic.md.testing import numerical_forces, relative_force_error

AR = ParticleType("A", 1.0, 0.0, 1.0, 1.0)
B = ParticleType("B", 2.0, 0.0, 1.3, 0.6)


def mixture(n: int = 60, density: float = 0.5, seed: int = 3) -> tuple[System, np.ndarray]:
    box = Box(((n / density) ** (1 / 3),) * 3)
    pos = random_positions(n, box, 0.95, seed=seed)
    return System.from_counts([AR, B], [n // 2, n - n // 2], box), pos


@pytest.mark.parametrize(
    ("mode", "kwargs"),
    [("plain", {}), ("shifted", {}), ("switched", {"switch_distance": 1.6})],
)
def test_lj_forces_are_minus_gradient(mode, kwargs):
    sys_, pos = mixture()
    ff = ForceField(sys_, [LennardJones(sys_, 2.0, mode=mode, **kwargs)], skin=0.2)
    f = ff.compute(pos).forces
    fnum = numerical_forces(ff.energy, pos, h=1e-5)
    err = relative_force_error(f, fnum)
    print(f"LJ {mode}: relative force error {err:.2e}")
    assert err < 1e-6


def test_lj_kernel_matches_numpy_reference_with_overrides():
    sys_, pos = mixture(80)
    lj = LennardJones(
        sys_, 2.0, mode="switched", switch_distance=1.5, overrides={("A", "B"): (1.1, 0.9)}
    )
    assert lj.sigma[0, 1] == 1.1 and lj.epsilon[0, 1] == 0.9  # NBFIX override
    assert lj.sigma[0, 0] == 1.0 and lj.epsilon[1, 1] == 0.6
    ff = ForceField(sys_, [lj])
    res = ff.compute(pos)
    e_ref, f_ref, w_ref = lj_reference(lj, pos)
    assert res.energies["lj"] == pytest.approx(e_ref, rel=1e-12)
    assert np.allclose(res.forces, f_ref, rtol=1e-10, atol=1e-10)
    assert res.virial == pytest.approx(w_ref, rel=1e-10)


@pytest.mark.parametrize("periodic", [(True, True, True), (True, True, False)])
def test_cell_list_finds_exactly_the_brute_force_pairs(periodic):
    pos, box = fcc_lattice(6, 0.8)
    box = Box(box.lengths, periodic)
    pos = pos + np.random.default_rng(0).normal(0, 0.1, pos.shape)
    pos[:, :2] += 7.0 * box.lengths[0]  # unwrapped coordinates far from the primary box
    sys_ = System.from_counts([AR], [len(pos)], box, exclusions=[(0, 1), (5, 9)])
    nl = NeighborList(sys_, 2.5, 0.3)
    nl.build(pos)
    assert nl._cell_grid(pos) is not None  # the cell-list path, not the brute-force fallback
    got = {tuple(sorted(p)) for p in nl.pairs().tolist()}
    i, j = np.triu_indices(len(pos), 1)
    d = pos[i] - pos[j]
    d -= box.lengths_array() * np.rint(d * box.inverse_periodic())
    near = np.linalg.norm(d, axis=1) < 2.8
    want = {(a, b) for a, b in zip(i[near], j[near], strict=True)} - {(0, 1), (5, 9)}
    assert got == want
    assert len(got) == nl.n_pairs  # each pair once (half list)


def test_tail_correction_matches_quadrature():
    _, box = fcc_lattice(4, 0.8)
    sys_ = System.from_counts([AR, B], [128, 128], box)
    lj = LennardJones(sys_, 2.5, tail_correction=True)
    vol = box.volume
    e = p = 0.0
    for a, na in ((0, 128), (1, 128)):
        for b, nb in ((0, 128), (1, 128)):
            s, eps = lj.sigma[a, b], lj.epsilon[a, b]

            def u(r, s=s, eps=eps):
                return 4 * eps * ((s / r) ** 12 - (s / r) ** 6)

            def du(r, s=s, eps=eps):
                return 4 * eps * (-12 * s**12 / r**13 + 6 * s**6 / r**7)

            e += 2 * math.pi / vol * na * nb * quad(lambda r, u=u: u(r) * r * r, 2.5, np.inf)[0]
            p -= (
                2
                * math.pi
                / (3 * vol**2)
                * na
                * nb
                * quad(lambda r, du=du: du(r) * r**3, 2.5, np.inf)[0]
            )
    assert lj.e_tail == pytest.approx(e, rel=1e-10)
    assert lj.w_tail / (3 * vol) == pytest.approx(p, rel=1e-10)


def test_lammps_benchmark_energy_at_step0():
    pos, box = fcc_lattice(6, 0.8442)  # E_pair per atom of a perfect lattice is size independent
    sys_ = System.from_counts([AR], [len(pos)], box)
    e = ForceField(sys_, [LennardJones(sys_, 2.5)]).compute(pos).energies["lj"]
    assert e / len(pos) == pytest.approx(LAMMPS_LJ_EPAIR_STEP0, abs=1e-7)


def test_nve_energy_drift_500_particle_liquid():
    """Drift < 1e-4 kT per particle per 1000 steps at T* = 1, rho* = 0.8, dt* = 0.005."""
    pos, box = fcc_lattice(5, 0.8)  # 500 particles
    sys_ = System.from_counts([AR], [500], box)
    ff = ForceField(sys_, [LennardJones(sys_, 2.5, mode="switched", switch_distance=2.0)])
    t_kelvin = reduced_temperature_to_kelvin(1.0)
    v = maxwell_boltzmann(sys_.masses, t_kelvin, seed=1)
    melt = Simulation(ff, LangevinBAOAB(0.005, t_kelvin, 5.0, seed=2), pos, v)
    melt.run(1500)
    sim = Simulation(ff, VelocityVerlet(0.005), melt.x, melt.v)
    rep = EnergyReporter(interval=10)
    sim.run(3000, [rep])
    a = rep.arrays()
    slope = np.polyfit(a["step"], a["E_total"], 1)[0]  # kJ/mol per step (kT = 1 kJ/mol here)
    drift = abs(slope) * 1000 / 500 / 1.0
    fluct = np.std(a["E_total"]) / 500
    print(
        f"NVE drift {drift:.2e} kT/particle/1000 steps; fluctuation {fluct:.2e}; "
        f"T* {np.mean(a['temperature']) / t_kelvin:.3f}"
    )
    assert drift < 1e-4
    assert 0.5 < np.mean(a["temperature"]) / t_kelvin < 1.5  # it is a liquid near T* = 1


class _PairsInsideCutoff:
    """Reporter: the number of pairs closer than ``rc`` (from the force field's list)."""

    def __init__(self, ff: ForceField, rc: float, interval: int = 10):
        self.ff, self.rc2, self.interval, self.counts = ff, rc * rc, interval, []

    def report(self, sim: Simulation) -> None:
        pairs = self.ff.nlist.pairs()
        d = sim.x[pairs[:, 0]] - sim.x[pairs[:, 1]]
        d -= sim.system.box.lengths_array() * np.rint(d * sim.system.box.inverse_periodic())
        self.counts.append(int(np.count_nonzero(np.einsum("ij,ij->i", d, d) < self.rc2)))


def _reweighted_blocks(x, log_w, n_blocks):
    """Mean and standard error of ``x`` under weights ``exp(log_w)`` from block ratio means."""
    w = np.exp(log_w - log_w.max())
    m = len(x) // n_blocks
    xb = (x * w)[: m * n_blocks].reshape(n_blocks, m).sum(1)
    wb = w[: m * n_blocks].reshape(n_blocks, m).sum(1)
    return float(xb.sum() / wb.sum()), float(np.std(xb / wb, ddof=1) / math.sqrt(n_blocks))


def _lj_state_point(
    t_star: float,
    rho: float,
    n: int,
    n_eq: int,
    n_prod: int,
    seed: int,
    dt: float = 0.005,
    kinetic_ideal: bool = False,
    to_truncated_mc: bool = False,
    n_blocks: int = 10,
):
    """U/N and P (mean, standard error) of the LJ fluid, rc = 3, tail corrections.

    ``to_truncated_mc``: MD with a plainly truncated potential has no impulsive force at rc, so
    it samples the *shifted* potential, exp(-U_shift/kT), while Monte Carlo (NIST's tables)
    samples the truncated one, U_trunc = U_shift + u(rc) N_in with N_in the number of pairs
    inside rc (Allen & Tildesley, *Computer Simulation of Liquids*, 2nd ed., section 2.8).
    The MD samples are reweighted exactly to the MC ensemble by exp(-u(rc) N_in / kT).
    """
    cells = round((n / 4) ** (1 / 3))
    pos, box = fcc_lattice(cells, rho)
    sys_ = System.from_counts([AR], [len(pos)], box)
    ff = ForceField(sys_, [LennardJones(sys_, 3.0, tail_correction=True)], skin=0.3)
    t_k = reduced_temperature_to_kelvin(t_star)
    v = maxwell_boltzmann(sys_.masses, t_k, seed=seed)
    sim = Simulation(ff, LangevinBAOAB(dt, t_k, 1.0, seed=seed + 1), pos, v)
    sim.run(n_eq)
    rep = EnergyReporter(interval=10)
    inside = _PairsInsideCutoff(ff, 3.0)
    sim.run(n_prod, [rep, inside] if to_truncated_mc else [rep])
    a = rep.arrays()
    n_part = len(pos)
    # pressure with the ideal part at the bath temperature (the MC convention rho T), or as
    # Simulation.pressure() gives it, from the instantaneous kinetic energy
    p_inst = a["pressure"]
    if not kinetic_ideal:
        p_inst = p_inst - 2 * a["E_kinetic"] / (3 * box.volume) + rho * t_star
    log_w = np.zeros(len(p_inst))
    if to_truncated_mc:
        u_rc = 4.0 * (3.0**-12 - 3.0**-6)  # epsilon = 1, so u/kT = u / T*
        log_w = -u_rc / t_star * (np.array(inside.counts, dtype=float) - np.mean(inside.counts))
    u = _reweighted_blocks(a["E_lj"] / n_part, log_w, n_blocks)
    p = _reweighted_blocks(p_inst, log_w, n_blocks)
    return u, p


def test_lj_fluid_short_check_against_nist():
    """Short run at T* = 0.9, rho* = 0.86 (the long runs are in the slow test below).

    P is Simulation.pressure() (kinetic + virial + tail). Tolerances are 4 block-average
    standard errors of this run (measured over seeds 11-14: sigma_P = 0.014-0.037, sigma_U =
    0.0025-0.007; deviations from NIST within 1.5 sigma). At this density the reference pressure
    P = rho T + P_pair + P_tail = 0.774 + 1.262 - 0.459 is dominated by the pair virial, so the
    tolerance (0.06-0.15) resolves a virial without the tail correction (P off by +0.46, seen
    +0.50), a factor 1/2 on the pair virial (-0.63, seen -0.61) or on the kinetic term (-0.39,
    seen -0.35). The former check at rho* = 0.776 with a 0.08 floor (a third of P = 0.24) passed
    with the pair virial halved.
    """
    t_star, rho, rc = 0.90, 0.86, 3.0
    (u, su), (p, sp) = _lj_state_point(t_star, rho, 500, 2000, 8000, seed=11, kinetic_ideal=True)
    u_ref, p_ref = NIST_LJ_RC3[(t_star, rho)]
    # Allen & Tildesley eq. 2.144: P_tail* = (16/3) pi rho*^2 [(2/3) rc^-9 - rc^-3]
    p_tail = 16.0 / 3.0 * math.pi * rho**2 * (2.0 / 3.0 * rc**-9 - rc**-3)
    p_pair = p_ref - rho * t_star - p_tail
    print(
        f"U/N {u:.4f} +- {su:.4f} (NIST {u_ref}); P {p:.4f} +- {sp:.4f} (NIST {p_ref}); "
        f"P_tail {p_tail:.4f}, P_pair {p_pair:.4f}"
    )
    tol_p = 4.0 * sp
    assert tol_p < 0.5 * min(abs(p_tail), 0.5 * abs(p_pair))  # the check can see those errors
    assert abs(p - p_ref) < tol_p
    assert abs(u - u_ref) < 4.0 * su
    assert 4.0 * su < 0.01 * abs(u_ref)


@pytest.mark.slow
@pytest.mark.parametrize(("t_star", "rho"), sorted(NIST_LJ_RC3))
def test_lj_fluid_matches_nist_srsw(t_star, rho):
    """U/N and P within 3 standard errors of the NIST SRSW Monte Carlo values.

    The MD samples are reweighted to the truncated-potential ensemble of the MC tables (see
    :func:`_lj_state_point`): without it P comes out low by 0.008-0.010 at rho* = 0.776
    (four 1e5-step runs at T* = 0.85 and 0.9 on the sorted and the reference path: 0.8-2.6
    standard errors low, -0.9 to +0.4 SE after reweighting; the earlier 2 SE test failed
    there). Standard errors come from 50 blocks of 2000 steps (10 tau, much
    longer than the pressure's correlation time in the liquid; 10 longer blocks in the dilute
    gas), and 3 SE keeps the chance that one of the 12 comparisons fails by chance near 3 %
    (2 SE from 10 blocks: about 60 %).
    """
    if rho < 0.01:
        # dilute gas: U comes from rare close pairs; dt* = 0.005 biases it by ~ -3 % (BAOAB
        # error in the short, hard collisions), so use dt* = 0.002 and more particles; a bound
        # pair lives until a third body hits it (mean free time ~ 1/(rho pi v) ~ 80 tau), so
        # the blocks must be long: 10 blocks of 80 tau
        args = {"n": 1372, "n_eq": 20_000, "n_prod": 400_000, "dt": 0.002, "n_blocks": 10}
    else:
        args = {"n": 500, "n_eq": 20_000, "n_prod": 100_000, "n_blocks": 50}
    (u, su), (p, sp) = _lj_state_point(
        t_star, rho, seed=int(1000 * rho), to_truncated_mc=True, **args
    )
    u_ref, p_ref = NIST_LJ_RC3[(t_star, rho)]
    print(
        f"T*={t_star} rho*={rho}: U/N {u:.5f} +- {su:.5f} (NIST {u_ref}); "
        f"P {p:.6f} +- {sp:.6f} (NIST {p_ref})"
    )
    assert abs(u - u_ref) < 3 * su
    assert abs(p - p_ref) < 3 * sp


# --- bad input -------------------------------------------------------------------------------


def test_overlapping_particles_raise_with_the_pair():
    box = Box((5.0, 5.0, 5.0))
    pos = np.array([[1.0, 1.0, 1.0], [3.0, 3.0, 3.0], [1.1, 1.0, 1.0]])
    sys_ = System.from_counts([AR], [3], box)
    ff = ForceField(sys_, [LennardJones(sys_, 2.0)])
    with pytest.raises(OverlapError, match=r"particles 0 \(A\) and 2 \(A\)") as info:
        ff.compute(pos)
    assert info.value.pair == (0, 2)
    assert info.value.distance == pytest.approx(0.1)


def test_bad_lj_input_is_rejected():
    box = Box((4.0, 4.0, 4.0))
    sys_ = System.from_counts([AR], [2], box)
    with pytest.raises(MDInputError, match="longer than half the box"):
        LennardJones(sys_, 2.5)
    with pytest.raises(MDInputError, match="switch_distance"):
        LennardJones(sys_, 1.5, mode="switched")
    with pytest.raises(MDInputError, match="cutoff mode"):
        LennardJones(sys_, 1.5, mode="cubic")
    with pytest.raises(MDInputError, match="tail"):
        LennardJones(sys_, 1.5, mode="shifted", tail_correction=True)
