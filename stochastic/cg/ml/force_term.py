"""The network energy as a force term of the MD core (``stochastic.md.ForceField``)."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from stochastic.cg.errors import CGInputError
from stochastic.cg.ml.descriptors import neighbour_table
from stochastic.cg.ml.model import NetworkEnergy, energy_forces_virial
from stochastic.md.neighbors import NeighborList
from stochastic.md.system import System


class MLForceTerm:
    """Forces and energy of a :class:`NetworkEnergy` (add the prior as its own pair term).

    The padded neighbour table (k-d tree) lists pairs within ``r_cut + skin`` and is reused
    until some bead has moved more than ``skin / 2`` since it was built (the Verlet criterion:
    no pair can then have come inside ``r_cut`` unlisted); pairs beyond ``r_cut`` contribute
    exactly zero through the smooth cutoff. The table keeps its width (the largest neighbour
    count rounded up to a multiple of 8) while it suffices, so the compiled energy-and-gradient
    function is reused; the network's arrays stay on the JAX device between steps. The cost of
    the network grows with the table width (a skin of 0.3 sigma at r_cut = 2 sigma widens it
    by half) and a k-d tree build costs about a fifth of one evaluation (108 beads), hence the
    small default skin.

    Parameters
    ----------
    system
        The CG system (fully periodic box).
    network
        The trained network energy.
    name
        Term name.
    skin
        Neighbour-table skin [nm] (>= 0; 0 rebuilds every step).
    """

    def __init__(
        self, system: System, network: NetworkEnergy, name: str = "ml_cg", skin: float = 0.1
    ):
        if system.box is None or not all(system.box.periodic):
            raise CGInputError("the ML force term needs a fully periodic box")
        if not (np.isfinite(skin) and skin >= 0):
            raise CGInputError(f"skin must be a finite length >= 0 nm, got {skin}")
        system.check_cutoff(network.spec.r_cut + skin)
        self.system = system
        self.network = network
        self.name = name
        self.skin = float(skin)
        self.cutoff = None  # own neighbour table
        self.lengths = system.box.lengths_array()
        self.width: int | None = None
        self.n_builds = 0
        self._ref: np.ndarray | None = None
        self._table: tuple[jnp.ndarray, jnp.ndarray] | None = None
        self._static = tuple(jnp.asarray(a) for a in (network.mean, network.std, self.lengths))

    def _rebuild_needed(self, positions: np.ndarray) -> bool:
        if self._ref is None or self._ref.shape != positions.shape:
            return True
        d = positions - self._ref
        d -= self.lengths * np.rint(d / self.lengths)
        return float(np.max(np.einsum("ij,ij->i", d, d))) > (0.5 * self.skin) ** 2

    def _build(self, positions: np.ndarray) -> None:
        r_list = self.network.spec.r_cut + self.skin
        try:
            idx, mask = neighbour_table(positions, self.lengths, r_list, self.width)
        except CGInputError:  # more neighbours than the current width: widen (recompiles)
            idx, mask = neighbour_table(positions, self.lengths, r_list, None)
        self.width = idx.shape[1]
        self._table = (jnp.asarray(idx), jnp.asarray(mask))
        self._ref = positions.copy()
        self.n_builds += 1

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add the network forces into ``forces``; return (energy, virial) [kJ/mol]."""
        if self._rebuild_needed(positions):
            self._build(positions)
        assert self._table is not None
        mean, std, lengths = self._static
        u, f, w = energy_forces_virial(
            self.network.params, mean, std, jnp.asarray(positions), *self._table, lengths,
            self.network.spec,
        )  # fmt: skip
        forces += np.asarray(f)
        return float(u), float(w)
