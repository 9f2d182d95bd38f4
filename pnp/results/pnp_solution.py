"""Immutable result of a steady (or transient) PNP solve.

A :class:`PNPSolution` holds *copies* of the fields (a later solve of the same solver does not
change it), the parameters it was solved at, the conservative currents through both bath ends and
the solver statistics. Derived observables live in :mod:`pnp.results.currents`.

Current sign: positive when positive charge flows from the top bath to the bottom bath (see
:mod:`pnp.problems.transport`), so the conductance ``I/V`` of an Ohmic pore is positive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from pnp.results.currents import end_currents
from poreflux.errors import InputError, SolveAttempt

#: Fraction of the ionic flux scale (``Scales.current_scale_pA``) below which an end current is
#: noise (Newton tolerance, round-off): the conservation error is then not defined (NaN).
CURRENT_NOISE_FRACTION = 1e-9


@dataclass(frozen=True)
class PNPSolution:
    """Fields and observables of one PNP solve.

    Attributes
    ----------
    problem
        The :class:`pnp.problems.transport.PNPProblem` at the solved voltage and baths.
    params
        The continuation parameters (:class:`pnp.solvers.steady.Params`) of the solve.
    psi
        Potential in kT/e (P1 on the whole mesh), a private copy.
    unknowns
        Concentration unknowns per species (P1 on the water sub-mesh; ``ln(c/c0)`` or ``c/c0``).
    variables
        ``"log"`` or ``"primitive"``.
    species_currents_top, species_currents_bottom
        Conservative (residual-based) current [pA] of each species through the top and the bottom
        bath end, in species order; their difference measures charge conservation.
    newton_iterations, linear_iterations, wall_time
        Solver statistics of the call that produced it (wall time in s).
    attempts
        Every Newton attempt (direct and continuation) with its residual history.
    time
        Time [ns] for a transient state, ``None`` for a steady one.
    psi_water
        The potential on the water sub-mesh (P1 copy), for observables on that mesh.
    mu_ex
        The excess chemical potential functions (kT) per species, ``None`` where absent.
    cmesh
        The mesh record (for region extents).
    current_scale_pA
        Current [pA] of a unit scaled flux (``Scales.current_scale_pA``).
    """

    problem: Any
    params: Any
    psi: Any
    unknowns: tuple[Any, ...]
    variables: str
    c0_mM: float
    thermal_voltage_mV: float
    species_currents_top: tuple[float, ...]
    species_currents_bottom: tuple[float, ...]
    newton_iterations: int = 0
    linear_iterations: int = 0
    wall_time: float = 0.0
    num_dofs: int = 0
    attempts: tuple[SolveAttempt, ...] = field(default_factory=tuple)
    time: float | None = None
    psi_water: Any = None
    mu_ex: tuple[Any, ...] = ()
    cmesh: Any = None
    current_scale_pA: float = 0.0

    @property
    def axisymmetric(self) -> bool:
        """True for a 2D axisymmetric solution."""
        return bool(self.cmesh.axisymmetric)

    @property
    def z_range(self) -> tuple[float, float]:
        """Axial extent (min, max) of the water domain [nm] (MPI-reduced)."""
        from mpi4py import MPI

        sub = self.unknowns[0].function_space.mesh
        z = sub.geometry.x[:, sub.geometry.dim - 1]
        lo = sub.comm.allreduce(float(z.min(initial=np.inf)), op=MPI.MIN)
        hi = sub.comm.allreduce(float(z.max(initial=-np.inf)), op=MPI.MAX)
        return lo, hi

    def region_z_range(self, region: str) -> tuple[float, float]:
        """Axial extent (min, max) [nm] of a named region of the mesh (MPI-reduced)."""
        from mpi4py import MPI

        msh = self.cmesh.mesh
        cells = self.cmesh.cell_tags.find(self.cmesh.region(region))
        z = msh.geometry.x[msh.geometry.dofmaps[0][cells]][:, :, msh.geometry.dim - 1]
        lo = msh.comm.allreduce(float(z.min(initial=np.inf)), op=MPI.MIN)
        hi = msh.comm.allreduce(float(z.max(initial=-np.inf)), op=MPI.MAX)
        return lo, hi

    @property
    def species_names(self) -> tuple[str, ...]:
        """Species names in solver order."""
        return self.problem.species_names

    @property
    def voltage(self) -> float:
        """Applied voltage ``phi_top - phi_bottom`` [mV]."""
        return float(self.params.voltage)

    @property
    def species_currents(self) -> dict[str, float]:
        """Current [pA] per species (mean of the two ends)."""
        return {
            n: 0.5 * (a + b)
            for n, a, b in zip(
                self.species_names,
                self.species_currents_top,
                self.species_currents_bottom,
                strict=True,
            )
        }

    @property
    def current(self) -> float:
        """Total current [pA] (mean of the two ends; positive = top -> bottom)."""
        return float(sum(self.species_currents.values()))

    @property
    def current_top(self) -> float:
        """Total current [pA] through the top end."""
        return float(sum(self.species_currents_top))

    @property
    def current_bottom(self) -> float:
        """Total current [pA] through the bottom end."""
        return float(sum(self.species_currents_bottom))

    @property
    def current_noise_pA(self) -> float:
        """Currents at or below this size [pA] are indistinguishable from zero.

        :data:`CURRENT_NOISE_FRACTION` of the ionic flux scale ``current_scale_pA`` (``e N_A c0
        D0 L0``, the current of a unit scaled flux): ten times the default absolute Newton
        tolerance on the scaled residual, from which the residual-based end currents are
        assembled. (0 when the scale is unknown: then only an exact zero counts.)
        """
        return CURRENT_NOISE_FRACTION * self.current_scale_pA

    @property
    def conservation_error(self) -> float:
        """``|I_top - I_bottom| / max(|I_top|, |I_bottom|)``: relative charge-conservation defect.

        NaN (not defined) when both end currents are at the noise level
        (``max(|I_top|, |I_bottom|) <= current_noise_pA``, e.g. at 0 mV between equal baths):
        a ratio of two round-off numbers says nothing about conservation. Tables show "n/a".
        """
        size = max(abs(self.current_top), abs(self.current_bottom))
        if not size > self.current_noise_pA:
            return float("nan")
        return abs(self.current_top - self.current_bottom) / size

    @property
    def conductance(self) -> float:
        """``I / V`` [pS] (pA / mV = nS, times 1000)."""
        if self.voltage == 0.0:
            raise InputError("conductance is undefined at V = 0; solve at a non-zero voltage")
        return 1e3 * self.current / self.voltage

    def index(self, species: str) -> int:
        """Position of a species in solver order."""
        try:
            return self.species_names.index(species)
        except ValueError:
            raise InputError(f"no species {species!r}; species: {self.species_names}") from None

    def concentration_values(self, species: str) -> np.ndarray:
        """Nodal concentrations [mM] of a species on the water sub-mesh (local dofs, a copy)."""
        u = self.unknowns[self.index(species)].x.array
        c = np.exp(u) if self.variables == "log" else u.copy()
        return c * self.c0_mM

    def concentration(self, species: str) -> Any:
        """A new P1 function on the water sub-mesh with the concentration [mM] of ``species``."""
        import dolfinx

        u = self.unknowns[self.index(species)]
        f = dolfinx.fem.Function(u.function_space, name=f"c_{species}_mM")
        f.x.array[:] = self.concentration_values(species)
        return f

    def potential(self) -> Any:
        """A new P1 function with the potential [mV] on the whole mesh."""
        import dolfinx

        f = dolfinx.fem.Function(self.psi.function_space, name="phi_mV")
        f.x.array[:] = self.psi.x.array * self.thermal_voltage_mV
        return f

    def write(self, path: Any) -> tuple[Any, Any]:
        """Write the fields as VTX (ADIOS2) directories: ``<path>_potential.bp`` (mV, whole
        mesh) and ``<path>_concentrations.bp`` (mM per species, water sub-mesh)."""
        from pathlib import Path

        from pnp.results.io import write_vtx

        stem = Path(path)
        if stem.suffix == ".bp":
            stem = stem.with_suffix("")
        t = 0.0 if self.time is None else float(self.time)
        pot = write_vtx(stem.parent / f"{stem.name}_potential.bp", [self.potential()], t)
        conc = write_vtx(
            stem.parent / f"{stem.name}_concentrations.bp",
            [self.concentration(n) for n in self.species_names],
            t,
        )
        return pot, conc

    def min_concentration(self) -> float:
        """Smallest nodal concentration [mM] over all species and ranks."""
        from mpi4py import MPI

        local = min(
            float(np.min(self.concentration_values(n), initial=np.inf)) for n in self.species_names
        )
        return self.psi.function_space.mesh.comm.allreduce(local, op=MPI.MIN)


def _copy(f: Any) -> Any:
    import dolfinx

    g = dolfinx.fem.Function(f.function_space, name=f.name)
    g.x.array[:] = f.x.array
    return g


def make_solution(solver: Any, params: Any, *, time: float | None = None) -> PNPSolution:
    """Snapshot a solver's current fields into a :class:`PNPSolution`."""

    top, bottom = end_currents(solver)
    pb = solver.problem.with_baths(
        _bath(solver.problem, params.bath_top, "top"),
        _bath(solver.problem, params.bath_bottom, "bottom"),
    ).with_voltage(params.voltage)
    stats = solver.stats
    return PNPSolution(
        problem=pb,
        params=params,
        psi=_copy(solver.psi),
        unknowns=tuple(_copy(u) for u in solver.us),
        variables=solver.options.variables,
        c0_mM=solver.scales.c0_mM,
        thermal_voltage_mV=solver.scales.thermal_voltage_mV,
        species_currents_top=tuple(top),
        species_currents_bottom=tuple(bottom),
        newton_iterations=stats.newton_iterations,
        linear_iterations=stats.linear_iterations,
        wall_time=stats.wall_time,
        num_dofs=solver.num_dofs,
        attempts=tuple(stats.attempts),
        time=time,
        psi_water=solver.psi_on_water(),
        mu_ex=tuple(solver.mu),
        cmesh=solver.cmesh,
        current_scale_pA=solver.scales.current_scale_pA,
    )


def _bath(problem: Any, conc: Any, end: str) -> Any:
    """The bath electrolyte of ``problem`` at ``end`` with concentrations ``conc`` (if changed)."""
    from poreflux.species import Electrolyte

    original = problem.bath_top if end == "top" else problem.bath_bottom
    if tuple(conc) == problem.bath_concentrations(end):
        return original
    mapping = dict(zip(problem.species_names, conc, strict=True))
    try:
        return Electrolyte({n: mapping[n] for n in original.names})
    except ValueError:
        return original  # a non-neutral intermediate state: keep the description's bath
