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

from stochastic.cg.database.schema import DatabaseSettings
from stochastic.cg.errors import CGConvergenceError
from stochastic.cg.ibi import IBISettings, IterativeBoltzmannInversion
from stochastic.cg.mapping import Mapping
from stochastic.cg.sampling import FluidSampler
from stochastic.cg.tabulated import PairTable, TabulatedPair
from stochastic.cg.targets import RDF, Estimate, compute_rdf, diffusion_estimate
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
    liq = build_liquid(model, s.n_molecules, s.temperature, seed=rng, cutoff=s.aa_cutoff, stages=4)
    ff = liq.forcefield(s.aa_cutoff, s.aa_cutoff - 0.15)
    v0 = maxwell_boltzmann(liq.system.masses, s.temperature, rng)
    sim = Simulation(ff, LangevinBAOAB(s.aa_dt, s.temperature, 2.0, rng), liq.positions, v0)
    sim.run(s.aa_equil)
    sim.integrator = VelocityVerlet(s.aa_dt)
    frames: list[np.ndarray] = []

    class _Frames:
        interval = s.aa_interval

        def report(self, sim_: Simulation) -> None:
            frames.append(sim_.x.copy())

    sim.run(s.aa_prod, [_Frames()])
    mapping = Mapping.by_molecule(s.n_molecules, [list(range(len(model.spec.sites)))], ["M"],
                                  liq.system.masses)  # fmt: skip
    assert liq.system.box is not None
    return mapping.map_positions(np.array(frames), liq.system.box), liq.system.box


def cg_system(mass: float, s: DatabaseSettings, length: float) -> tuple[System, np.ndarray]:
    """One-bead CG system of ``s.n_molecules`` beads of ``mass`` [amu] on a cubic lattice."""
    box = Box((length,) * 3)
    system = System.from_counts([ParticleType("M", float(mass))], [s.n_molecules], box)
    side = int(np.ceil(s.n_molecules ** (1 / 3) - 1e-9))
    grid = np.indices((side,) * 3).reshape(3, -1).T[: s.n_molecules] + 0.5
    return system, grid * (length / side)


def potential_table(u: np.ndarray, s: DatabaseSettings) -> PairTable:
    """Tabulated pair potential from values on the grid (spline, zero at ``r_max``)."""
    return PairTable.from_potential(s.r, u, s.r_max, r0=float(s.edges[1]), h=0.002)


def reference_run(model: MoleculeModel, s: DatabaseSettings, seed: int) -> Reference:
    """All-atom run, COM mapping, target g(r), D_AA and IBI (see the module docstring)."""
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    com, box = _aa_trajectory(model, s, rng)
    frame_dt = s.aa_dt * s.aa_interval
    g = compute_rdf(com, box, np.arange(s.n_molecules), None, s.r_max, s.bin_width, ("M", "M"))
    g = RDF(g.edges, clean_core(g.g), ("M", "M"))
    d_aa = diffusion_estimate(com, frame_dt, *s.d_fit_aa)
    system, _ = cg_system(model.mass, s, box.lengths[0])
    sampler = FluidSampler(system, com[-1], s.temperature, s.cg_dt, int(rng.integers(2**31)))

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


def run_cg_entry(
    u: np.ndarray,
    mass: float,
    s: DatabaseSettings,
    length: float,
    seed: int,
    friction: float = 0.0,
) -> CGRun:
    """CG liquid with potential ``u`` (grid values [kJ/mol]) and bead ``mass`` [amu] in a cubic
    box of edge ``length`` [nm]: Langevin equilibration (1/ps), then production with velocity
    Verlet (``friction = 0``) or Langevin ``friction`` [1/ps]; returns g(r) and D."""
    t0 = time.perf_counter()
    system, x0 = cg_system(mass, s, length)
    assert system.box is not None
    term = TabulatedPair(system, {("M", "M"): potential_table(u, s)})
    sampler = FluidSampler(system, x0, s.temperature, s.cg_dt, int(seed))
    newton = friction == 0.0
    smp = sampler.run([term], s.cg_equil, s.cg_prod, s.cg_interval,
                      friction=1.0 if newton else friction, newtonian=newton)  # fmt: skip
    g = compute_rdf(smp.frames, system.box, np.arange(s.n_molecules), None, s.r_max,
                    s.bin_width, ("M", "M"))  # fmt: skip
    d = diffusion_estimate(smp.frames, smp.frame_dt, *s.d_fit_cg)
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
