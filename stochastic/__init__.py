"""poreflux stochastic and particle levels (numpy/scipy/numba; no finite elements).

- :mod:`stochastic.profiles`: W(z) and D(z) along the pore axis;
- :mod:`stochastic.smoluchowski`, :mod:`stochastic.propagator`: 1D Smoluchowski currents, MFPTs,
  Kramers rates and time-dependent propagation;
- :mod:`stochastic.langevin`, :mod:`stochastic.first_passage`, :mod:`stochastic.regimes`:
  inertial and overdamped Langevin dynamics, first-passage statistics and which limit applies;
- :mod:`stochastic.bd`: grand-canonical multi-ion Brownian dynamics through a channel;
- :mod:`stochastic.memory`: friction memory kernels, tau_mem and the generalized Langevin
  equation;
- :mod:`stochastic.md`: the particle-MD core (LJ, Ewald/PME, direct Coulomb, Drude);
- :mod:`stochastic.pmf`: umbrella sampling, WHAM, MBAR, bootstrap, D(z);
- :mod:`stochastic.cg`: coarse-graining (mapping, IBI/IMC, force matching, friction calibration);
- :mod:`stochastic.chain`: W(z) +- sigma and D(z) +- sigma -> 1D currents, I-V, MFPT and
  selectivity with bootstrap uncertainties (``TransportProfile``, ``HierarchyChain``); the
  comparison with PNP on the same channel is :mod:`pnp.hierarchy.chain_comparison`.

Import the submodules you need, e.g. ``from stochastic import smoluchowski``.
"""
