"""Small reference systems for tests, benchmarks and examples (reduced LJ units).

``sigma = 1 nm``, ``epsilon = 1 kJ/mol``, ``m = 1 amu``: T* maps to kelvin by
:func:`stochastic.md.system.reduced_temperature_to_kelvin`, pressures in kJ/mol/nm^3 are
reduced pressures, and the time unit is 1 ps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from stochastic.cg.sampling import FluidSampler, Sample
from stochastic.cg.tabulated import PairTable, TabulatedPair, lj_table
from stochastic.cg.targets import RDF, compute_rdf, pressure_estimate
from stochastic.md.init import fcc_lattice
from stochastic.md.lj import LennardJones
from stochastic.md.system import ParticleType, System, reduced_temperature_to_kelvin


@dataclass(frozen=True)
class LJFluid:
    """A one-type LJ fluid: system, fcc start positions, temperature [K]."""

    system: System
    positions: np.ndarray
    temperature: float
    r_cut: float

    def lj_term(self) -> LennardJones:
        """The reference interaction: LJ shifted to zero at ``r_cut`` (same as a CG table)."""
        return LennardJones(self.system, self.r_cut, mode="shifted")

    def sampler(self, seed: int = 0, dt: float = 0.005) -> FluidSampler:
        """A :class:`FluidSampler` starting from the lattice."""
        return FluidSampler(self.system, self.positions, self.temperature, dt, seed)

    def table_term(self, table: PairTable) -> TabulatedPair:
        """A CG force term using ``table`` for the A-A pair."""
        return TabulatedPair(self.system, {("A", "A"): table})

    def rdf(self, sample: Sample, bin_width: float = 0.02, keep_frames: bool = False) -> RDF:
        """A-A RDF of a sample up to ``r_cut`` (per-frame counts kept if asked, for IMC)."""
        idx = np.arange(self.system.n_particles)
        return compute_rdf(
            sample.frames,
            self.system.box,
            idx,
            None,
            self.r_cut,
            bin_width,
            keep_frames=keep_frames,
        )


def lj_fluid(
    cells: int = 4, density: float = 0.776, t_star: float = 0.85, r_cut: float = 2.5
) -> LJFluid:
    """LJ fluid of ``4 cells^3`` particles at reduced density and temperature."""
    pos, box = fcc_lattice(cells, density)
    system = System.from_counts([ParticleType("A", 1.0, 0.0, 1.0, 1.0)], [len(pos)], box)
    return LJFluid(system, pos, reduced_temperature_to_kelvin(t_star), r_cut)


def table_simulator(
    fluid: LJFluid,
    seed: int = 2,
    n_equil: int = 500,
    n_prod: int = 5000,
    interval: int = 10,
    bin_width: float = 0.02,
    friction: float = 1.0,
):
    """An IBI ``simulate(tables) -> ({pair: RDF}, pressure)`` running the CG fluid.

    Each call continues the previous configuration (Langevin, ``friction`` [1/ps]). The RDF
    keeps per-frame pair counts (IMC, relative entropy) and per-bin errors; the pressure is an
    :class:`~stochastic.cg.targets.Estimate` with its block-averaged standard error.
    """
    sampler = fluid.sampler(seed=seed)

    def simulate(tables: dict[tuple[str, str], PairTable]):
        smp = sampler.run(
            [fluid.table_term(tables[("A", "A")])], n_equil, n_prod, interval, friction
        )
        return {("A", "A"): fluid.rdf(smp, bin_width, True)}, pressure_estimate(smp.pressure, 8)

    return simulate


__all__ = ["LJFluid", "lj_fluid", "lj_table", "table_simulator"]
