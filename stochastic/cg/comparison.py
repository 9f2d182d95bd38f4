"""Side-by-side comparison of CG methods on small molecular fluids (example and benchmark).

Reference systems: LJ dimers (two sites, bond 0.5 sigma) and LJ triangles (three sites, all
bonds 0.5 sigma), intramolecular LJ excluded, mapped to one centre-of-mass bead per molecule.
The molecules' shape makes the bead-bead interaction orientation dependent, so a pair potential
cannot reproduce every many-body correlation; the neighbour angular distribution
(:func:`neighbour_angles`) shows it. Methods: IBI (+IMC), MS-CG force matching, relative
entropy and the ML energy network (MS-CG pair prior + network, needs the ``ml`` extra). Each
fitted model is run at the fitted state and at a held-out temperature and compared on g(r), the
angular distribution, pressure and D (Newtonian CG dynamics).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from stochastic.cg.force_matching import force_match
from stochastic.cg.ibi import IBISettings, IterativeBoltzmannInversion
from stochastic.cg.mapping import Mapping
from stochastic.cg.relative_entropy import RelEntSettings, relative_entropy_fit
from stochastic.cg.sampling import FluidSampler
from stochastic.cg.tabulated import PairTable, TabulatedPair
from stochastic.cg.targets import (
    RDF,
    compute_rdf,
    diffusion_estimate,
    pressure_estimate,
    rdf_noise,
    rdf_rms,
)
from stochastic.md.bonded import HarmonicBonds
from stochastic.md.init import fcc_lattice
from stochastic.md.lj import LennardJones
from stochastic.md.system import Box, ParticleType, System, reduced_temperature_to_kelvin

log = logging.getLogger(__name__)
PAIR = ("B", "B")


@dataclass
class MoleculeFluid:
    """A molecular LJ fluid, its CG map and the CG bead system (reduced units)."""

    atoms: System
    positions: np.ndarray
    terms: list
    mapping: Mapping
    beads: System
    temperature: float
    r_cut: float = 3.0
    bin_width: float = 0.05

    def rdf(self, frames: np.ndarray, keep_frames: bool = False) -> RDF:
        """Bead-bead RDF up to ``r_cut``."""
        n = self.beads.n_particles
        return compute_rdf(frames, self.beads.box, np.arange(n), None, self.r_cut,
                           self.bin_width, PAIR, keep_frames)  # fmt: skip


def molecule_fluid(n_sites: int, cells: int, density: float, t_star: float) -> MoleculeFluid:
    """``4 cells^3`` dimers (``n_sites=2``) or triangles (3) at ``density`` molecules/sigma^3."""
    if n_sites not in (2, 3):
        raise ValueError(f"n_sites must be 2 or 3, got {n_sites}")
    com, box = fcc_lattice(cells, density)
    n = len(com)
    rng = np.random.default_rng(0)
    shape = (
        np.array([[-0.25, 0, 0], [0.25, 0, 0]])
        if n_sites == 2
        else 0.5
        / math.sqrt(3)
        * (np.array([[1.0, 0, 0], [-0.5, math.sqrt(3) / 2, 0], [-0.5, -math.sqrt(3) / 2, 0]]))
    )
    x = np.empty((n_sites * n, 3))
    for m in range(n):
        q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
        x[n_sites * m : n_sites * (m + 1)] = com[m] + shape @ q.T
    local = [(0, 1)] if n_sites == 2 else [(0, 1), (1, 2), (0, 2)]
    bonds = [(n_sites * m + a, n_sites * m + b) for m in range(n) for a, b in local]
    atoms = System.from_counts([ParticleType("S", 1.0, 0, 1.0, 1.0)], [n_sites * n], box, bonds)
    terms = [LennardJones(atoms, 2.5, mode="shifted"), HarmonicBonds(atoms, bonds, 2000.0, 0.5)]
    mapping = Mapping.by_molecule(n, [list(range(n_sites))], ["B"], atoms.masses)
    beads = System.from_counts([ParticleType("B", float(n_sites))], [n], box)
    return MoleculeFluid(atoms, x, terms, mapping, beads, reduced_temperature_to_kelvin(t_star))


@dataclass
class Observed:
    """Mapped reference or CG observables at one state point."""

    frames: np.ndarray
    pressure: np.ndarray
    frame_dt: float
    forces: np.ndarray | None = None


def reference(mf: MoleculeFluid, n_equil: int, n_prod: int, seed: int = 1) -> Observed:
    """Atomistic run (Langevin equilibration, Newtonian production), mapped to beads."""
    smp = FluidSampler(mf.atoms, mf.positions, mf.temperature, dt=0.004, seed=seed).run(
        mf.terms, n_equil, n_prod, 20, newtonian=True, record_forces=True
    )
    box = mf.atoms.box
    xb = mf.mapping.map_positions(smp.frames, box)
    return Observed(xb, smp.pressure, smp.frame_dt, mf.mapping.map_forces(smp.forces))


def neighbour_angles(frames: np.ndarray, box: Box, r_shell: float, bins: int = 20) -> np.ndarray:
    """Normalised histogram of cos(theta_jik) over neighbour pairs j, k of i within ``r_shell``.

    The three-body correlation a pair potential does not control directly (Noid's many-body
    test of CG models). The density integrates to 1 over cos theta in [-1, 1].
    """
    counts = _angle_counts(frames, box, r_shell, bins).sum(0)
    return counts / max(counts.sum(), 1.0) * bins / 2.0


def _angle_counts(frames: np.ndarray, box: Box, r_shell: float, bins: int) -> np.ndarray:
    """Per-frame histograms (F, bins) of cos(theta_jik), neighbours j, k of i within r_shell."""
    from scipy.spatial import cKDTree

    L = box.lengths_array()
    out = np.zeros((len(frames), bins))
    for f, x in enumerate(np.asarray(frames)):
        w = np.mod(x, L)
        w = np.where(w >= L, 0.0, w)
        tree = cKDTree(w, boxsize=L)
        for i, nb in enumerate(tree.query_ball_point(w, r_shell)):
            nb = [j for j in nb if j != i]
            if len(nb) < 2:
                continue
            d = w[nb] - w[i]
            d -= L * np.rint(d / L)
            u = d / np.linalg.norm(d, axis=1)[:, None]
            c = (u @ u.T)[np.triu_indices(len(nb), 1)]
            out[f] += np.histogram(c, bins=bins, range=(-1.0, 1.0))[0]
    return out


def angle_distance(
    frames_a: np.ndarray,
    frames_b: np.ndarray,
    box: Box,
    r_shell: float,
    bins: int = 20,
    blocks: int = 8,
) -> tuple[float, float]:
    """RMS distance of two neighbour-angle densities and its noise floor.

    The noise floor is the RMS distance two independent samples of one model would show,
    ``sqrt(mean(se_a^2 + se_b^2))`` with per-bin standard errors from ``blocks`` contiguous
    block averages of each trajectory (as :func:`stochastic.cg.targets.rdf_noise` for g(r)).
    """
    dens, err = [], []
    for frames in (frames_a, frames_b):
        counts = _angle_counts(frames, box, r_shell, bins)
        nb = min(blocks, len(counts))
        parts = [c.sum(0) for c in np.array_split(counts, nb)]
        per = np.array([p / max(p.sum(), 1.0) * bins / 2.0 for p in parts])
        total = counts.sum(0)
        dens.append(total / max(total.sum(), 1.0) * bins / 2.0)
        err.append(per.std(0, ddof=1) / np.sqrt(nb) if nb > 1 else np.zeros(bins))
    rms = float(np.sqrt(np.mean((dens[0] - dens[1]) ** 2)))
    return rms, float(np.sqrt(np.mean(err[0] ** 2 + err[1] ** 2)))


def first_shell(g: RDF) -> float:
    """Radius of the first minimum of g(r) after its main peak [nm]."""
    peak = int(np.argmax(g.g))
    return float(g.r[peak + int(np.argmin(g.g[peak : peak + max(len(g.g) // 3, 2)]))])


@dataclass
class MethodResult:
    """One method's fitted model (force terms factory), figures and evaluated curves.

    ``curves[label]`` holds the g(r) (``"r"``, ``"g"``) and neighbour-angle density
    (``"angles"``, 20 bins in cos theta) of the :func:`evaluate` run with that label.
    """

    name: str
    fit_seconds: float
    make_terms: Callable[[System], list]
    figures: dict[str, float] = field(default_factory=dict)
    curves: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)


def bead_simulator(mf: MoleculeFluid, x0: np.ndarray, n_prod: int, seed: int = 2):
    """IBI/relative-entropy engine for the bead system (Langevin, RDF with per-frame counts)."""
    sampler = FluidSampler(mf.beads, x0, mf.temperature, dt=0.004, seed=seed)

    def simulate(tables: dict[tuple[str, str], PairTable]):
        smp = sampler.run([TabulatedPair(mf.beads, tables)], 300, n_prod, 10)
        return {PAIR: mf.rdf(smp.frames, True)}, pressure_estimate(smp.pressure, 8)

    return simulate


def fit_methods(mf: MoleculeFluid, ref: Observed, n_prod: int, ml_steps: int = 1500) -> list:
    """Fit IBI (+pressure), MS-CG, relative entropy and (if JAX is installed) the ML model.

    Short CG runs of a dilute molecular fluid give pair-count covariances too noisy for IMC
    Newton steps (they diverged in tests), so IBI runs with the pressure correction only and
    relative entropy with small, smoothed steps.
    """
    target = mf.rdf(ref.frames)
    p_ref = pressure_estimate(ref.pressure, 8)
    out = []
    t0 = time.perf_counter()
    s = IBISettings(mf.temperature, pressure_target=p_ref.value, pressure_target_error=p_ref.error,
                    pressure_max_kt=0.3, max_iterations=10, min_iterations=3)  # fmt: skip
    ibi = IterativeBoltzmannInversion({PAIR: target}, bead_simulator(mf, ref.frames[-1], n_prod), s)
    t_ibi = ibi.run().tables[PAIR]
    out.append(MethodResult("IBI+pressure", time.perf_counter() - t0, _pair_terms(t_ibi)))
    t0 = time.perf_counter()
    fm = force_match(ref.frames[::2], ref.forces[::2], mf.beads.box, mf.mapping.bead_type_names,
                     mf.r_cut, n_knots=25, regularization=1e-5)  # fmt: skip
    out.append(MethodResult("MS-CG", time.perf_counter() - t0, _pair_terms(fm.tables[PAIR])))
    t0 = time.perf_counter()
    rs = RelEntSettings(n_knots=12, max_iterations=10, min_iterations=3, smoothness=1e-2,
                        step_max_kt=0.2)  # fmt: skip
    sim = bead_simulator(mf, ref.frames[-1], n_prod, seed=3)
    t_re = relative_entropy_fit({PAIR: target}, sim, mf.temperature, rs).tables[PAIR]
    out.append(MethodResult("rel. entropy", time.perf_counter() - t0, _pair_terms(t_re)))
    try:
        import jax  # noqa: F401
    except ImportError:
        log.warning("JAX not installed (optional extra 'ml'): skipping the ML model")
        return out
    t0 = time.perf_counter()
    out.append(_fit_ml(mf, ref, fm.tables[PAIR], ml_steps, t0))
    return out


def _pair_terms(table: PairTable):
    return lambda beads: [TabulatedPair(beads, {PAIR: table})]


def _fit_ml(mf: MoleculeFluid, ref: Observed, prior: PairTable, steps: int, t0: float):
    from stochastic.cg.ml.descriptors import DescriptorSpec
    from stochastic.cg.ml.force_term import MLForceTerm
    from stochastic.cg.ml.training import pair_prior_forces, train_force_matching

    spec = DescriptorSpec(r_cut=2.0, n_radial=8, r_start=0.8, n_angular_radial=2, n_cos=3)
    pf = pair_prior_forces(ref.frames, mf.beads, {PAIR: prior})
    res = train_force_matching(ref.frames, ref.forces, mf.beads.box.lengths_array(), spec, pf,
                               hidden=(32, 32), steps=steps, batch_frames=8)  # fmt: skip
    net = res.network

    def terms(beads):
        return [TabulatedPair(beads, {PAIR: prior}), MLForceTerm(beads, net)]

    m = MethodResult("ML (MS-CG prior + net)", time.perf_counter() - t0, terms)
    m.figures["ml_force_residual_heldout"] = res.validation_residual
    m.figures["msdg_force_residual_heldout"] = res.prior_residual
    return m


def evaluate(mf: MoleculeFluid, ref: Observed, method: MethodResult, n_prod: int, label: str,
             r_shell: float, seed: int = 7) -> dict[str, float]:  # fmt: skip
    """Run the CG model (Langevin equilibration, Newtonian production) and compare.

    The run's g(r) and neighbour-angle density are kept in ``method.curves[label]`` (plots).
    """
    smp = FluidSampler(mf.beads, ref.frames[-1], mf.temperature, dt=0.004, seed=seed).run(
        method.make_terms(mf.beads), 1000, n_prod, 20, newtonian=True
    )
    g_ref, g_cg = mf.rdf(ref.frames), mf.rdf(smp.frames)
    angles = neighbour_angles(smp.frames[::2], mf.beads.box, r_shell)
    method.curves[label] = {"r": g_cg.r, "g": g_cg.g, "angles": angles}
    a_rms, a_noise = angle_distance(smp.frames, ref.frames, mf.beads.box, r_shell)
    p_ref, p_cg = pressure_estimate(ref.pressure, 8), pressure_estimate(smp.pressure, 8)
    span = min(len(ref.frames) * ref.frame_dt, len(smp.frames) * smp.frame_dt)
    fit = (min(2.0, 0.1 * span), min(8.0, 0.4 * span))  # [ps], inside both trajectories
    d_ref = diffusion_estimate(ref.frames, ref.frame_dt, *fit)
    d_cg = diffusion_estimate(smp.frames, smp.frame_dt, *fit)
    return {
        f"{label}_rdf_rms": rdf_rms(g_cg, g_ref),
        f"{label}_rdf_noise": rdf_noise(g_cg, g_ref),
        f"{label}_angle_rms": a_rms,
        f"{label}_angle_noise": a_noise,
        f"{label}_pressure_error": p_cg.value - p_ref.value,
        f"{label}_pressure_stderr": float(np.hypot(p_cg.error, p_ref.error)),
        f"{label}_d_ratio": d_cg.value / d_ref.value,
    }


def table(results: list[MethodResult], keys: list[str]) -> str:
    """Plain-text table of the methods' figures."""
    lines = ["method                    fit [s] " + " ".join(f"{k[:16]:>16s}" for k in keys)]
    for m in results:
        vals = " ".join(f"{m.figures.get(k, float('nan')):16.4f}" for k in keys)
        lines.append(f"{m.name:25s} {m.fit_seconds:7.1f} {vals}")
    return "\n".join(lines)
