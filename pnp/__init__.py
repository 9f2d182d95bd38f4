"""poreflux's continuum level: finite-element Poisson-Boltzmann and Poisson-Nernst-Planck.

Subpackages by role, each importing only those above it in this list:

- :mod:`pnp.problems`: plain, validated descriptions (electrostatics/PB, PNP, PQR charges);
- :mod:`pnp.forms`: pure UFL weak forms (Poisson, Nernst-Planck), measures and fixed charges;
- :mod:`pnp.solvers`: Newton with continuation, the PB solver, steady and transient PNP,
  solver options and the block preconditioner;
- :mod:`pnp.results`: PB and PNP solutions, fluxes and currents, sweeps (I-V, reversal
  potential), observables, field and table output, plots, mesh-refinement orders;
- :mod:`pnp.diagnostics`: where mean-field PB/PNP fails and which level to use instead;
- :mod:`pnp.studies`: parameter and convergence studies (resumable, MPI-distributed, TOML);
- :mod:`pnp.hierarchy`: the one joint with :mod:`stochastic` (a PMF as excess chemical
  potential, the 1D chain compared with PNP, the MD model pore as a channel geometry);
- :mod:`pnp.cli`: the ``poreflux`` command.

Shared basics (units, species, electrolytes, errors) come from :mod:`poreflux`; geometries from
:mod:`meshes`. Importing :mod:`pnp` prepares the DOLFINx bindings and imports DOLFINx
(:func:`meshes.backend.load_dolfinx`, with the garbage collector paused and then frozen); it
loads none of the subpackages, which a script imports as it needs them.
"""

from __future__ import annotations

from meshes import backend as _backend  # (must precede any dolfinx import)

_backend.require_dolfinx()  # pnp is the finite-element level: say clearly when DOLFINx is missing
