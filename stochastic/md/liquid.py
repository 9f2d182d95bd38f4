"""Molecular liquids: a conformer, molecules packed at a given density, and their force field.

:func:`build_liquid` places ``n`` copies of a :class:`~stochastic.md.trappe.MoleculeModel`
with random orientations on a cubic lattice in a box four times too large and compresses it to
the target density in stages (molecule centres scaled, FIRE minimisation and a short Langevin
run at each stage; the start box grows so that the lattice spacing exceeds the molecule's
extent by 0.28 nm, and stages are added to keep each compression below 12 %), the usual way
to set up a dense molecular liquid without overlaps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.spatial.transform import Rotation

from stochastic.md.angles import HarmonicAngles
from stochastic.md.bonded import HarmonicBonds
from stochastic.md.dihedrals import OPLSDihedrals
from stochastic.md.errors import MDInputError
from stochastic.md.forcefield import ForceField, ForceTerm
from stochastic.md.init import maxwell_boltzmann
from stochastic.md.integrators import LangevinBAOAB
from stochastic.md.lj import LennardJones
from stochastic.md.minimize import fire
from stochastic.md.pairs import ScaledPairLJ
from stochastic.md.simulation import Simulation
from stochastic.md.system import Box, System
from stochastic.md.trappe import MoleculeModel

#: Avogadro constant [1/mol] (CODATA 2018, exact).
AVOGADRO: float = 6.02214076e23


def box_length(n_molecules: int, molar_mass: float, density: float) -> float:
    """Cubic box edge [nm] holding ``n_molecules`` of ``molar_mass`` [g/mol] at ``density``
    [g/cm^3]: ``V = n M / (rho N_A)`` (1 cm^3 = 1e21 nm^3)."""
    if not (math.isfinite(density) and density > 0):
        raise MDInputError(f"liquid density must be > 0 g/cm^3, got {density!r}")
    return (n_molecules * molar_mass / (density * AVOGADRO) * 1e21) ** (1.0 / 3.0)


def conformer(model: MoleculeModel, rng: np.random.Generator) -> np.ndarray:
    """Coordinates (n_sites, 3) [nm] of one molecule, centred on its centre of mass.

    A ring (if any) is a regular planar polygon with the ring bond length; the other sites are
    grown outward from their bonded neighbour at the bond length, in a random direction making
    at least 100 deg with the neighbour's other bonds. Bonded terms relax the rest in MD.
    """
    topo = model.topology
    r0 = {b: model.bond_r0[k] for k, b in enumerate(topo.bonds)}
    x = np.full((topo.n_sites, 3), np.nan)
    ring = topo.ring()
    if ring:
        side = float(np.mean([r0[tuple(sorted((a, ring[(k + 1) % len(ring)])))]
                              for k, a in enumerate(ring)]))  # fmt: skip
        rad = side / (2.0 * math.sin(math.pi / len(ring)))
        ang = 2.0 * math.pi * np.arange(len(ring)) / len(ring)
        x[ring] = rad * np.stack([np.cos(ang), np.sin(ang), np.zeros_like(ang)], 1)
    else:
        x[0] = 0.0
    adj: list[list[int]] = [[] for _ in range(topo.n_sites)]
    for a, b in topo.bonds:
        adj[a].append(b)
        adj[b].append(a)
    frontier = [i for i in range(topo.n_sites) if not np.isnan(x[i, 0])]
    while frontier:
        a = frontier.pop(0)
        for b in adj[a]:
            if np.isnan(x[b, 0]):
                x[b] = x[a] + r0[(min(a, b), max(a, b))] * _free_direction(x, a, adj[a], rng)
                frontier.append(b)
    m = model.site_masses
    return x - (m[:, None] * x).sum(0) / m.sum()


def _free_direction(x: np.ndarray, a: int, nbrs: list[int], rng: np.random.Generator):
    """A random unit vector at >= 100 deg from the bonds already placed at site ``a``."""
    placed = [x[b] - x[a] for b in nbrs if not np.isnan(x[b, 0])]
    if placed and np.allclose(np.sum(placed, axis=0), 0.0) is False and len(placed) >= 2:
        out = -np.sum([p / np.linalg.norm(p) for p in placed], axis=0)
        out /= np.linalg.norm(out)
    else:
        out = rng.normal(size=3)
        out /= np.linalg.norm(out)
    for _ in range(1000):
        d = rng.normal(size=3)
        d /= np.linalg.norm(d)
        if all(np.dot(d, p) / np.linalg.norm(p) < -0.17 for p in placed):
            return d
    return out


@dataclass
class MolecularLiquid:
    """A liquid of identical molecules: model, system, positions and molecule membership."""

    model: MoleculeModel
    n_molecules: int
    system: System
    positions: np.ndarray

    @property
    def molecule_of_site(self) -> np.ndarray:
        """Molecule index of each site."""
        return np.repeat(np.arange(self.n_molecules), self.model.topology.n_sites)

    def terms(self, cutoff: float = 1.0, switch: float = 0.85) -> list[ForceTerm]:
        """LJ (switched between ``switch`` and ``cutoff`` [nm]), bonds, angles, dihedrals and
        the scaled 1-4 LJ when the model's ``scale14 > 0``."""
        m, s = self.model, self.system
        idx = m.topology.replicate(self.n_molecules)
        n = self.n_molecules
        terms: list[ForceTerm] = [
            LennardJones(s, cutoff, mode="switched", switch_distance=switch),
            HarmonicBonds(s, idx["bonds"], np.tile(m.bond_k, n), np.tile(m.bond_r0, n)),
            HarmonicAngles(s, idx["angles"], np.tile(m.angle_k, n), np.tile(m.angle_theta0, n)),
            OPLSDihedrals(s, idx["dihedrals"], np.tile(m.dihedral_c, (n, 1))),
        ]
        if m.scale14 > 0:
            terms.append(ScaledPairLJ(s, idx["pairs14"], m.scale14))
        return terms

    def forcefield(self, cutoff: float = 1.0, switch: float = 0.85) -> ForceField:
        """:class:`ForceField` of :meth:`terms`."""
        return ForceField(self.system, self.terms(cutoff, switch))


def _system(model: MoleculeModel, n: int, length: float) -> System:
    excl = model.topology.replicate(n)["exclusions"]
    types = [model.types[t] for t in dict.fromkeys(model.spec.sites)]
    names = tuple(model.spec.sites) * n
    return System(tuple(types), names, Box((length,) * 3), tuple(map(tuple, excl)))


def build_liquid(
    model: MoleculeModel,
    n_molecules: int,
    temperature: float,
    density: float | None = None,
    seed: int | np.random.Generator | None = None,
    cutoff: float = 1.0,
    stages: int = 8,
    steps: int = 300,
) -> MolecularLiquid:
    """Pack ``n_molecules`` at ``density`` [g/cm^3] (default: the catalogue density) and
    ``temperature`` [K] in ``stages`` compression stages of at most ``steps`` FIRE steps and
    ``steps`` Langevin steps each; see the module docstring. The result is relaxed, not
    equilibrated."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if n_molecules < 2:
        raise MDInputError(f"a liquid needs at least 2 molecules, got {n_molecules}")
    if stages < 1 or steps < 1:
        raise MDInputError(f"need stages >= 1 and steps >= 1, got {stages} and {steps}")
    rho = model.spec.density if density is None else float(density)
    length = box_length(n_molecules, model.mass, rho)
    if length < 2.0 * cutoff:
        raise MDInputError(
            f"{n_molecules} molecules at {rho} g/cm^3 fill a {length:.3f} nm box, shorter than "
            f"twice the cutoff ({cutoff} nm): use more molecules or a shorter cutoff"
        )
    per_side = math.ceil(n_molecules ** (1.0 / 3.0) - 1e-9)
    grid = (np.indices((per_side,) * 3).reshape(3, -1).T[:n_molecules] + 0.5) / per_side
    base = conformer(model, rng)
    extent = 2.0 * float(np.max(np.linalg.norm(base, axis=1)))
    big = length * 4.0 ** (1.0 / 3.0)
    if big / per_side < extent + 0.28:  # lattice too tight for this molecule: no contacts
        big = per_side * (extent + 0.28)
        stages = max(stages, math.ceil(math.log(big / length) / math.log(1.12)))
    rot = Rotation.random(n_molecules, random_state=rng)
    local = np.stack([r.apply(base) for r in rot])  # (n, sites, 3)
    x = (grid * big)[:, None, :] + local
    prev = big
    for k in range(stages + 1):
        ell = big * (length / big) ** (k / stages)
        x = _rescale(x, ell / prev)
        prev = ell
        system = _system(model, n_molecules, ell)
        liq = MolecularLiquid(model, n_molecules, system, x.reshape(-1, 3))
        ff = liq.forcefield(min(cutoff, 0.49 * ell), min(cutoff, 0.49 * ell) - 0.15)
        pos = fire(ff, liq.positions, force_tol=50.0, max_steps=steps, max_move=0.005).positions
        sim = Simulation(ff, LangevinBAOAB(0.001, temperature, 5.0, rng), pos,
                         maxwell_boltzmann(system.masses, temperature, rng))  # fmt: skip
        sim.run(steps)
        x = sim.x.reshape(n_molecules, -1, 3)
    return MolecularLiquid(model, n_molecules, system, sim.x.copy())


def _rescale(x: np.ndarray, factor: float) -> np.ndarray:
    """Scale molecule centres (geometric) by ``factor``, keeping each molecule's shape."""
    com = x.mean(axis=1, keepdims=True)
    return x - com + factor * com
