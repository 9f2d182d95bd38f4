"""poreflux stochastic and particle levels: 1D Smoluchowski, Langevin dynamics, particle MD,
PMF estimation and coarse-graining. numpy/scipy only (no finite elements).

Import the submodules you need, e.g. ``from stochastic import smoluchowski``.
"""
