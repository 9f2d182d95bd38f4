"""Synthetic database for data-driven, mobility-preserving coarse-graining.

Bag, Meinel & Mueller-Plathe, J. Chem. Theory Comput. 18, 7108 (2022): all-atom liquids of
randomly perturbed molecules -> centre-of-mass RDF and D -> IBI potential -> CG runs with random
potentials and bead masses -> a regression (mass, g(r), D) -> potential that keeps structure
*and* mobility with Newtonian CG dynamics.

Modules: ``schema`` (settings, grid, version), ``storage`` (HDF5 file, atomic writes),
``pipeline`` (reference and CG runs), ``generator`` (serial/MPI, resumable), ``predictor``
(scikit-learn MLP implementing :class:`stochastic.cg.mobility.PotentialPredictor`),
``evaluation`` (held-out liquids: IBI vs IBI + friction vs predicted), ``cli``.
h5py, scikit-learn and mpi4py are imported only when used.
"""

from stochastic.cg.database.schema import (
    SCHEMA_VERSION,
    DatabaseError,
    DatabaseSettings,
)

__all__ = ["SCHEMA_VERSION", "DatabaseError", "DatabaseSettings"]
