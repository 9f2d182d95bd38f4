"""The network energy as a force term of the MD core (``stochastic.md.ForceField``)."""

from __future__ import annotations

import numpy as np

from stochastic.cg.errors import CGInputError
from stochastic.cg.ml.descriptors import neighbour_table
from stochastic.cg.ml.model import NetworkEnergy
from stochastic.md.neighbors import NeighborList
from stochastic.md.system import System


class MLForceTerm:
    """Forces and energy of a :class:`NetworkEnergy` (add the prior as its own pair term).

    The padded neighbour table is rebuilt every step with a k-d tree (cheap next to the network)
    and keeps its width while it suffices, so the compiled function is reused.

    Parameters
    ----------
    system
        The CG system (fully periodic box).
    network
        The trained network energy.
    name
        Term name.
    """

    def __init__(self, system: System, network: NetworkEnergy, name: str = "ml_cg"):
        if system.box is None or not all(system.box.periodic):
            raise CGInputError("the ML force term needs a fully periodic box")
        system.check_cutoff(network.spec.r_cut)
        self.system = system
        self.network = network
        self.name = name
        self.cutoff = None  # own neighbour table
        self.lengths = system.box.lengths_array()
        self.width: int | None = None

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add the network forces into ``forces``; return (energy, virial) [kJ/mol]."""
        rc = self.network.spec.r_cut
        try:
            idx, mask = neighbour_table(positions, self.lengths, rc, self.width)
        except CGInputError:  # more neighbours than the current width: widen (recompiles)
            idx, mask = neighbour_table(positions, self.lengths, rc, None)
        self.width = idx.shape[1]
        u, f, w = self.network.evaluate(positions, idx, mask, self.lengths)
        forces += f
        return u, w
