"""The steady-PNP binding of the study engine: a channel geometry, a salt and the conditions.

:class:`ChannelPNPModel` turns a study point (voltage, bath concentrations, temperature, surface
charge, geometry parameters) into a :class:`pnp.solvers.steady.SteadyPNPSolver` solve on a
:func:`meshes.channel.build_channel` mesh. One mesh per geometry point; one solver per (geometry,
temperature, surface charge) -- voltage and bath concentrations are constants of the compiled
forms, so a sweep over them reuses the solver and warm-starts from the neighbouring solution.

Table columns of a solved point
-------------------------------
``current_pA`` (mean of the conservative currents through both bath ends; positive = positive
charge from top to bottom), ``conductance_pS`` (I/V, empty at 0 V), ``current_top_pA``,
``current_bottom_pA``, ``conservation_error`` (relative), ``current_<species>_pA``,
``min_concentration_mM``, ``newton_iterations``, ``linear_iterations``, ``newton_attempts``,
``solve_time_s``, ``num_dofs``, ``mesh_h_pore_nm`` (pore mesh size), and with
``diagnostics=True`` the worst-severity columns of :meth:`pnp.diagnostics.Report.columns`
(``diag_worst``, ``diag_finite_size``, ...).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshes import names
from pnp.studies.geometry import GEOMETRY_PARAMETERS, check_kind, make_geometry
from pnp.studies.grid import (
    CONCENTRATION,
    CONCENTRATION_BOTTOM,
    CONCENTRATION_TOP,
    CONDITION_AXES,
    SURFACE_CHARGE,
    TEMPERATURE,
    VOLTAGE,
    ParameterGrid,
    StudyPoint,
)
from pnp.studies.model import PointResult
from poreflux.errors import InputError

__all__ = ["ChannelPNPModel"]

#: Boundaries that may carry the surface charge (interfaces between water and a solid).
CHARGEABLE_WALLS = (names.MEMBRANE_WALL, names.PROTEIN_WALL)
#: How species diffusion coefficients follow the temperature.
DIFFUSION_MODELS = ("stokes-einstein", "fixed")
#: How the permittivity of the water regions follows the temperature.
PERMITTIVITY_MODELS = ("malmberg-maryott", "fixed")
#: Regions filled with water (their permittivity follows ``permittivity_model``).
WATER_REGIONS = (names.BATH, names.PORE)
#: Regions of a channel mesh (permittivity overrides).
CHANNEL_REGIONS = (names.BATH, names.PORE, names.MEMBRANE, names.PROTEIN)


def _salt(formula: str, concentration: float, where: str) -> Any:
    from poreflux.species import salt

    if not (isinstance(concentration, int | float) and math.isfinite(concentration)):
        raise InputError(f"{where} must be a finite number in mM, got {concentration!r}")
    if concentration <= 0:
        raise InputError(
            f"{where} must be > 0 mM, got {concentration:g} (PNP needs ions in both baths)"
        )
    try:
        return salt(formula, concentration)
    except (ValueError, KeyError) as exc:
        reason = exc.args[0] if exc.args else str(exc)
        raise InputError(
            f"salt {formula!r} is not usable: {reason}; give a binary salt of library species, "
            "e.g. KCl, NaCl, CaCl2"
        ) from None


@dataclass(frozen=True)
class ChannelPNPModel:
    """Steady PNP through a channel, as a study model (:class:`pnp.studies.model.StudyModel`).

    Every condition below is the base value; an axis of the grid with the same name overrides it
    point by point.

    Parameters
    ----------
    geometry_kind
        ``"default"``, ``"cylinder"``, ``"cone"`` or ``"hourglass"`` (see
        :mod:`pnp.studies.geometry`).
    geometry
        Base geometry parameters (``radius_nm``, ``h_pore_nm``, ...).
    dim
        2 (axisymmetric) or 3.
    salt
        Salt formula of both baths, e.g. ``"KCl"``, ``"NaCl"``, ``"CaCl2"``.
    voltage_mV
        Applied voltage ``phi_top - phi_bottom`` [mV].
    concentration_mM
        Salt concentration of both baths [mM].
    concentration_top_mM, concentration_bottom_mM
        Per-side salt concentrations [mM]; ``None`` = ``concentration_mM``.
    temperature_K
        Temperature [K].
    surface_charge_C_per_m2
        Surface charge density on ``walls`` [C/m^2].
    walls
        Charged boundaries (``membrane_wall``, ``protein_wall``).
    permittivity
        Relative permittivity overrides by region (``bath``, ``pore``, ``membrane``, ``protein``).
    solver
        Keyword arguments of :class:`pnp.solvers.steady.SolverOptions` (``variables``, ``rtol``,
        ...).
    diffusion_model
        ``"stokes-einstein"`` (default): species diffusion coefficients follow the temperature as
        ``D(T) = D(298.15 K) (T/298.15 K) eta_w(298.15 K)/eta_w(T)``
        (:func:`poreflux.species.diffusion_at`); ``"fixed"``: the 25 degC library values at every
        temperature.
    permittivity_model
        ``"malmberg-maryott"`` (default): the permittivity of the water regions (``bath``,
        ``pore``; configured or default value = the 25 degC value) is scaled by
        ``eps_w(T)/eps_w(298.15 K)`` of :func:`poreflux.water.water_permittivity` (0.947 at 37
        degC),
        so the Debye and Bjerrum lengths follow the temperature; ``"fixed"``: the configured values
        at every temperature. Membrane and protein permittivities never change.
    diagnostics
        Add the diagnostics' worst-severity columns to every row.
    profile_points
        Number of cross-sections of an axial profile (``profiles=True`` runs).
    """

    geometry_kind: str = "default"
    geometry: Mapping[str, float] = field(default_factory=dict)
    dim: int = 2
    salt: str = "KCl"
    voltage_mV: float = 0.0
    concentration_mM: float = 150.0
    concentration_top_mM: float | None = None
    concentration_bottom_mM: float | None = None
    temperature_K: float = 298.15
    surface_charge_C_per_m2: float = 0.0
    walls: tuple[str, ...] = CHARGEABLE_WALLS
    permittivity: Mapping[str, float] = field(default_factory=dict)
    solver: Mapping[str, Any] = field(default_factory=dict)
    diffusion_model: str = "stokes-einstein"
    permittivity_model: str = "malmberg-maryott"
    diagnostics: bool = True
    profile_points: int = 80

    def __post_init__(self) -> None:
        check_kind(self.geometry_kind)
        if self.diffusion_model not in DIFFUSION_MODELS:
            raise InputError(
                f"diffusion_model must be one of {DIFFUSION_MODELS}, got {self.diffusion_model!r}"
            )
        if self.permittivity_model not in PERMITTIVITY_MODELS:
            raise InputError(
                f"permittivity_model must be one of {PERMITTIVITY_MODELS}, got "
                f"{self.permittivity_model!r}"
            )
        if self.dim not in (2, 3):
            raise InputError(f"dim must be 2 (axisymmetric) or 3, got {self.dim!r}")
        object.__setattr__(self, "geometry", dict(self.geometry))
        object.__setattr__(self, "permittivity", dict(self.permittivity))
        object.__setattr__(self, "solver", dict(self.solver))
        object.__setattr__(self, "walls", tuple(self.walls))
        bad = sorted(set(self.walls) - set(CHARGEABLE_WALLS))
        if bad:
            raise InputError(f"walls {bad} cannot carry charge; choose from {CHARGEABLE_WALLS}")
        bad = sorted(set(self.permittivity) - set(CHANNEL_REGIONS))
        if bad:
            raise InputError(
                f"permittivity names unknown region(s) {bad}; channel regions: {CHANNEL_REGIONS}"
            )
        for region, eps in self.permittivity.items():
            if not (isinstance(eps, int | float) and math.isfinite(eps) and eps > 0):
                raise InputError(f"permittivity of {region!r} must be > 0, got {eps!r}")
        self.solver_options()  # raises on unknown or bad options
        _salt(self.salt, 1.0, "salt")  # raises for an unknown formula
        if not isinstance(self.profile_points, int) or self.profile_points < 2:
            raise InputError(f"profile_points must be an integer >= 2, got {self.profile_points!r}")

    # -- description -----------------------------------------------------------------------------
    def solver_options(self) -> Any:
        """The :class:`pnp.solvers.steady.SolverOptions` of every solve."""
        from pnp.solvers.steady import SolverOptions

        allowed = [f.name for f in dataclasses.fields(SolverOptions)]
        unknown = sorted(set(self.solver) - set(allowed))
        if unknown:
            raise InputError(f"unknown solver option(s) {unknown}; allowed: {allowed}")
        try:
            return SolverOptions(**self.solver)
        except TypeError as exc:
            raise InputError(f"bad solver options: {exc}") from None

    def definition(self) -> dict[str, Any]:
        """Plain data of the model (for the study hash)."""
        d = dataclasses.asdict(self)
        d["geometry"] = dict(self.geometry)
        d["permittivity"] = dict(self.permittivity)
        d["solver"] = dict(self.solver)
        d["walls"] = list(self.walls)
        d["model"] = "channel_pnp"
        return d

    @property
    def allowed_axes(self) -> tuple[str, ...]:
        """Axis names this model accepts."""
        return (*CONDITION_AXES, *GEOMETRY_PARAMETERS[self.geometry_kind])

    # -- point -> parameters ----------------------------------------------------------------------
    def geometry_params(self, point: StudyPoint) -> dict[str, float]:
        """Geometry parameters of a point (base updated with the point's geometry axes)."""
        params = dict(self.geometry)
        for k in GEOMETRY_PARAMETERS[self.geometry_kind]:
            if k in point.values:
                params[k] = point[k]
        return params

    def conditions(self, point: StudyPoint) -> dict[str, float]:
        """Voltage, bath concentrations, temperature and surface charge of a point."""
        both = point.get(CONCENTRATION, self.concentration_mM)
        top = point.get(CONCENTRATION_TOP)
        bottom = point.get(CONCENTRATION_BOTTOM)
        swept = CONCENTRATION in point.values
        if top is None:
            top = both if swept or self.concentration_top_mM is None else self.concentration_top_mM
        if bottom is None:
            base = self.concentration_bottom_mM
            bottom = both if swept or base is None else base
        return {
            VOLTAGE: point.get(VOLTAGE, self.voltage_mV),
            CONCENTRATION_TOP: top,
            CONCENTRATION_BOTTOM: bottom,
            TEMPERATURE: point.get(TEMPERATURE, self.temperature_K),
            SURFACE_CHARGE: point.get(SURFACE_CHARGE, self.surface_charge_C_per_m2),
        }

    def membrane_span(self, values: Mapping[str, Any]) -> tuple[float, float]:
        """``(z_bottom, z_top)`` [nm] of the membrane for a table row or point values."""
        geo = {k: v for k, v in values.items() if k in GEOMETRY_PARAMETERS[self.geometry_kind]}
        g = make_geometry(self.geometry_kind, {**self.geometry, **geo}, self.dim)
        return (-g.thickness / 2, g.thickness / 2)

    def geometry_key(self, point: StudyPoint) -> Hashable:
        """Points with the same geometry axes share a mesh."""
        return point.subset(GEOMETRY_PARAMETERS[self.geometry_kind])

    def solver_key(self, point: StudyPoint) -> Hashable:
        """One solver per (geometry, temperature, surface charge)."""
        return (*self.geometry_key(point), *point.subset((TEMPERATURE, SURFACE_CHARGE)))

    # -- validation ----------------------------------------------------------------------------
    def check(self, grid: ParameterGrid) -> None:
        """Validate every point (geometry, concentrations, temperature, charge, voltage)."""
        from pnp.problems.electrostatics import Electrostatics, SurfaceCharge
        from pnp.problems.transport import PNPProblem

        allowed = self.allowed_axes
        unknown = [n for n in grid.names if n not in allowed]
        if unknown:
            raise InputError(
                f"the grid has axes {unknown} that a {self.geometry_kind!r} channel study does "
                f"not know; allowed axes: {list(allowed)}"
            )
        per_side = {CONCENTRATION_TOP, CONCENTRATION_BOTTOM} & set(grid.names)
        if CONCENTRATION in grid.names and per_side:
            raise InputError(
                f"give either {CONCENTRATION} (both baths) or {sorted(per_side)} (per side) as "
                "axes, not both"
            )
        seen_geometry: set[Hashable] = set()
        seen_conditions: set[tuple] = set()
        for point in grid.points():
            key = self.geometry_key(point)
            if key not in seen_geometry:
                seen_geometry.add(key)
                try:
                    make_geometry(self.geometry_kind, self.geometry_params(point), self.dim)
                except InputError as exc:
                    where = ", ".join(f"{k}={v:g}" for k, v in key) or "the base geometry"
                    raise InputError(f"impossible geometry at {where}: {exc}") from None
            cond = self.conditions(point)
            ckey = tuple(cond.values())
            if ckey in seen_conditions:
                continue
            seen_conditions.add(ckey)
            per_side = self.concentration_top_mM is not None or any(
                k in point.values for k in (CONCENTRATION_TOP, CONCENTRATION_BOTTOM)
            )
            name_top = CONCENTRATION_TOP if per_side else CONCENTRATION
            name_bottom = CONCENTRATION_BOTTOM if per_side else CONCENTRATION
            top = _salt(self.salt, cond[CONCENTRATION_TOP], name_top)
            bottom = _salt(self.salt, cond[CONCENTRATION_BOTTOM], name_bottom)
            try:
                charges = ()
                if cond[SURFACE_CHARGE] != 0.0:
                    charges = (SurfaceCharge(self.walls[0], cond[SURFACE_CHARGE]),)
                es = Electrostatics(cond[TEMPERATURE], {"bath": 78.5}, surface_charges=charges)
                PNPProblem(es, top, bottom, voltage=cond[VOLTAGE])
            except InputError as exc:
                raise InputError(f"at {point.label()}: {exc}") from None

    # -- solving ---------------------------------------------------------------------------------
    def build_mesh(self, point: StudyPoint, comm: Any) -> Any:
        """The channel mesh of the point's geometry (collective on ``comm``)."""
        from meshes.channel import build_channel

        geometry = make_geometry(self.geometry_kind, self.geometry_params(point), self.dim)
        return build_channel(geometry, dim=self.dim, comm=comm)

    def problem(self, cmesh: Any, point: StudyPoint) -> Any:
        """The :class:`pnp.problems.transport.PNPProblem` of a point on ``cmesh``."""
        from pnp.problems.transport import channel_problem

        cond = self.conditions(point)
        top = _salt(self.salt, cond[CONCENTRATION_TOP], CONCENTRATION_TOP)
        bottom = _salt(self.salt, cond[CONCENTRATION_BOTTOM], CONCENTRATION_BOTTOM)
        return channel_problem(
            cmesh,
            top,
            voltage=cond[VOLTAGE],
            surface_charge=cond[SURFACE_CHARGE],
            temperature=cond[TEMPERATURE],
            bath_bottom=None if bottom == top else bottom,
            permittivity=self._permittivity(cmesh, cond[TEMPERATURE]),
            walls=self.walls,
            diffusion=self._diffusion(top, cond[TEMPERATURE]),
        )

    def _permittivity(self, cmesh: Any, temperature: float) -> dict[str, float]:
        """Relative permittivity overrides by region at ``temperature``."""
        from pnp.problems.transport import DEFAULT_PERMITTIVITY
        from poreflux.water import REFERENCE_TEMPERATURE, water_permittivity

        perm = dict(self.permittivity)
        if self.permittivity_model == "fixed":
            return perm
        ratio = water_permittivity(temperature) / water_permittivity(REFERENCE_TEMPERATURE)
        for region in WATER_REGIONS:
            if region in cmesh.regions:
                perm[region] = ratio * perm.get(region, DEFAULT_PERMITTIVITY[region])
        return perm

    def _diffusion(self, electrolyte: Any, temperature: float) -> dict[str, float]:
        """Diffusion coefficient overrides [nm^2/ns] at ``temperature`` (none if fixed)."""
        from poreflux.species import diffusion_at

        if self.diffusion_model == "fixed":
            return {}
        return {s.name: diffusion_at(s, temperature) for s in electrolyte.species}

    def make_solver(self, mesh: Any, point: StudyPoint) -> Any:
        """A :class:`pnp.solvers.steady.SteadyPNPSolver` for the point's solver group."""
        from pnp.solvers.steady import SteadyPNPSolver

        return SteadyPNPSolver(mesh, self.problem(mesh, point), self.solver_options())

    def solve(self, solver: Any, point: StudyPoint, warm: Any | None) -> PointResult:
        """Solve one point (warm-started from ``warm``, a PNPSolution of the same solver)."""
        cond = self.conditions(point)
        species = solver.problem.species_names
        top = _salt(self.salt, cond[CONCENTRATION_TOP], CONCENTRATION_TOP)
        bottom = _salt(self.salt, cond[CONCENTRATION_BOTTOM], CONCENTRATION_BOTTOM)
        if warm is not None:
            solver.set_state(warm)
        sol = solver.solve(
            cond[VOLTAGE],
            bath_top=[top.concentration(n) for n in species],
            bath_bottom=[bottom.concentration(n) for n in species],
            warm=warm is not None,
        )
        return PointResult(self.observables(sol), sol)

    def observables(self, sol: Any) -> dict[str, Any]:
        """The table columns of a :class:`pnp.results.pnp_solution.PNPSolution`."""
        row: dict[str, Any] = {
            "current_pA": sol.current,
            "conductance_pS": sol.conductance if sol.voltage != 0.0 else None,
            "current_top_pA": sol.current_top,
            "current_bottom_pA": sol.current_bottom,
            "conservation_error": sol.conservation_error if sol.current != 0.0 else None,
        }
        for name, value in sol.species_currents.items():
            row[f"current_{name}_pA"] = value
        row.update(
            min_concentration_mM=sol.min_concentration(),
            newton_iterations=int(sol.newton_iterations),
            linear_iterations=int(sol.linear_iterations),
            newton_attempts=len(sol.attempts),
            solve_time_s=float(sol.wall_time),
            num_dofs=int(sol.num_dofs),
        )
        geometry = getattr(sol.cmesh, "geometry", None)
        if geometry is not None and hasattr(geometry, "h_pore"):
            row["mesh_h_pore_nm"] = float(geometry.h_pore)
        if self.diagnostics:
            from pnp.diagnostics import diagnose

            row.update(diagnose(sol, cmesh=sol.cmesh).columns())
        return row

    def write_fields(self, state: Any, path: Path) -> Path:
        """Potential [mV] on the whole mesh and concentrations [mM] on the water sub-mesh.

        VTX (``<id>.bp``): two folders ``<id>_potential.bp`` and ``<id>_ions.bp`` (the two live
        on different meshes). XDMF (``<id>.xdmf``): ``<id>_potential.xdmf`` and
        ``<id>_ions.xdmf``. Returns the potential's path.
        """
        from pnp.results.io import write_vtx

        sol = state
        potential = sol.potential()
        ions = [sol.concentration(n) for n in sol.species_names]
        path = Path(path)
        stem = path.with_suffix("")
        if path.suffix == ".xdmf":
            _write_xdmf(Path(f"{stem}_potential.xdmf"), [potential])
            _write_xdmf(Path(f"{stem}_ions.xdmf"), ions)
            return Path(f"{stem}_potential.xdmf")
        write_vtx(Path(f"{stem}_ions.bp"), ions)
        return write_vtx(Path(f"{stem}_potential.bp"), [potential])

    def axial_profile(self, state: Any) -> dict[str, Any]:
        """Cross-section averages along the axis (:func:`pnp.results.currents.axial_profiles`)."""
        from pnp.results.currents import axial_profiles

        return axial_profiles(state, self.profile_points)


def _write_xdmf(path: Path, functions: list[Any]) -> Path:
    import dolfinx.io

    msh = functions[0].function_space.mesh
    if msh.comm.rank == 0:
        path.parent.mkdir(parents=True, exist_ok=True)
    msh.comm.Barrier()
    with dolfinx.io.XDMFFile(msh.comm, str(path), "w") as xdmf:
        xdmf.write_mesh(msh)
        for f in functions:
            xdmf.write_function(f)
    return path
