"""The joint between the continuum (pnp) and the particle/1D levels (stochastic).

This subpackage is the only place in :mod:`pnp` that imports :mod:`stochastic` (and it does so
inside functions, so importing it stays light); the rest of pnp, the diagnostics included, takes
plain numbers and arrays. Each hand-over:

- **PMF -> continuum.** :func:`mu_ex_from_pmf` turns a species' 1D potential of mean force W(z)
  [kT] (a :class:`stochastic.chain.TransportProfile` or :class:`stochastic.profiles.Profile`) into
  the excess chemical potential :class:`PMFExcessPotential` that
  :class:`pnp.problems.transport.PNPProblem` takes as ``mu_ex`` (bath-level reference, smooth taper
  to 0 at the ends, optional removal of the confinement entropy PNP already resolves).
- **1D chain <-> PNP.** :func:`compare_with_pnp` solves PNP on a channel geometry without and with
  the PMFs as ``mu_ex`` and sets its currents, conductances and axial profiles next to those of a
  :class:`stochastic.chain.HierarchyChain`, all in the PNP conventions (voltage
  ``phi_top - phi_bottom``, current positive top -> bottom; :func:`chain_iv_pnp` converts the
  chain's own convention), with the diagnostics' verdict on each PNP solution
  (:class:`ChainPNPComparison`; :func:`plot_comparison` draws it). The diagnostics' hopping time
  is the MFPT across the chain's PMF (:func:`stochastic.smoluchowski.hopping_time_ns`), handed
  over as a number.
- **Memory -> diagnostics.** :func:`time_scales` gives tau_mem (from friction kernels of
  :mod:`stochastic.memory`, with a bootstrap error) and tau_hop (from the PMF and D(z)) in ns,
  the numbers the non-Markovian check takes (:meth:`TimeScales.diagnostic_inputs`).
- **Particle model pore -> mesh.** :func:`channel_geometry` gives the continuum channel
  (:func:`meshes.channel.cylindrical_pore`) matching a :class:`stochastic.md.model_pore.ModelPore`
  (ion-accessible radius, pore length, same axis and origin).
- **Multi-ion BD <-> PNP.** :func:`compare_bd_with_pnp` runs GCMC/BD (:mod:`stochastic.bd`) on
  the channel mesh's geometry (:func:`bd_geometry`) with the finite-element static field and
  dielectric self-energy exported to its grid, solves PNP on the same mesh and returns one
  table (:class:`BDPNPComparison`) with the diagnostics' verdicts.
"""

from __future__ import annotations

from pnp.lazy import lazy_exports

# name -> module, imported on first use (the modules load scipy, DOLFINx or stochastic)
_LAZY = {
    "BDPNPComparison": "pnp.hierarchy.bd_result",
    "BDRunSettings": "pnp.hierarchy.bd_comparison",
    "ChainPNPComparison": "pnp.hierarchy.comparison_result",
    "PMFExcessPotential": "pnp.hierarchy.pmf_coupling",
    "TimeScales": "pnp.hierarchy.timescales",
    "bd_geometry": "pnp.hierarchy.bd_fields",
    "chain_iv_pnp": "pnp.hierarchy.chain_comparison",
    "channel_geometry": "pnp.hierarchy.model_pore",
    "compare_bd_with_pnp": "pnp.hierarchy.bd_comparison",
    "compare_with_pnp": "pnp.hierarchy.chain_comparison",
    "mu_ex_from_pmf": "pnp.hierarchy.pmf_coupling",
    "plot_comparison": "pnp.hierarchy.comparison_result",
    "time_scales": "pnp.hierarchy.timescales",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
