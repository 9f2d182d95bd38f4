"""External fields: a uniform electric field (e.g. an applied transmembrane voltage)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from poreflux.units import FARADAY
from stochastic.md.neighbors import NeighborList
from stochastic.md.system import System

#: 1 V/nm acting on 1 e, in kJ/mol/nm (= F/1000 = 96.485).
V_PER_NM_TO_KJ_PER_MOL_NM_E: float = FARADAY / 1e3


class UniformField:
    """Uniform electric field ``E`` [V/nm]: ``F_i = q_i E``, ``U = -sum_i q_i E . r_i``.

    The energy uses the raw (unwrapped) coordinates; with periodic boundaries only the forces
    are meaningful (as in GROMACS' electric-field option). ``V/nm * e = 96.485 kJ/mol/nm``.
    """

    cutoff = None

    def __init__(self, system: System, field_v_per_nm: Sequence[float], name: str = "field"):
        self.name = name
        self.e = np.asarray(field_v_per_nm, dtype=float) * V_PER_NM_TO_KJ_PER_MOL_NM_E
        self.q = system.charges

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add ``q E`` to the forces; return (energy, 0)."""
        forces += self.q[:, None] * self.e[None, :]
        return float(-np.sum(self.q * (positions @ self.e))), 0.0
