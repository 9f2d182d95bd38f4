"""Results and what is derived from them.

- :mod:`pnp.results.pb_solution`, :mod:`pnp.results.pnp_solution`: immutable solutions;
- :mod:`pnp.results.flow`: PNP-Stokes solutions (flow rate, convective currents, velocity
  profiles, electro-osmotic mobility, the electrokinetic Onsager matrix);
- :mod:`pnp.results.currents`: conservative end currents, currents through any cross-section,
  axial profiles, sweeps (:func:`~pnp.results.currents.iv_curve`,
  :func:`~pnp.results.currents.reversal_potential`), resistance split, Ohmic conductance;
- :mod:`pnp.results.observables`: MPI-reduced scalars, point evaluation, energies and charges;
- :mod:`pnp.results.refinement`: errors on refined meshes, fitted orders, Richardson
  extrapolation (:func:`~pnp.results.refinement.convergence_study`);
- :mod:`pnp.results.io`, :mod:`pnp.results.plots`: fields (VTX/XDMF for ParaView, HDF5 for
  Python), tables, JSON and figures, written from rank 0;
- :mod:`pnp.results.fieldfile`: :func:`read_fields`, the reader of the HDF5 field files (h5py
  and numpy only), with sampling along a line.
"""

from pnp.results.fieldfile import FieldFile, read_fields

__all__ = ["FieldFile", "read_fields"]
