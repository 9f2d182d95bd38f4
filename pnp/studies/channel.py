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
``current_bottom_pA``, ``conservation_error`` (relative; empty, "n/a", when both end currents
are at the noise level, e.g. 0 mV), ``current_<species>_pA``,
``min_concentration_mM``, ``newton_iterations``, ``linear_iterations``, ``newton_attempts``,
``solve_time_s``, ``num_dofs``, ``mesh_h_pore_nm`` (pore mesh size), and with
``diagnostics=True`` the worst-severity columns of :meth:`pnp.diagnostics.Report.columns`
(``diag_worst``, ``diag_finite_size``, ...).
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from meshes import names
from pnp.problems.flow import PRESSURE_AXIS
from pnp.problems.ion_model import ION_MODELS
from pnp.studies.checks import StudyInputError, check_conditions
from pnp.studies.geometry import GEOMETRY_PARAMETERS, MESH_FILE_KIND, check_kind, make_geometry
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

__all__ = ["ChannelPNPModel", "membrane_span_of"]

#: Boundaries that may carry the surface charge (interfaces between water and a solid).
CHARGEABLE_WALLS = (names.MEMBRANE_WALL, names.PROTEIN_WALL)
#: How species diffusion coefficients follow the temperature.
DIFFUSION_MODELS = ("stokes-einstein", "fixed")
#: How the permittivity of the water regions follows the temperature.
PERMITTIVITY_MODELS = ("malmberg-maryott", "fixed")
#: Regions filled with water (their permittivity follows ``permittivity_model``).
WATER_REGIONS = names.WATER_REGIONS
#: Regions of a channel mesh (permittivity overrides).
CHANNEL_REGIONS = (names.BATH, names.PORE, names.MEMBRANE, names.PROTEIN)


def salt_of(formula: str, concentration: float, where: str) -> Any:
    """The :class:`poreflux.species.Electrolyte` of a bath; the one check of a concentration.

    Raises
    ------
    StudyInputError
        Keyed ``where`` for a non-finite or non-positive concentration, ``salt`` for a formula
        that is not a binary salt of library species.
    """
    from poreflux.species import salt

    if not (isinstance(concentration, int | float) and math.isfinite(concentration)):
        raise StudyInputError(
            f"{where} must be a finite number in mM, got {concentration!r}", where
        )
    if concentration <= 0:
        raise StudyInputError(
            f"{where} must be > 0 mM, got {concentration:g} (PNP needs ions in both baths)", where
        )
    try:
        return salt(formula, concentration)
    except (ValueError, KeyError) as exc:
        reason = exc.args[0] if exc.args else str(exc)
        raise StudyInputError(
            f"salt {formula!r} is not usable: {reason}; give a binary salt of library species, "
            "e.g. KCl, NaCl, CaCl2",
            "salt",
        ) from None


def membrane_span_of(
    kind: str, geometry: Mapping[str, float], dim: int, values: Mapping[str, Any]
) -> tuple[float, float] | None:
    """``(z_bottom, z_top)`` [nm] of the membrane of a ``kind`` geometry with base parameters
    ``geometry``, updated by the geometry axes among ``values`` (a table row); None for a mesh
    file. Needs no model object: :mod:`pnp.studies.show` calls it with a stored definition."""
    if kind == MESH_FILE_KIND:
        return None
    geo = {k: v for k, v in values.items() if k in GEOMETRY_PARAMETERS[kind]}
    g = make_geometry(kind, {**geometry, **geo}, dim)
    return (-g.thickness / 2, g.thickness / 2)


@dataclass(frozen=True)
class ChannelPNPModel:
    """Steady PNP through a channel, as a study model (:class:`pnp.studies.model.StudyModel`).

    Every condition below is the base value; an axis of the grid with the same name overrides it
    point by point.

    Parameters
    ----------
    geometry_kind
        ``"default"``, ``"cylinder"``, ``"cone"``, ``"hourglass"`` (see
        :mod:`pnp.studies.geometry`) or ``"msh"`` (the user mesh ``mesh_file``).
    geometry
        Base geometry parameters (``radius_nm``, ``h_pore_nm``, ...; none for ``"msh"``).
    dim
        2 (axisymmetric) or 3.
    mesh_file
        The gmsh ``.msh`` file of a ``"msh"`` geometry, with the physical groups of
        :mod:`pnp.studies.meshfile` (checked by :meth:`check`, before any mesh is built).
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
        Charged boundaries. None (default): every wall of the geometry that can carry charge
        (``membrane_wall``, and ``protein_wall`` when the pore has a protein lining). A list:
        each name must be a wall of every geometry of the study (:meth:`check` refuses
        ``protein_wall`` on a pore without lining, or a name a ``.msh`` file does not have).
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
    ion_model
        ``"point"`` (default), ``"steric"`` or ``"steric+correlations"``
        (:mod:`pnp.problems.ion_model`).
    ion_size_nm, correlation_length_nm
        Steric ion size [nm] of every species (default: each species' hydrated diameter) and
        the BSK correlation length [nm] (default: ``max(a, z_max^2 l_B)``).
    diagnostics
        Add the diagnostics' worst-severity columns to every row.
    profile_points
        Number of cross-sections of an axial profile (``profiles=True`` runs).
    flow
        Solve PNP-Stokes instead of PNP (electro-osmosis; the segregated coupling of
        :mod:`pnp.solvers.flow_segregated`, water viscosity at the point's temperature).
    pressure_difference_Pa
        ``p_top - p_bottom`` [Pa] (needs ``flow``); an axis of the same name overrides it.
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
    walls: tuple[str, ...] | None = None
    permittivity: Mapping[str, float] = field(default_factory=dict)
    solver: Mapping[str, Any] = field(default_factory=dict)
    diffusion_model: str = "stokes-einstein"
    permittivity_model: str = "malmberg-maryott"
    ion_model: str = "point"
    ion_size_nm: float | None = None
    correlation_length_nm: float | None = None
    diagnostics: bool = True
    profile_points: int = 80
    mesh_file: str | Path | None = None
    flow: bool = False
    pressure_difference_Pa: float = 0.0

    def __post_init__(self) -> None:
        check_kind(self.geometry_kind)
        for key, value, choices in (
            ("diffusion_model", self.diffusion_model, DIFFUSION_MODELS),
            ("permittivity_model", self.permittivity_model, PERMITTIVITY_MODELS),
            ("dim", self.dim, (2, 3)),
            ("ion_model", self.ion_model, ION_MODELS),
        ):
            if value not in choices:
                raise StudyInputError(f"{key} must be one of {list(choices)}, got {value!r}", key)
        object.__setattr__(self, "geometry", dict(self.geometry))
        object.__setattr__(self, "permittivity", dict(self.permittivity))
        object.__setattr__(self, "solver", dict(self.solver))
        self._check_walls_and_file()
        bad = sorted(set(self.permittivity) - set(CHANNEL_REGIONS))
        if bad:
            raise StudyInputError(
                f"permittivity names unknown region(s) {bad}; channel regions: {CHANNEL_REGIONS}",
                "permittivity",
            )
        for region, eps in self.permittivity.items():
            if not (isinstance(eps, int | float) and math.isfinite(eps) and eps > 0):
                raise StudyInputError(
                    f"permittivity of {region!r} must be > 0, got {eps!r}", "permittivity"
                )
        self.solver_options()  # raises on unknown or bad options
        salt_of(self.salt, 1.0, "salt")  # raises for an unknown formula
        if not isinstance(self.profile_points, int) or self.profile_points < 2:
            raise StudyInputError(
                f"profile_points must be an integer >= 2, got {self.profile_points!r}",
                "profile_points",
            )

    def _check_walls_and_file(self) -> None:
        is_file = self.geometry_kind == MESH_FILE_KIND
        if is_file != (self.mesh_file is not None):
            raise StudyInputError(
                f"a {MESH_FILE_KIND!r} geometry needs mesh_file (the .msh path) and other kinds "
                f"take none; got geometry_kind={self.geometry_kind!r}, "
                f"mesh_file={self.mesh_file!r}",
                "mesh_file",
            )
        if self.walls is None:
            return
        object.__setattr__(self, "walls", tuple(self.walls))
        if is_file:
            bad = sorted(set(self.walls) & {names.TOP, names.BOTTOM})
            allowed = "any other boundary of the mesh file"
        else:
            bad = sorted(set(self.walls) - set(CHARGEABLE_WALLS))
            allowed = f"{list(CHARGEABLE_WALLS)}"
        if bad or not self.walls:
            raise StudyInputError(
                f"walls {bad or []} cannot carry the surface charge of a {self.geometry_kind!r} "
                f"geometry; choose one or more of {allowed}",
                "walls",
            )

    # -- description -----------------------------------------------------------------------------
    def solver_options(self) -> Any:
        """The :class:`pnp.solvers.steady.SolverOptions` of every solve."""
        from pnp.solvers.steady import SolverOptions

        allowed = [f.name for f in dataclasses.fields(SolverOptions)]
        unknown = sorted(set(self.solver) - set(allowed))
        if unknown:
            raise StudyInputError(
                f"unknown solver option(s) {unknown}; allowed: {allowed}", "solver"
            )
        try:
            return SolverOptions(**self.solver)
        except (TypeError, InputError) as exc:
            raise StudyInputError(f"bad solver options: {exc}", "solver") from None

    def definition(self) -> dict[str, Any]:
        """Plain data of the model (for the study hash)."""
        d = dataclasses.asdict(self)
        d["geometry"] = dict(self.geometry)
        d["permittivity"] = dict(self.permittivity)
        d["solver"] = dict(self.solver)
        d["walls"] = list(CHARGEABLE_WALLS if self.walls is None else self.walls)
        del d["mesh_file"]  # (definitions, and hashes, of generated geometries unchanged)
        if self.mesh_file is not None:  # the mesh by its content: a changed file is a new study
            path = Path(self.mesh_file)
            d["mesh_file_name"] = path.name
            d["mesh_file_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        d["model"] = "channel_pnp"
        if not self.flow:  # (definitions, and hashes, of studies without flow unchanged)
            del d["flow"], d["pressure_difference_Pa"]
        return d

    @property
    def allowed_axes(self) -> tuple[str, ...]:
        """Axis names this model accepts."""
        return (*CONDITION_AXES, PRESSURE_AXIS, *GEOMETRY_PARAMETERS[self.geometry_kind])

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
            PRESSURE_AXIS: point.get(PRESSURE_AXIS, self.pressure_difference_Pa),
        }

    def membrane_span(self, values: Mapping[str, Any]) -> tuple[float, float] | None:
        """``(z_bottom, z_top)`` [nm] of the membrane for a table row or point values (None for
        a mesh file)."""
        return membrane_span_of(self.geometry_kind, self.geometry, self.dim, values)

    def geometry_key(self, point: StudyPoint) -> Hashable:
        """Points with the same geometry axes share a mesh."""
        return point.subset(GEOMETRY_PARAMETERS[self.geometry_kind])

    def solver_key(self, point: StudyPoint) -> Hashable:
        """One solver per (geometry, temperature, surface charge)."""
        return (*self.geometry_key(point), *point.subset((TEMPERATURE, SURFACE_CHARGE)))

    # -- validation ----------------------------------------------------------------------------
    def check(self, grid: ParameterGrid) -> None:
        """Validate the whole grid before any mesh is built: axes, every geometry (and its
        charged walls, or the mesh file's physical groups), every distinct set of conditions.

        Raises
        ------
        StudyInputError
            An :class:`~poreflux.errors.InputError` whose ``key`` names the parameter.
        """
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
        points = grid.points()
        charged = self._check_conditions(points)
        if self.geometry_kind == MESH_FILE_KIND:
            self._check_mesh_file(charged)
        else:
            self._check_geometries(points)

    def _check_conditions(self, points: list[StudyPoint]) -> bool:
        """Check every distinct set of conditions; True when some point has a surface charge."""
        water = self.diffusion_model != "fixed" or self.permittivity_model != "fixed"
        seen: set[tuple] = set()
        charged = False
        for point in points:
            cond = self.conditions(point)
            if tuple(cond.values()) in seen:
                continue
            seen.add(tuple(cond.values()))
            charged = charged or cond[SURFACE_CHARGE] != 0.0
            per_side = self.concentration_top_mM is not None or any(
                k in point.values for k in (CONCENTRATION_TOP, CONCENTRATION_BOTTOM)
            )
            salt_of(self.salt, cond[CONCENTRATION_TOP], CONCENTRATION_TOP if per_side
                    else CONCENTRATION)  # fmt: skip
            salt_of(self.salt, cond[CONCENTRATION_BOTTOM], CONCENTRATION_BOTTOM if per_side
                    else CONCENTRATION)  # fmt: skip
            check_conditions(cond, water=water)
            self._check_pressure(cond[PRESSURE_AXIS])
        return charged

    def _check_pressure(self, dp: float) -> None:
        """A pressure difference needs ``flow``; its value is checked by the flow problem."""
        from pnp.problems.flow import FlowProblem

        if dp != 0.0 and not self.flow:
            raise StudyInputError(
                f"{PRESSURE_AXIS} = {dp:g} needs flow = true (PNP-Stokes)", PRESSURE_AXIS
            )
        try:
            FlowProblem(dp)
        except InputError as exc:
            raise StudyInputError(str(exc), PRESSURE_AXIS) from None

    def _check_geometries(self, points: list[StudyPoint]) -> None:
        """Every geometry point can be built and has each charged wall."""
        seen: set[Hashable] = set()
        for point in points:
            key = self.geometry_key(point)
            if key in seen:
                continue
            seen.add(key)
            where = ", ".join(f"{k}={v:g}" for k, v in key) or "the base geometry"
            try:
                geometry = make_geometry(self.geometry_kind, self.geometry_params(point), self.dim)
            except InputError as exc:
                message = f"impossible geometry at {where}: {exc}"
                raise StudyInputError(message, "geometry") from None
            has = (names.MEMBRANE_WALL, *((names.PROTEIN_WALL,) if geometry.has_protein else ()))
            missing = sorted(set(self.walls or ()) - set(has))
            if missing:
                raise StudyInputError(
                    f"charged wall(s) {missing} are not boundaries of the {self.geometry_kind!r} "
                    f"geometry at {where} (protein lining {geometry.protein_thickness:g} nm); "
                    f"its walls: {list(has)} ({names.PROTEIN_WALL} needs protein_thickness_nm > 0)",
                    "walls",
                )

    def _check_mesh_file(self, charged: bool) -> None:
        """The mesh file has the physical groups a PNP study needs and every charged wall."""
        from pnp.problems.transport import DEFAULT_PERMITTIVITY
        from pnp.studies.meshfile import check_mesh_file

        found = check_mesh_file(self.mesh_file, self.dim, set(DEFAULT_PERMITTIVITY))
        walls = CHARGEABLE_WALLS if self.walls is None else self.walls
        present = [w for w in walls if w in found.boundaries]
        missing = sorted(set(walls) - found.boundaries)
        if (self.walls is not None and missing) or (charged and not present):
            raise StudyInputError(
                f"charged wall(s) {missing} are not boundaries of the mesh file "
                f"{str(self.mesh_file)!r}; its {self.dim - 1}D groups: {sorted(found.boundaries)}",
                "walls",
            )

    # -- solving ---------------------------------------------------------------------------------
    def build_mesh(self, point: StudyPoint, comm: Any) -> Any:
        """The channel mesh of the point's geometry (collective on ``comm``)."""
        from meshes.channel import build_channel

        if self.geometry_kind == MESH_FILE_KIND:
            from meshes.io import load_msh
            from pnp.studies.meshfile import REQUIRED_BOUNDARIES

            return load_msh(self.mesh_file, comm, self.dim, required_boundaries=REQUIRED_BOUNDARIES)
        geometry = make_geometry(self.geometry_kind, self.geometry_params(point), self.dim)
        return build_channel(geometry, dim=self.dim, comm=comm)

    def problem(self, cmesh: Any, point: StudyPoint) -> Any:
        """The :class:`pnp.problems.transport.PNPProblem` of a point on ``cmesh``."""
        from pnp.problems.transport import channel_problem

        cond = self.conditions(point)
        top = salt_of(self.salt, cond[CONCENTRATION_TOP], CONCENTRATION_TOP)
        bottom = salt_of(self.salt, cond[CONCENTRATION_BOTTOM], CONCENTRATION_BOTTOM)
        return channel_problem(
            cmesh,
            top,
            voltage=cond[VOLTAGE],
            surface_charge=cond[SURFACE_CHARGE],
            temperature=cond[TEMPERATURE],
            bath_bottom=None if bottom == top else bottom,
            permittivity=self._permittivity(cmesh, cond[TEMPERATURE]),
            walls=CHARGEABLE_WALLS if self.walls is None else self.walls,
            diffusion=self._diffusion(top, cond[TEMPERATURE]),
            ion_model=self.ion_model,
            ion_size=self.ion_size_nm,
            correlation_length=self.correlation_length_nm,
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

        if self.flow:
            from pnp.problems.flow import FlowProblem
            from pnp.solvers.flow_segregated import SegregatedPNPStokesSolver

            problem, options = self.problem(mesh, point), self.solver_options()
            return SegregatedPNPStokesSolver(mesh, problem, FlowProblem(), options)
        return SteadyPNPSolver(mesh, self.problem(mesh, point), self.solver_options())

    def solve(self, solver: Any, point: StudyPoint, warm: Any | None) -> PointResult:
        """Solve one point (warm-started from ``warm``, a PNPSolution of the same solver)."""
        cond = self.conditions(point)
        species = solver.problem.species_names
        top = salt_of(self.salt, cond[CONCENTRATION_TOP], CONCENTRATION_TOP)
        bottom = salt_of(self.salt, cond[CONCENTRATION_BOTTOM], CONCENTRATION_BOTTOM)
        if warm is not None:
            solver.set_state(warm)
        flow = {PRESSURE_AXIS: cond[PRESSURE_AXIS]} if self.flow else {}
        sol = solver.solve(
            cond[VOLTAGE],
            bath_top=[top.concentration(n) for n in species],
            bath_bottom=[bottom.concentration(n) for n in species],
            warm=warm is not None,
            **flow,
        )
        if self.flow:  # the PNP part is the state (fields, profiles, warm starts)
            from pnp.results.flow import flow_columns

            return PointResult({**self.observables(sol.pnp), **flow_columns(sol)}, sol.pnp)
        return PointResult(self.observables(sol), sol)

    def observables(self, sol: Any) -> dict[str, Any]:
        """The table columns of a :class:`pnp.results.pnp_solution.PNPSolution`."""
        row: dict[str, Any] = {
            "current_pA": sol.current,
            "conductance_pS": sol.conductance if sol.voltage != 0.0 else None,
            "current_top_pA": sol.current_top,
            "current_bottom_pA": sol.current_bottom,
            "conservation_error": sol.conservation_error,  # NaN (empty) at the noise level
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
        """Potential [mV] on the whole mesh and concentrations [mM] on the water sub-mesh, for
        ParaView and as ``<id>.h5`` for Python (:func:`pnp.studies.fields.write_point_fields`);
        returns the potential's ParaView path."""
        from pnp.studies.fields import write_point_fields

        return write_point_fields(state, path)

    def axial_profile(self, state: Any) -> dict[str, Any]:
        """Cross-section averages along the axis (:func:`pnp.results.currents.axial_profiles`),
        named with their units: ``z_nm``, ``area_nm2``, ``potential_mV``, ``current_pA`` and
        ``<species>_mM``."""
        from pnp.results.currents import axial_profiles

        units = {"z": "z_nm", "area": "area_nm2", "potential": "potential_mV",
                 "current": "current_pA"}  # fmt: skip
        prof = axial_profiles(state, self.profile_points)
        return {units.get(k, f"{k}_mM"): v for k, v in prof.items()}

