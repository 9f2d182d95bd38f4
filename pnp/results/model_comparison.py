"""Compare the continuum ion models on one channel: currents, conductance, selectivity, occupancy.

:func:`compare_models` solves the same channel problem with each ``ion_model`` of
:mod:`pnp.problems.ion_model` (point ions, steric, steric + BSK correlations) at the given
voltages and tabulates, per model and voltage:

- the total current [pA] and the chord conductance ``I/V`` [pS];
- the cation fraction of the current ``t+ = sum_{z>0} I_i / I`` (selectivity: 1 for a perfectly
  cation-selective pore, ~ D_+/(D_+ + D_-) for a neutral wide pore);
- the pore occupancy: number of ions of each species in the pore region (``int c dV`` over the
  water cells whose centre lies in the axial range of the pore region);
- the largest concentration [mM] anywhere (point ions can exceed close packing; the steric models
  cannot).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from meshes import names
from poreflux.errors import InputError
from poreflux.units import MM, N_A, NM

__all__ = ["ModelComparison", "ModelRow", "compare_models", "pore_occupancy"]

#: ions per nm^3 at 1 mM
IONS_PER_NM3_PER_MM = MM * N_A * NM**3


@dataclass(frozen=True)
class ModelRow:
    """One model at one voltage (see the module docstring for the quantities)."""

    model: str
    voltage_mV: float
    current_pA: float
    conductance_pS: float
    cation_fraction: float
    occupancy: Mapping[str, float]
    max_concentration_mM: float
    newton_iterations: int


@dataclass(frozen=True)
class ModelComparison:
    """Rows of :func:`compare_models`, with the solutions (same order)."""

    rows: tuple[ModelRow, ...]
    solutions: tuple[Any, ...] = field(repr=False, default=())

    def row(self, model: str, voltage_mV: float) -> ModelRow:
        """The row of ``model`` at ``voltage_mV``."""
        for r in self.rows:
            if r.model == model and r.voltage_mV == voltage_mV:
                return r
        raise InputError(f"no row for model {model!r} at {voltage_mV:g} mV")

    def table(self) -> str:
        """A printable table (one line per model and voltage)."""
        species = list(self.rows[0].occupancy) if self.rows else []
        head = f"{'model':<20} {'V/mV':>7} {'I/pA':>10} {'G/pS':>9} {'t+':>6} {'cmax/mM':>9}"
        head += "".join(f" {'N_' + s:>8}" for s in species)
        lines = [head]
        for r in self.rows:
            line = (
                f"{r.model:<20} {r.voltage_mV:>7.1f} {r.current_pA:>10.4g} "
                f"{r.conductance_pS:>9.4g} {r.cation_fraction:>6.3f} {r.max_concentration_mM:>9.4g}"
            )
            lines.append(line + "".join(f" {r.occupancy[s]:>8.3g}" for s in species))
        return "\n".join(lines)


def pore_occupancy(solution: Any, region: str = names.PORE) -> dict[str, float]:
    """Number of ions of each species in ``region`` (water cells whose centre lies in the axial
    range of that region) of a :class:`pnp.results.pnp_solution.PNPSolution`."""
    import dolfinx
    import ufl
    from mpi4py import MPI

    lo, hi = solution.region_z_range(region)
    sub = solution.unknowns[0].function_space.mesh
    axis = sub.geometry.dim - 1
    Q = dolfinx.fem.functionspace(sub, ("DG", 0))
    inside = dolfinx.fem.Function(Q)
    inside.interpolate(lambda x: ((x[axis] >= lo) & (x[axis] <= hi)).astype(float))
    x = ufl.SpatialCoordinate(sub)
    weight = 2 * np.pi * x[0] if solution.axisymmetric else 1.0
    out = {}
    for name in solution.species_names:
        c = solution.concentration(name)  # mM
        form = dolfinx.fem.form(c * inside * weight * ufl.dx(domain=sub))
        total = sub.comm.allreduce(dolfinx.fem.assemble_scalar(form), op=MPI.SUM)
        out[name] = float(total) * IONS_PER_NM3_PER_MM
    return out


def _row(model: str, sol: Any, pore: str | None) -> ModelRow:
    currents = sol.species_currents
    total = sol.current
    cations = sum(
        currents[n] for n, z in zip(sol.species_names, sol.problem.valences, strict=True) if z > 0
    )
    v = sol.voltage
    return ModelRow(
        model=model,
        voltage_mV=float(v),
        current_pA=float(total),
        conductance_pS=float(1e3 * total / v) if v != 0 else float("nan"),
        cation_fraction=float(cations / total) if total != 0 else float("nan"),
        occupancy=pore_occupancy(sol, pore) if pore else {},
        max_concentration_mM=float(
            max(np.max(sol.concentration_values(n), initial=0.0) for n in sol.species_names)
        ),
        newton_iterations=int(sol.newton_iterations),
    )


def compare_models(
    cmesh: Any,
    electrolyte: Any,
    *,
    voltages: Sequence[float] = (100.0,),
    models: Sequence[str] | None = None,
    surface_charge: float = 0.0,
    ion_size: float | None = None,
    ion_sizes: Mapping[str, float] | None = None,
    correlation_length: float | None = None,
    options: Any = None,
    pore_region: str | None = names.PORE,
    **problem_kwargs: Any,
) -> ModelComparison:
    """Solve one channel with each ion model at each voltage and tabulate the observables.

    Parameters
    ----------
    cmesh
        The channel mesh record.
    electrolyte
        Bath electrolyte (both ends), e.g. ``poreflux.salt("KCl", 1000)``.
    voltages
        Applied voltages [mV] (solved in this order, warm-started).
    models
        Ion models; default all of :data:`pnp.problems.ion_model.ION_MODELS`.
    surface_charge
        Wall surface charge [C/m^2].
    ion_size, ion_sizes, correlation_length
        Steric and BSK parameters (see :class:`pnp.problems.transport.PNPProblem`).
    options
        :class:`pnp.solvers.steady.SolverOptions`.
    pore_region
        Region whose occupancy is counted (``None``: skip; absent from the mesh: skipped).
    problem_kwargs
        Further keyword arguments of :func:`pnp.problems.transport.channel_problem`.
    """
    from pnp.problems.ion_model import ION_MODELS, check_ion_model
    from pnp.problems.transport import channel_problem
    from pnp.solvers.steady import SteadyPNPSolver

    models = tuple(check_ion_model(m) for m in (models or ION_MODELS))
    if not voltages:
        raise InputError("compare_models needs at least one voltage")
    pore = pore_region if pore_region and cmesh.has_region(pore_region) else None
    rows, sols = [], []
    for model in models:
        problem = channel_problem(
            cmesh, electrolyte, surface_charge=surface_charge, ion_model=model,
            ion_size=ion_size, ion_sizes=dict(ion_sizes or {}),
            correlation_length=correlation_length, **problem_kwargs,
        )  # fmt: skip
        solver = SteadyPNPSolver(cmesh, problem, options)
        try:
            for v in voltages:
                sol = solver.solve(float(v))
                rows.append(_row(model, sol, pore))
                sols.append(sol)
        finally:
            solver.close()
    return ModelComparison(tuple(rows), tuple(sols))
