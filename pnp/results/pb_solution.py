"""The immutable result of a Poisson-Boltzmann solve (:class:`pnp.solvers.pb.PBSolver`).

A :class:`PBSolution` holds private copies of the potential (mV and scaled), the fixed-charge
energy and the Newton report; concentrations, ionic charge and axial profiles are derived from
the potential by the Boltzmann (or Bikerman) expression of the problem's ion model.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import dolfinx
import numpy as np

from pnp.forms import poisson as _forms
from pnp.forms.measures import Measures, region_field
from pnp.problems.electrostatics import PBProblem
from pnp.results.observables import assemble_scalar, axial_profile, charge_e_from_scaled
from pnp.solvers.newton import NewtonReport
from poreflux.errors import InputError
from poreflux.units import Scales, kT_kj_per_mol

__all__ = ["IonModel", "PBSolution"]


@dataclass(frozen=True)
class IonModel:
    """What a solution needs to rebuild concentrations from its potential."""

    names: tuple[str, ...]
    valences: tuple[int, ...]
    bulk_mM: tuple[float, ...]
    model: str
    volume_fractions: tuple[float, ...]
    water: tuple[str, ...]


@dataclass(frozen=True)
class PBSolution:
    """An immutable PB result (its functions are private copies, never touched by the solver).

    Attributes
    ----------
    potential
        Potential [mV] (``dolfinx.fem.Function``).
    psi
        Scaled potential ``e phi / kT`` (used for warm starts).
    energy_kT, energy_kj_per_mol
        Fixed-charge electrostatic energy ``1/2 int rho_f phi`` (for linear PB the free energy).
    report
        The Newton report (iterations, residual history, timings).
    """

    problem: PBProblem
    cmesh: Any
    scales: Scales
    potential: Any
    psi: Any
    energy_kT: float
    report: NewtonReport
    measures: Measures = field(repr=False)
    ions: IonModel | None = field(repr=False)

    @property
    def energy_kj_per_mol(self) -> float:
        """Fixed-charge energy [kJ/mol]."""
        return self.energy_kT * kT_kj_per_mol(self.scales.temperature)

    def _concentration_exprs(self) -> list[Any]:
        if self.ions is None:
            raise InputError("this PB problem has no electrolyte, so no concentrations")
        ions = self.ions
        bulk = [c / self.scales.c0_mM for c in ions.bulk_mM]
        return _forms.ion_concentrations(
            self.psi, ions.valences, bulk, ions.model, ions.volume_fractions
        )

    def concentration(self, species: str) -> Any:
        """Concentration [mM] of a species as a function in the potential's space.

        This is the Boltzmann expression of the local potential, interpolated everywhere; ions
        exist only in the water regions (:meth:`ionic_charge` and :meth:`axial_profile` account
        for that).
        """
        if self.ions is None or species not in self.ions.names:
            known = () if self.ions is None else self.ions.names
            raise InputError(f"unknown species {species!r}; this solution has {known}")
        i = self.ions.names.index(species)
        expr = self._concentration_exprs()[i] * self.scales.c0_mM
        V = self.psi.function_space
        c = dolfinx.fem.Function(V, name=f"c_{species}")
        c.interpolate(dolfinx.fem.Expression(expr, V.element.interpolation_points))
        c.x.scatter_forward()
        return c

    def ionic_charge(self, regions: str | tuple[str, ...] | None = None) -> float:
        """Total mobile ionic charge [e] in the named water regions (all water when ``None``)."""
        if self.ions is None:
            return 0.0
        regions = self.ions.water if regions is None else regions
        regions = (regions,) if isinstance(regions, str) else tuple(regions)
        unknown = set(regions) - set(self.ions.water)
        if unknown:
            raise InputError(
                f"region(s) {sorted(unknown)} hold no ions; water regions are {self.ions.water}"
            )
        rho = 0
        for z, c in zip(self.ions.valences, self._concentration_exprs(), strict=True):
            rho = rho + z * c
        scaled = assemble_scalar(
            rho * self.measures.weight * self.measures.region(regions), self.cmesh.comm
        )
        return charge_e_from_scaled(self.scales, scaled)

    def axial_profile(self, z: np.ndarray | int = 200) -> dict[str, np.ndarray]:
        """Potential [mV] and concentrations [mM] along the pore axis (same on all ranks).

        Returns a dict with ``"z"`` [nm], ``"potential"`` [mV] and one entry per species
        (0 outside the water regions, NaN outside the mesh).
        """
        zz, phi = axial_profile(self.potential, self.cmesh, z)
        out = {"z": zz, "potential": phi}
        if self.ions is not None:
            water = region_field(self.cmesh, dict.fromkeys(self.ions.water, 1.0), default=0.0)
            inside = axial_profile(water, self.cmesh, zz)[1]
            for name in self.ions.names:
                out[name] = axial_profile(self.concentration(name), self.cmesh, zz)[1] * inside
        return out
