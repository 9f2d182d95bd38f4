"""Pure UFL weak forms, each physics written once, and the measures they integrate over.

- :mod:`pnp.forms.poisson`: Poisson / Poisson-Boltzmann residuals, the registry of PB ion models
  (:data:`pnp.forms.poisson.PB_MODELS`), fixed-charge sources, energy density;
- :mod:`pnp.forms.nernst_planck`: Nernst-Planck fluxes, steady residual, mass term of the
  transient form, charge density, weak flux;
- :mod:`pnp.forms.measures`: ``dx``/``ds``/``dS`` by region and boundary name, the axisymmetric
  weight ``2 pi r``, region-wise fields (permittivity);
- :mod:`pnp.forms.charges`: a problem's fixed charges as scaled source terms (shared by PB and
  PNP);
- :mod:`pnp.forms.stokes`: Stokes (Taylor-Hood, axisymmetric or 3D), pressure ends, Navier slip,
  the electrochemical body force and the advective Nernst-Planck flux (electro-osmosis).

Nothing here knows a geometry: regions enter only as measures looked up by name.
"""
