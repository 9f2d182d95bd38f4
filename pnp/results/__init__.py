"""Results and what is derived from them.

- :mod:`pnp.results.pb_solution`, :mod:`pnp.results.pnp_solution`: immutable solutions;
- :mod:`pnp.results.currents`: conservative end currents, currents through any cross-section,
  axial profiles, sweeps (:func:`~pnp.results.currents.iv_curve`,
  :func:`~pnp.results.currents.reversal_potential`), resistance split, Ohmic conductance;
- :mod:`pnp.results.observables`: MPI-reduced scalars, point evaluation, energies and charges;
- :mod:`pnp.results.refinement`: errors on refined meshes, fitted orders, Richardson
  extrapolation (:func:`~pnp.results.refinement.convergence_study`);
- :mod:`pnp.results.io`, :mod:`pnp.results.plots`: fields (VTX/XDMF), tables, JSON and figures,
  written from rank 0.
"""
