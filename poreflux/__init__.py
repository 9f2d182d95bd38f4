"""poreflux: ion transport through channels and nanopores across the modelling hierarchy.

This package is the foundation every level imports (numpy/scipy only, no DOLFINx):

- :mod:`poreflux.units`: CODATA constants, API units, Bjerrum/Debye lengths, solver scales;
- :mod:`poreflux.species`: ion species, the species library and electroneutral electrolytes;
- :mod:`poreflux.water`: water permittivity and viscosity as functions of temperature;
- :mod:`poreflux.validation`: the one check per kind of parameter (temperature, finite numbers);
- :mod:`poreflux.errors`: ``PorefluxError`` and its subclasses.

The levels live in their own packages: :mod:`meshes` (gmsh geometries), :mod:`pnp` (finite-element
PB/PNP, diagnostics, studies, and the joint with the particle levels in :mod:`pnp.hierarchy`) and
:mod:`stochastic` (1D Smoluchowski, Langevin, MD, PMFs, coarse-graining).

>>> import poreflux
>>> poreflux.salt("KCl", 150.0).concentrations["K+"]
150.0
"""

from __future__ import annotations

from importlib import metadata as _metadata

from poreflux.errors import ConvergenceError, InputError, MeshTagError, PorefluxError
from poreflux.species import Electrolyte, Species, define_species, get_species, salt

try:
    __version__ = _metadata.version("poreflux")
except _metadata.PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = [
    "ConvergenceError",
    "Electrolyte",
    "InputError",
    "MeshTagError",
    "PorefluxError",
    "Species",
    "__version__",
    "define_species",
    "get_species",
    "salt",
]
