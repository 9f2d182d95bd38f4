"""PNP breakdown diagnostics: where the mean-field assumptions fail and what to use instead.

Mean-field PNP/PB assumes point ions, weak ion-ion correlations and Markovian friction. These
checks grade each assumption per region (ok / warning / breakdown) with the numbers behind the
verdict, where it happens (region and axial position), and the level of the modelling hierarchy to
use instead; overlapping double layers, an under-resolved Debye layer and surface conduction are
reported as notes.

- Problem level (before solving): :func:`diagnose` on a :class:`DiagnosticInputs` or on an
  :class:`~poreflux.species.Electrolyte` with keyword inputs.
- Solution level: :func:`diagnose` on a :class:`SolutionFields` adds cell-wise fields (local
  concentrations and permittivity), per-region findings located at the worst cell, and DG0 fields
  for ParaView (``write=``).

Thresholds are parameters (:class:`Thresholds`) with documented, referenced defaults.

Example
-------
>>> from poreflux import salt
>>> from pnp.diagnostics import AxialProfile, diagnose
>>> import numpy as np
>>> z = np.linspace(-10, 10, 201)
>>> R = np.where(np.abs(z) <= 2, 0.3, 5.0)
>>> profile = AxialProfile.from_spans(z, R, [("bath", -10, -2.01), ("pore", -2, 2),
...                                          ("bath", 2.01, 10)])
>>> report = diagnose(salt("KCl", 150), temperature=298.15, profile=profile)
>>> report.worst_by_region()["pore"].label, report.worst_by_region()["bath"].label
('breakdown', 'ok')
"""

from __future__ import annotations

from pnp.lazy import lazy_exports

# name -> module, imported on first use (the modules load scipy, DOLFINx or stochastic)
_LAZY = {
    "AxialProfile": "pnp.diagnostics.inputs",
    "DEFAULT_THRESHOLDS": "pnp.diagnostics.thresholds",
    "DiagnosticInputs": "pnp.diagnostics.inputs",
    "Finding": "pnp.diagnostics.findings",
    "Report": "pnp.diagnostics.report",
    "Severity": "pnp.diagnostics.findings",
    "SolutionFields": "pnp.diagnostics.solution_fields",
    "Thresholds": "pnp.diagnostics.thresholds",
    "diagnose": "pnp.diagnostics.api",
    "diagnose_problem": "pnp.diagnostics.api",
    "diagnose_solution": "pnp.diagnostics.api",
    "inputs_from_problem": "pnp.diagnostics.adapters",
    "profile_from_channel": "pnp.diagnostics.adapters",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
