"""poreflux continuum solvers: Poisson-Boltzmann, Poisson-Nernst-Planck and their diagnostics.

Importing :mod:`pnp` is light: units, species and errors load at once; the finite-element parts
(which import DOLFINx) load on first use of their names.
"""

from __future__ import annotations

import importlib
from typing import Any

from pnp import backend as _backend  # noqa: F401  (must precede any dolfinx import)
from pnp.errors import ConvergenceError, InputError, MeshTagError, PorefluxError
from pnp.species import Electrolyte, Species, define_species, get_species, salt
from pnp.units import Scales

__version__ = "0.1.0"

# name -> module, imported on first attribute access (PEP 562)
_LAZY: dict[str, str] = {
    "diagnose": "pnp.diagnostics",
    "PBSolver": "pnp.pb",
    "PBSolution": "pnp.pb",
    "solve_pb": "pnp.pb",
    "Electrostatics": "pnp.problem",
    "PBProblem": "pnp.problem",
    "VolumeCharge": "pnp.problem",
    "SurfaceCharge": "pnp.problem",
    "PointCharges": "pnp.problem",
    "DirichletPotential": "pnp.problem",
    "NewtonSolver": "pnp.newton",
    "convergence_study": "pnp.convergence",
    "PNPProblem": "pnp.pnp_problem",
    "channel_problem": "pnp.pnp_problem",
    "SteadyPNPSolver": "pnp.steady",
    "SolverOptions": "pnp.steady",
    "TransientPNPSolver": "pnp.transient",
    "PNPSolution": "pnp.pnp_solution",
    "iv_curve": "pnp.currents",
    "reversal_potential": "pnp.currents",
    "cross_section": "pnp.currents",
    "axial_profiles": "pnp.currents",
    "resistance_split": "pnp.currents",
    "ohmic_conductance": "pnp.currents",
    "mu_ex_from_pmf": "pnp.pmf_coupling",
    "PMFExcessPotential": "pnp.pmf_coupling",
    "compare_with_pnp": "pnp.chain_comparison",
    "ChainPNPComparison": "pnp.chain_comparison",
    "plot_comparison": "pnp.chain_comparison",
    "ParameterGrid": "pnp.studies",
    "run_study": "pnp.studies",
    "load_study": "pnp.studies",
}

__all__ = [
    "ConvergenceError",
    "Electrolyte",
    "InputError",
    "MeshTagError",
    "PorefluxError",
    "Scales",
    "Species",
    "define_species",
    "get_species",
    "salt",
    *sorted(_LAZY),
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'pnp' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
