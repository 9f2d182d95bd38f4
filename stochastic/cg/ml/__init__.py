"""Machine-learned CG forces: an energy network over local invariant descriptors (JAX).

The CG energy is ``U = U_prior + sum_I e_theta(G_I)``: a pair prior (any tabulated pair term,
e.g. a short-range repulsion or the MS-CG pair potential, run by
:class:`stochastic.cg.tabulated.TabulatedPair`) plus a per-bead network energy ``e_theta`` of
rotation- and permutation-invariant descriptors ``G_I`` of the bead's neighbourhood (radial
Gaussians and angular moments within a cutoff, :mod:`.descriptors`). Forces are the exact
gradient of the energy (automatic differentiation). The network is trained by force matching
on mapped reference forces minus the prior forces (CGnet: Wang et al., ACS Cent. Sci. 5, 755
(2019)), :mod:`.training`; :class:`.force_term.MLForceTerm` runs it on the MD core.

Needs the optional extra ``ml`` (JAX + optax, CPU). Importing this package switches JAX to
float64 (``jax_enable_x64``): MD integrates in double precision and the finite-difference
force checks need it. Modules: ``descriptors``, ``model``, ``training``, ``force_term``.
"""

import jax

jax.config.update("jax_enable_x64", True)
