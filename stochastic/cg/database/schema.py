"""Settings and fixed grids of the synthetic mobility-preserving CG database.

One :class:`DatabaseSettings` object fixes everything a database entry depends on besides its
seed and its recorded parameters: temperature, system size, run lengths, the RDF/potential grid
and the random ranges. It is stored (as JSON) in the database file, so that every entry can be
regenerated bit for bit from the file alone (:func:`stochastic.cg.database.pipeline.run_cg_entry`).

The design follows Bag, Meinel & Mueller-Plathe, J. Chem. Theory Comput. 18, 7108 (2022): base
molecules 3-methylpentane, 2,3,4-trimethylpentane and ethylbenzene with random bonded
parameters; one bead per molecule; CG bead masses drawn from 20-200 g/mol.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from stochastic.cg.errors import CGInputError

#: Identifier stored in every database file (foreign HDF5 files are refused).
SCHEMA_NAME: str = "poreflux-cg-mobility-database"
#: Version of the file layout; files of another version are refused with a clear message.
SCHEMA_VERSION: int = 3
#: Training molecules of the seed paper.
PAPER_MOLECULES: tuple[str, ...] = ("3-methylpentane", "2,3,4-trimethylpentane", "ethylbenzene")
#: Training molecules of the shipped database: the paper's three, linear alkanes shorter and
#: longer than n-hexane, and aromatics lighter/denser (benzene) and heavier (p-xylene) than
#: toluene, so that the held-out liquids lie inside the training range of mass and density.
BASE_MOLECULES: tuple[str, ...] = (*PAPER_MOLECULES, "n-pentane", "benzene", "n-octane",
                                   "p-xylene")  # fmt: skip
#: Held-out physical liquids (never in the training database).
HELDOUT_MOLECULES: tuple[str, ...] = ("n-hexane", "toluene", "2,2-dimethylbutane")


class DatabaseError(CGInputError):
    """A database file is missing, foreign, of another schema version or corrupt."""


@dataclass(frozen=True)
class DatabaseSettings:
    """Everything an entry depends on besides its seed and parameters.

    Parameters
    ----------
    temperature
        Temperature [K].
    n_molecules
        Molecules in the all-atom box (= beads in the CG box).
    r_max, bin_width
        RDF / potential grid [nm] (the CG cutoff is ``r_max``).
    aa_cutoff
        All-atom LJ cutoff [nm] (switched from ``aa_cutoff - 0.15``).
    aa_pack_stages, aa_pack_steps
        Compression stages and steps per stage of the liquid packing
        (:func:`stochastic.md.liquid.build_liquid`).
    aa_dt, aa_equil, aa_prod, aa_interval
        All-atom time step [ps], Langevin equilibration and NVE production steps, frame interval.
    cg_dt, cg_equil, cg_prod, cg_interval
        CG time step [ps], Langevin equilibration and NVE production steps, frame interval.
    d_fit_aa, d_fit_cg
        MSD fit windows [ps] for D (all-atom, CG).
    ibi_iterations
        IBI iterations (the iteration closest to the target RDF is kept).
    ibi_equil, ibi_prod
        Langevin steps per IBI iteration (equilibration, sampling).
    entries_per_model
        CG entries per all-atom model (the first uses the IBI potential unchanged).
    mass_range
        CG bead masses are drawn uniformly from this range [amu].
    rough_max
        Amplitudes of the sub-bin roughness added to the entry potentials are drawn uniformly
        from ``[0, rough_max]`` kT (:func:`stochastic.cg.database.pipeline.roughness`).
    base_molecules
        Catalogue names (:data:`stochastic.md.trappe.CATALOGUE`) of the training molecules;
        model ``i`` perturbs ``base_molecules[i % len(base_molecules)]``.
    heldout_replicas
        Independent all-atom runs per held-out liquid: its g(r) is their mean and D_AA's error
        their standard error (one run's block error understates the run-to-run scatter).
    """

    temperature: float = 298.15
    n_molecules: int = 72
    r_max: float = 1.1
    bin_width: float = 0.02
    aa_cutoff: float = 0.9
    aa_pack_stages: int = 4
    aa_pack_steps: int = 300
    aa_dt: float = 0.002
    aa_equil: int = 2000
    aa_prod: int = 5000
    aa_interval: int = 50
    cg_dt: float = 0.004
    cg_equil: int = 1000
    cg_prod: int = 6000
    cg_interval: int = 25
    d_fit_aa: tuple[float, float] = (1.5, 5.0)
    d_fit_cg: tuple[float, float] = (2.0, 10.0)
    ibi_iterations: int = 6
    ibi_equil: int = 500
    ibi_prod: int = 3000
    entries_per_model: int = 20
    mass_range: tuple[float, float] = (20.0, 200.0)
    rough_max: float = 0.25
    base_molecules: tuple[str, ...] = BASE_MOLECULES
    heldout_replicas: int = 4

    def __post_init__(self) -> None:
        names = self.base_molecules
        if not names or not all(isinstance(x, str) and x for x in names):
            raise CGInputError(f"database setting base_molecules must be catalogue names, got "
                               f"{names!r}")  # fmt: skip
        from stochastic.md.trappe import CATALOGUE

        unknown = sorted(set(names) - set(CATALOGUE))
        if unknown:
            raise CGInputError(f"database setting base_molecules: unknown molecule(s) {unknown}; "
                               f"known: {sorted(CATALOGUE)}")  # fmt: skip
        for f in fields(self):
            if f.name == "base_molecules":
                continue
            v = getattr(self, f.name)
            vals = v if isinstance(v, tuple) else (v,)
            if not all(isinstance(x, int | float) and math.isfinite(x) and x > 0 for x in vals):
                raise CGInputError(f"database setting {f.name} must be positive and finite, "
                                   f"got {v!r}")  # fmt: skip
        n_bins = round(self.r_max / self.bin_width)
        if not math.isclose(n_bins * self.bin_width, self.r_max, rel_tol=1e-9):
            raise CGInputError("database r_max must be an integer multiple of bin_width")
        if self.mass_range[0] >= self.mass_range[1]:
            raise CGInputError(f"mass_range must be (low, high), got {self.mass_range}")

    @property
    def edges(self) -> np.ndarray:
        """RDF bin edges [nm]."""
        return np.linspace(0.0, self.r_max, round(self.r_max / self.bin_width) + 1)

    @property
    def r(self) -> np.ndarray:
        """Bin centres [nm] (the grid of g(r) features and tabulated potentials)."""
        e = self.edges
        return 0.5 * (e[1:] + e[:-1])

    def to_json(self) -> str:
        """JSON text (stored in the file)."""
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DatabaseSettings:
        """Inverse of :meth:`to_json`."""
        raw = json.loads(text)
        known = {f.name for f in fields(cls)}
        kw = {k: tuple(v) if isinstance(v, list) else v for k, v in raw.items() if k in known}
        return cls(**kw)


def ci_settings() -> DatabaseSettings:
    """A tiny configuration for tests and CI (32 molecules of the three original training
    liquids, two-stage packing, sub-ps all-atom runs, 2 entries per model): it exercises every
    stage in seconds; its numbers are not converged physics. (32 molecules of the larger
    training molecules, n-octane or p-xylene, make a box narrower than twice ``r_max``.)"""
    return DatabaseSettings(
        base_molecules=PAPER_MOLECULES, n_molecules=32, r_max=0.9, aa_cutoff=0.8,
        aa_pack_stages=2, aa_pack_steps=100,
        aa_equil=200, aa_prod=400, aa_interval=20, cg_equil=200, cg_prod=800, cg_interval=20,
        d_fit_aa=(0.2, 0.6), d_fit_cg=(0.4, 1.2), ibi_iterations=2, ibi_equil=100,
        ibi_prod=400, entries_per_model=2, heldout_replicas=2,
    )  # fmt: skip
