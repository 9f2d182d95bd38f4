"""One all-atom model -> target RDF, D_AA and IBI potential; one CG entry -> (g, D).

:func:`reference_run` is the expensive half: the molecular liquid (TraPPE-UA, random bonded
parameters) is packed, equilibrated with Langevin dynamics and sampled with Newtonian (NVE)
dynamics; molecules are mapped to their centres of mass, which give the target g(r) and the
reference self-diffusion coefficient D_AA (MSD fit); IBI (Reith, Puetz & Mueller-Plathe,
J. Comput. Chem. 24, 1624 (2003)) gives a one-bead-per-molecule potential.

:func:`run_cg_entry` is the cheap half: a one-bead CG liquid with a given tabulated potential
and bead mass, Langevin equilibration, NVE production, its g(r) and D. It depends only on its
arguments and the seed, so an entry regenerates bit for bit from what the database records.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from scipy.interpolate import CubicSpline

from stochastic.cg.database.schema import DatabaseSettings
from stochastic.cg.errors import CGConvergenceError
from stochastic.cg.ibi import IBISettings, IterativeBoltzmannInversion
from stochastic.cg.mapping import Mapping
from stochastic.cg.sampling import FluidSampler
from stochastic.cg.tabulated import PairTable, TabulatedPair
from stochastic.cg.targets import RDF, Estimate, compute_rdf, diffusion_estimate
from stochastic.md.forcefield import ForceField
from stochastic.md.init import maxwell_boltzmann
from stochastic.md.integrators import LangevinBAOAB, VelocityVerlet
from stochastic.md.liquid import box_length, build_liquid
from stochastic.md.simulation import Simulation
from stochastic.md.system import KB_KJ_PER_MOL_K, Box, ParticleType, System
from stochastic.md.trappe import MoleculeModel

log = logging.getLogger(__name__)

#: Target-RDF values below this are treated as the empty core (IBI extrapolates there).
G_CORE: float = 1e-3


@dataclass(frozen=True)
class Reference:
    """All-atom reference of one model: COM g(r), D_AA, IBI potential and its RDF distance."""

    g_aa: RDF
    d_aa: Estimate
    u_ibi: np.ndarray
    ibi_rms: float
    box_length: float
    mass: float
    wall_time: float


@dataclass(frozen=True)
class CGRun:
    """A CG run: RDF, D (with its standard error) and wall time [s]."""

    g: RDF
    d: Estimate
    wall_time: float


def clean_core(g: np.ndarray, g_min: float = G_CORE) -> np.ndarray:
    """Zero the sparse leading bins: ``g`` below the first bin from which all bins are populated
    (a few isolated close contacts of a short run would otherwise leave empty bins beyond the
    core, which Boltzmann inversion cannot handle)."""
    empty = np.flatnonzero(g <= g_min)
    out = g.copy()
    if len(empty):
        out[: empty[-1] + 1] = 0.0
    return out


def _aa_trajectory(model: MoleculeModel, s: DatabaseSettings, rng: np.random.Generator):
    """Centre-of-mass frames (F, n_mol, 3) of an NVE run after Langevin equilibration."""
    liq = build_liquid(model, s.n_molecules, s.temperature, seed=rng, cutoff=s.aa_cutoff,
                       stages=s.aa_pack_stages, steps=s.aa_pack_steps)  # fmt: skip
    ff = liq.forcefield(s.aa_cutoff, s.aa_cutoff - 0.15)
    v0 = maxwell_boltzmann(liq.system.masses, s.temperature, rng)
    sim = Simulation(ff, LangevinBAOAB(s.aa_dt, s.temperature, 2.0, rng), liq.positions, v0)
    sim.run(s.aa_equil)
    sim.integrator = VelocityVerlet(s.aa_dt)
    rec = _Frames(s.aa_interval)
    sim.run(s.aa_prod, [rec])
    mapping = Mapping.by_molecule(s.n_molecules, [list(range(len(model.spec.sites)))], ["M"],
                                  liq.system.masses)  # fmt: skip
    assert liq.system.box is not None
    return mapping.map_positions(np.array(rec.x), liq.system.box), liq.system.box


def cg_system(mass: float, s: DatabaseSettings, length: float) -> tuple[System, np.ndarray]:
    """One-bead CG system of ``s.n_molecules`` beads of ``mass`` [amu] on a cubic lattice."""
    box = Box((length,) * 3)
    system = System.from_counts([ParticleType("M", float(mass))], [s.n_molecules], box)
    side = int(np.ceil(s.n_molecules ** (1 / 3) - 1e-9))
    grid = np.indices((side,) * 3).reshape(3, -1).T[: s.n_molecules] + 0.5
    return system, grid * (length / side)


def roughness(r: np.ndarray, amplitude: float, s: DatabaseSettings) -> tuple[np.ndarray, ...]:
    """Sub-bin roughness ``R(r) = t(r) a cos(2 pi r / w) + kT ln I0(a t(r) / kT)`` and its force.

    ``w`` is the RDF bin width and the bin edges are multiples of it, so every bin holds one
    period; the ``ln I0`` term makes the bin average of ``exp(-R/kT)`` exactly 1 (the identity
    ``<exp(-x cos)> = I0(x)``), so in the dilute limit the binned g(r) is unchanged while the
    bead moves on a rough landscape whose barriers slow its diffusion (Zwanzig, Proc. Natl.
    Acad. Sci. USA 85, 2029 (1988): ``D/D0 ~ exp(-(eps/kT)^2)`` for Gaussian roughness of rms
    ``eps``). ``t(r)`` is 1 up to ``r_max - 0.1`` nm and falls to 0 at ``r_max`` (half cosine).
    Returns ``(R, -dR/dr)`` [kJ/mol, kJ/mol/nm] at ``r`` [nm]; ``amplitude`` ``a`` in kJ/mol.
    """
    from scipy.special import i0e, i1e

    kt = kt_of(s)
    r = np.asarray(r, float)
    width = 0.1
    x = np.clip((r - (s.r_max - width)) / width, 0.0, 1.0)
    t = 0.5 * (1.0 + np.cos(np.pi * x))
    dt = np.where((x > 0) & (x < 1), -0.5 * np.pi / width * np.sin(np.pi * x), 0.0)
    k = 2.0 * np.pi / s.bin_width
    c, sn = np.cos(k * r), np.sin(k * r)
    y = amplitude * t / kt
    u = amplitude * t * c + kt * (np.log(i0e(y)) + y)
    du = amplitude * (dt * c - t * k * sn) + amplitude * dt * i1e(y) / i0e(y)
    return u, -du


def potential_table(u: np.ndarray, s: DatabaseSettings, rough: float = 0.0) -> PairTable:
    """Tabulated pair potential from values ``u`` on the grid (spline, zero at ``r_max``), plus
    the sub-bin :func:`roughness` of amplitude ``rough`` [kJ/mol] (on a finer table) if > 0."""
    if rough == 0.0:
        return PairTable.from_potential(s.r, u, s.r_max, r0=float(s.edges[1]), h=0.002)
    spline = CubicSpline(s.r, np.asarray(u, float), extrapolate=True)

    def func(r):
        ru, rf = roughness(r, rough, s)
        return spline(r) + ru, rf - spline(r, 1)

    return PairTable.from_function(func, float(s.edges[1]), s.r_max, h=s.bin_width / 20)


def _aa_targets(model: MoleculeModel, s: DatabaseSettings, rng: np.random.Generator,
                replicas: int) -> tuple[RDF, Estimate, np.ndarray, Box]:
    """Target g(r) and D_AA from ``replicas`` independent all-atom runs (packing, velocities
    and trajectory each drawn anew): g is their mean, D their mean with the run-to-run standard
    error (one run: its own block estimate); also the last COM frame and the box."""
    gs, ds = [], []
    for k in range(replicas):
        sub = rng if k == 0 else np.random.default_rng(rng.integers(2**63))
        com, box = _aa_trajectory(model, s, sub)
        idx = np.arange(s.n_molecules)
        gs.append(compute_rdf(com, box, idx, None, s.r_max, s.bin_width, ("M", "M")))
        ds.append(diffusion_estimate(com, s.aa_dt * s.aa_interval, *s.d_fit_aa))
        if k == 0:
            last, box0 = com[-1], box
    g = RDF(gs[0].edges, clean_core(np.mean([x.g for x in gs], axis=0)), ("M", "M"))
    if replicas == 1:
        return g, ds[0], last, box0
    d = np.array([x.value for x in ds])
    return g, Estimate(float(d.mean()), float(d.std(ddof=1) / np.sqrt(len(d)))), last, box0


def reference_run(model: MoleculeModel, s: DatabaseSettings, seed: int,
                  replicas: int = 1) -> Reference:
    """All-atom run(s), COM mapping, target g(r), D_AA and IBI (see the module docstring);
    ``replicas`` independent all-atom runs give g(r) and D_AA (see :func:`_aa_targets`)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    g, d_aa, last, box = _aa_targets(model, s, rng, int(replicas))
    system, _ = cg_system(model.mass, s, box.lengths[0])
    sampler = FluidSampler(system, last, s.temperature, s.cg_dt, int(rng.integers(2**31)))

    def simulate(tables):
        smp = sampler.run([TabulatedPair(system, tables)], s.ibi_equil, s.ibi_prod, s.cg_interval)
        idx = np.arange(s.n_molecules)
        rdf = compute_rdf(smp.frames, box, idx, None, s.r_max, s.bin_width, ("M", "M"))
        return {("M", "M"): rdf}, float(smp.pressure.mean())

    settings = IBISettings(s.temperature, max_iterations=s.ibi_iterations, tolerance=1e-9,
                           g_min=G_CORE)  # fmt: skip
    try:
        history = IterativeBoltzmannInversion({("M", "M"): g}, simulate, settings).run().history
    except CGConvergenceError as err:  # fixed iteration count: keep the closest iteration
        history = tuple(err.history)
    best = min(history, key=lambda it: it.distance)
    return Reference(g, d_aa, best.potentials[("M", "M")], float(best.distance),
                     float(box.lengths[0]), model.mass, time.perf_counter() - t0)  # fmt: skip


class _Frames:
    """Reporter keeping positions (and the potential energy) every ``interval`` steps."""

    def __init__(self, interval: int):
        self.interval = int(interval)
        self.x: list[np.ndarray] = []
        self.u: list[float] = []

    def report(self, sim: Simulation) -> None:
        self.x.append(sim.x.copy())
        self.u.append(sim.potential_energy())


def to_mean_energy(sim: Simulation, u_mean: float, kt: float) -> None:
    """Remove the centre-of-mass velocity and scale the velocities so that the total energy is
    the canonical mean ``<U> + (3N - 3) kT / 2`` (an NVE run of a few dozen beads started from
    one canonical microstate would otherwise keep that microstate's energy: its temperature
    scatters by several per cent from run to run, and D with it)."""
    m = sim.masses[:, None]
    sim.v -= (m * sim.v).sum(0) / m.sum()
    k_target = u_mean + 0.5 * (3 * len(sim.x) - 3) * kt - sim.potential_energy()
    k_now = sim.kinetic_energy()
    k_floor = 0.25 * (3 * len(sim.x) - 3) * kt  # never below half the mean kinetic energy
    sim.v *= np.sqrt(max(k_target, k_floor) / k_now)


def run_cg_entry(
    u: np.ndarray,
    mass: float,
    s: DatabaseSettings,
    length: float,
    seed: int,
    friction: float = 0.0,
    rough: float = 0.0,
) -> CGRun:
    """CG liquid with potential ``u`` (grid values [kJ/mol]) plus the sub-bin :func:`roughness`
    of amplitude ``rough`` [kJ/mol] and bead ``mass`` [amu] in a cubic box of edge ``length``
    [nm]: Langevin equilibration (2/ps, ``cg_equil`` steps), then production with Langevin
    ``friction`` [1/ps], or for ``friction = 0`` with velocity Verlet started at the mean
    energy of a further ``cg_equil / 2`` Langevin steps (:func:`to_mean_energy`); g(r), D."""
    t0 = time.perf_counter()
    system, x0 = cg_system(mass, s, length)
    assert system.box is not None
    ff = ForceField(system, [TabulatedPair(system, {("M", "M"): potential_table(u, s, rough)})])
    rng = np.random.default_rng(int(seed))
    v0 = maxwell_boltzmann(system.masses, s.temperature, rng)
    sim = Simulation(ff, LangevinBAOAB(s.cg_dt, s.temperature, 2.0, rng), x0, v0)
    sim.run(s.cg_equil)
    if friction == 0.0:
        energies = _Frames(5)
        sim.run(s.cg_equil // 2, [energies])
        to_mean_energy(sim, float(np.mean(energies.u)), kt_of(s))
        sim.integrator = VelocityVerlet(s.cg_dt)
    else:
        sim.integrator = LangevinBAOAB(s.cg_dt, s.temperature, friction, rng)
    rec = _Frames(s.cg_interval)
    sim.run(s.cg_prod, [rec])
    frames = np.array(rec.x)
    g = compute_rdf(frames, system.box, np.arange(s.n_molecules), None, s.r_max, s.bin_width,
                    ("M", "M"))  # fmt: skip
    d = diffusion_estimate(frames, s.cg_dt * s.cg_interval, *s.d_fit_cg)
    return CGRun(g, d, time.perf_counter() - t0)


def perturb_potential(
    u: np.ndarray, r: np.ndarray, kt: float, rng: np.random.Generator
) -> tuple[np.ndarray, dict[str, float]]:
    """A random relative of ``u``: ``lam * u(r / s) + sum_k A_k exp(-(r - c_k)^2 / 2 w_k^2)``
    with ``lam ~ U(0.7, 1.4)``, ``s ~ U(0.96, 1.04)``, two Gaussians of amplitude
    ``U(-0.6, 0.6) kT`` at ``U(0.4, 1.0)`` nm, width ``U(0.03, 0.1)`` nm. Returns the new
    values and the drawn numbers (recorded as the entry's provenance)."""
    p = {"lam": rng.uniform(0.7, 1.4), "s": rng.uniform(0.96, 1.04)}
    out = p["lam"] * np.interp(r / p["s"], r, u)
    for k in range(2):
        a, c, w = rng.uniform(-0.6, 0.6) * kt, rng.uniform(0.4, 1.0), rng.uniform(0.03, 0.1)
        p |= {f"a{k}": a, f"c{k}": c, f"w{k}": w}
        out = out + a * np.exp(-0.5 * ((r - c) / w) ** 2)
    return out, {k: float(v) for k, v in p.items()}


def kt_of(s: DatabaseSettings) -> float:
    """k_B T [kJ/mol] of the settings."""
    return KB_KJ_PER_MOL_K * s.temperature


def molecule_box(model: MoleculeModel, s: DatabaseSettings) -> float:
    """Cubic box edge [nm] of ``s.n_molecules`` molecules at the model's density."""
    return box_length(s.n_molecules, model.mass, model.spec.density)
