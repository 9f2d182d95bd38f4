"""Solvers: build the forms of a problem on a mesh once, solve many times.

- :mod:`pnp.solvers.newton`: PETSc SNES Newton with residual histories and continuation
  (:class:`NewtonSolver`, :class:`ContinuationParameter`);
- :mod:`pnp.solvers.pb`: Poisson-Boltzmann (:class:`PBSolver`, :func:`solve_pb`);
- :mod:`pnp.solvers.steady`: steady PNP (:class:`SteadyPNPSolver`; ``docs/pnp_solver.md``);
- :mod:`pnp.solvers.transient`: time-dependent PNP, adaptive BDF2 (:class:`TransientPNPSolver`);
- :mod:`pnp.solvers.options`: the PNP options (:class:`SolverOptions`), continuation parameters
  and solve statistics;
- :mod:`pnp.solvers.preconditioners`: the block preconditioner in electrochemical-potential
  variables;
- :mod:`pnp.solvers.stokes`: Stokes flow on the water sub-mesh (:class:`StokesSolver`, shared
  :class:`FlowFields`); :mod:`pnp.solvers.flow`: steady PNP-Stokes (electro-osmosis,
  :class:`SteadyPNPStokesSolver`; ``docs/electroosmosis.md``) with its block preconditioner
  :mod:`pnp.solvers.flow_pc`.

Solutions are returned as :mod:`pnp.results` objects.
"""
