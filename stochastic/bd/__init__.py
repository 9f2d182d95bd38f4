"""Grand-canonical Brownian dynamics of many ions through a channel (GCMC/BD).

Continuum units: nm, ns, mM, mV, kT, pA, pS, D in nm^2/ns. The pieces, all plain data or
functions:

- :class:`ChannelGeometry`, :class:`RadiusProfile`: membrane slab, axisymmetric pore, baths and
  buffers (:mod:`stochastic.bd.geometry`);
- :class:`GridField`, :class:`ExternalField`: static potential and self-energy on regular grids
  (e.g. exported from a finite-element solution) and the applied voltage
  (:mod:`stochastic.bd.fields`);
- :class:`BDSystem`: geometry + electrolyte + field + numerics (:mod:`stochastic.bd.system`);
- compiled forces and the Ermak-McCammon step (:mod:`stochastic.bd.kernels`), grand-canonical
  buffers (:mod:`stochastic.bd.gcmc`), block-averaged observables and :class:`BDResult`
  (:mod:`stochastic.bd.observables`), the resumable driver :class:`BDSimulation`
  (:mod:`stochastic.bd.run`), :func:`simulate`, :func:`run_replicas` and the warm worker pool
  :class:`ReplicaPool` (:mod:`stochastic.bd.replicas`); the BD electrolyte's bulk conductivity
  relative to Nernst-Einstein (:func:`stochastic.bd.bulk.bulk_conductivity_ratio`);
- a charged membrane face with multivalent counter-ions and its neutralisation profile
  (overcharging; :mod:`stochastic.bd.wall`);
- Michaelis-Menten fits of a current against concentration (single-file saturation;
  :mod:`stochastic.bd.saturation`).

See ``docs/brownian_dynamics.md`` for the model, equations and references.
"""

from stochastic.bd.fields import ExternalField, GridField
from stochastic.bd.gcmc import debye_huckel_mu_ex
from stochastic.bd.geometry import BDInputError, ChannelGeometry, RadiusProfile
from stochastic.bd.observables import BDResult, combine
from stochastic.bd.replicas import ReplicaPool, run_replicas, simulate
from stochastic.bd.run import BDSimulation
from stochastic.bd.system import BDSystem

__all__ = [
    "BDInputError",
    "BDResult",
    "BDSimulation",
    "BDSystem",
    "ChannelGeometry",
    "ExternalField",
    "GridField",
    "RadiusProfile",
    "ReplicaPool",
    "combine",
    "debye_huckel_mu_ex",
    "run_replicas",
    "simulate",
]
