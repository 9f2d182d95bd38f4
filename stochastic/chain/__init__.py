"""The hierarchy chain: W(z) +- sigma and D(z) +- sigma -> 1D Smoluchowski observables +- sigma.

A particle simulation (umbrella sampling + WHAM/MBAR, Hummer's D) gives, per ion species, a
potential of mean force W(z) [kT] and a diffusivity D(z) [nm^2/ns] along the pore axis, each with
an uncertainty. :class:`TransportProfile` holds one species' transport input with its noise model;
:class:`HierarchyChain` turns several of them plus an effective area and a voltage-drop region into
the observables of the 1D Smoluchowski level (currents per species and total, I-V, conductance,
mean first-passage time, selectivity, permeability ratio), computed by
:class:`stochastic.smoluchowski.Channel1D` / :func:`~stochastic.smoluchowski.steady_flux` /
:func:`~stochastic.smoluchowski.mfpt` -- the chain does not re-derive the Smoluchowski integrals.

Uncertainty: parametric bootstrap through the chain
---------------------------------------------------
Every observable is recomputed on ``n_boot`` random draws of all profiles (one draw of every
species per replicate, the same draws for every observable at a given ``seed``) and reported as an
:class:`Uncertain`: point value (from the central profiles), bootstrap mean, standard deviation and
a percentile interval (95 % by default). The noise model of a profile is, in order of preference:

W(z)
    1. **Umbrella bootstrap replicas** (:meth:`TransportProfile.from_pmf` given a
       :class:`stochastic.pmf.BootstrapPMF`): each draw is one replicate PMF of the block bootstrap
       over umbrella windows (:func:`stochastic.pmf.bootstrap_pmf`), picked with replacement. This
       carries the true correlation of the PMF errors along z (errors of the window free energies
       accumulate along the coordinate). NaN bins of a replicate (no sample there) take the point
       estimate.
    2. **Correlated Gaussian**: ``W + delta`` with ``delta`` Gaussian, marginal standard deviation
       ``sigma_W(z)`` and correlation ``exp(-(z - z')^2 / (2 l^2))``, ``l`` =
       ``correlation_length_nm`` (``0``: independent grid points -- the result then depends on
       the grid spacing; ``inf``: one common factor, ``delta(z) = sigma_W(z) xi``). For a PMF from
       umbrella windows a sensible ``l`` is the window spacing (the default of
       :meth:`TransportProfile.from_pmf`). A constant offset of W does not change any observable
       (the 1D flux is invariant under ``W -> W + const``), so only the z-dependent part of the
       error matters; PMF sigmas are relative to the PMF's reference bin, where they vanish.

D(z)
    1. **Per window** (from a :class:`stochastic.pmf.DiffusionProfile`): every window's D is drawn
       independently (the windows are independent simulations) and interpolated onto the grid
       exactly as the central value is.
    2. Otherwise **correlated** on the grid with the same correlation model as W.

    D draws are log-normal with the given mean and standard deviation
    (``ln D' = ln D + s g - s^2/2``, ``s^2 = ln(1 + (sigma_D/D)^2)``), so D stays positive.

Bath ends. W draws keep the central values at both grid ends (``pin_ends``, default): the ends
lie in the baths, and a draw with ``W_L != W_R`` would make identical baths exchange ions at
0 mV. The deviation of a draw minus the straight line through its end deviations is used.

The correlated Gaussian model factorises the ``B x B`` correlation matrix of the grid once per
profile (Cholesky with a 1e-10 jitter), so keep PMF grids to a few thousand points.

A linear error propagation through the flux integral,
``d ln J = -int delta(z) e^W/D dz / int e^W/D dz``, is the small-sigma limit of this bootstrap
(``tests/test_chain.py`` checks both against each other).

Units: z [nm], W [kT], D [nm^2/ns], concentrations [mM], voltages [mV], currents [pA],
conductances [pS], times [ns], temperature [K]. Sign conventions are those of
:mod:`stochastic.smoluchowski`: the voltage is the potential of the left (low-z) bath relative to
the right one, a positive current is positive charge moving left to right (towards +z).
"""

from stochastic.chain.model import HierarchyChain
from stochastic.chain.results import ChainIV, Uncertain
from stochastic.chain.transport_profile import D_UNITS, TransportProfile, WindowDiffusion

__all__ = [
    "D_UNITS",
    "ChainIV",
    "HierarchyChain",
    "TransportProfile",
    "Uncertain",
    "WindowDiffusion",
]
