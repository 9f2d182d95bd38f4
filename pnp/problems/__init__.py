"""Plain, frozen, validated descriptions of what to solve (no DOLFINx objects).

- :mod:`pnp.problems.electrostatics`: permittivity by region, fixed charges (volume, surface,
  smoothed point charges), Dirichlet potentials, temperature (:class:`Electrostatics`), and the
  Poisson-Boltzmann problem (:class:`PBProblem`: electrostatics + an equilibrium electrolyte);
- :mod:`pnp.problems.transport`: the Poisson-Nernst-Planck problem (:class:`PNPProblem`: two bath
  electrolytes, applied voltage, excess chemical potentials; :func:`channel_problem`) and the bulk
  conductivity of a bath;
- :mod:`pnp.problems.ion_model`: the PNP ion models (``ion_model = "point" | "steric" |
  "steric+correlations"``), ion sizes, packing checks;
- :mod:`pnp.problems.pqr`: atomic charges and radii from PQR files;
- :mod:`pnp.problems.flow`: the fluid part of a PNP-Stokes problem (:class:`FlowProblem`:
  pressure difference, viscosity, slip, walls).

Import the names from these modules (e.g. ``from pnp.problems.transport import channel_problem``).
"""
