"""Multi-ion Brownian dynamics and PNP on the same channel: :func:`compare_bd_with_pnp`.

When the diagnostics say mean field fails ("use Brownian dynamics"), this runs that level on the
same gmsh mesh and permittivity map and sets the two side by side:

1. the channel's mesh (built here unless given) and its BD twin (:func:`bd_geometry`: same
   membrane, pore wall and baths, so the BD box is the finite-element domain);
2. the static potential of the fixed charges and of a unit applied voltage from two Poisson
   solves without mobile ions; the potential at voltage ``V`` is their superposition (the
   Poisson problem is linear), exported to the BD ``(r, z)`` grid
   (:func:`~pnp.hierarchy.bd_fields.static_potential_grid`);
3. the dielectric self-energy of a unit charge from test-charge solves along the axis
   (:func:`~pnp.hierarchy.bd_fields.self_energy_grid`, radially uniform: see that module);
4. GCMC/BD at every voltage (:func:`stochastic.bd.run_replicas`; replicas allowed), the
   grand-canonical buffers holding the bath concentrations next to the Dirichlet ends;
5. steady PNP on the same mesh (:func:`pnp.results.currents.iv_curve`) and the diagnostics'
   verdict on each solution;
6. optionally the BD electrolyte's own bulk conductivity relative to Nernst-Einstein
   (:func:`stochastic.bd.bulk.bulk_conductivity_ratio`), the correction a continuum reference
   needs before a 5 % comparison (the relaxation effect lowers it by ~5 % already at 0.1 M).

Conventions: PNP's (``V = phi_top - phi_bottom``, current positive top -> bottom). BD's voltage
is left (low z) minus right, its current positive towards +z, so BD runs at ``-V`` and its
current is negated.

What differs by construction: BD ions have radii (the centres stay ``a`` away from the wall,
PNP's point ions fill the pore to ``R``), interact individually (correlations, the relaxation
of the ion atmospheres) and feel the self-energy; ion-ion forces in BD use the water
permittivity everywhere (no images of one ion acting on another).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pnp.hierarchy.bd_fields import bd_geometry, self_energy_grid, static_potential_grid
from pnp.hierarchy.bd_result import BDPNPComparison
from poreflux.errors import InputError

__all__ = ["BDRunSettings", "compare_bd_with_pnp"]


@dataclass(frozen=True)
class BDRunSettings:
    """How the BD side of :func:`compare_bd_with_pnp` is run.

    Parameters
    ----------
    time_ns, equilibration_ns, block_ns
        Production time per replica, equilibration (buffer calibration) and block length [ns].
    replicas, processes
        Independent replicas per voltage, and worker processes (``run_replicas``).
    seed
        Seed of the first voltage (voltage k uses ``seed + k``).
    dt
        Time step [ns].
    bath_radius, bath_length, buffer_length
        BD baths (default: the mesh's; see :func:`bd_geometry`).
    bulk_time_ns
        Production time of the bulk-conductivity run (0: not measured, ratio 1).
    grid_spacing
        Node spacing of the exported grids [nm].
    self_energy_points
        Test-charge positions along the axis (0: no self-energy).
    options
        Further keywords of :class:`stochastic.bd.BDSimulation` (``gcmc_every``,
        ``gcmc_attempts``, ``exchange``...).
    """

    time_ns: float = 10.0
    equilibration_ns: float = 1.0
    block_ns: float = 0.5
    replicas: int = 1
    processes: int | None = 1
    seed: int = 0
    dt: float = 1e-4
    bath_radius: float | None = None
    bath_length: float | None = None
    buffer_length: float | None = None
    bulk_time_ns: float = 0.0
    grid_spacing: float = 0.05
    self_energy_points: int = 41
    options: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        for name in ("time_ns", "block_ns", "dt", "grid_spacing"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and np.isfinite(v) and v > 0):
                raise InputError(f"BDRunSettings.{name} must be a finite number > 0, got {v!r}")
        for name in ("equilibration_ns", "bulk_time_ns"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and np.isfinite(v) and v >= 0):
                raise InputError(f"BDRunSettings.{name} must be a finite number >= 0, got {v!r}")
        if int(self.replicas) != self.replicas or self.replicas < 1:
            raise InputError(f"BDRunSettings.replicas must be an integer >= 1, got {self.replicas}")
        n = self.self_energy_points
        if int(n) != n or (n != 0 and n < 4):
            raise InputError("BDRunSettings.self_energy_points must be 0 (none) or >= 4")

    def simulate_kw(self) -> dict[str, Any]:
        """Keywords of :func:`stochastic.bd.simulate`."""
        return {"equilibration_ns": self.equilibration_ns, "block_ns": self.block_ns,
                "progress": False, **dict(self.options or {})}  # fmt: skip


def _check(geometry: Any, electrolyte: Any, voltages: Sequence[float]) -> np.ndarray:
    from meshes.channel import ChannelGeometry
    from poreflux.species import Electrolyte

    if not isinstance(geometry, ChannelGeometry):
        raise InputError("geometry must be a meshes.channel.ChannelGeometry (cylindrical_pore..)")
    if not isinstance(electrolyte, Electrolyte):
        raise InputError(
            "electrolyte must be a poreflux.species.Electrolyte, e.g. salt('KCl', 100)"
        )
    v = np.asarray(voltages, dtype=float).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)) or np.any(v == 0):
        raise InputError(
            f"voltages must be finite and non-zero [mV] (a current ratio needs a current), got "
            f"{list(voltages)}"
        )
    return v


def _bd_fields(
    cm: Any, bdg: Any, physics: Mapping[str, Any], settings: BDRunSettings
) -> tuple[Any, Any, Any]:
    """Static potential of the fixed charges (V = 0), of 1 mV applied, and the self-energy."""
    kw = {"temperature": physics["temperature"], "permittivity": physics["permittivity"],
          "spacing": settings.grid_spacing}  # fmt: skip
    fixed = static_potential_grid(cm, bdg, 0.0, surface_charge=physics["surface_charge"],
                                  walls=physics["walls"], **kw)  # fmt: skip
    unit = static_potential_grid(cm, bdg, 1.0, **kw)
    self_e = None
    if settings.self_energy_points:
        self_e = self_energy_grid(
            cm, bdg, temperature=physics["temperature"], permittivity=physics["permittivity"],
            n_axis=settings.self_energy_points, spacing=settings.grid_spacing,
        )  # fmt: skip
    return fixed, unit, self_e


def _run_bd(
    bdg: Any,
    electrolyte: Any,
    v: np.ndarray,
    fields: tuple[Any, Any, Any],
    physics: Mapping[str, Any],
    settings: BDRunSettings,
) -> list[Any]:
    """BD at every PNP voltage (BD voltage ``-V``; potential ``fixed + V * unit``)."""
    from stochastic.bd import BDSystem, ExternalField, GridField, run_replicas

    fixed, unit, self_e = fields
    out = []
    for k, vk in enumerate(v):
        phi = GridField(fixed.axes, fixed.values + vk * unit.values, "mV")
        field = ExternalField(
            voltage_mV=-vk, potential=phi, voltage_in_potential=True, self_energy=self_e
        )
        system = BDSystem(
            bdg, electrolyte, temperature=physics["temperature"], eps_r=physics["eps_w"],
            field=field, dt=settings.dt,
        )  # fmt: skip
        out.append(
            run_replicas(
                system, settings.replicas, settings.time_ns, seed=settings.seed + k,
                processes=settings.processes, **settings.simulate_kw(),
            )
        )  # fmt: skip
    return out


def _worst_finding(report: Any) -> tuple[str, float, str]:
    """``(check, value, message)`` of the report's worst finding that ran."""
    from pnp.diagnostics.findings import Severity

    hits = report.problems(Severity.OK)
    if not hits:
        return "", float("nan"), ""
    f = hits[0]
    value = next(
        (float(x) for x in f.values.values() if isinstance(x, int | float) and not
         isinstance(x, bool)), float("nan"),
    )  # fmt: skip
    return f.check, value, f.message


def _run_pnp(
    cm: Any,
    electrolyte: Any,
    v: np.ndarray,
    physics: Mapping[str, Any],
    solver_options: Any,
    diagnose_options: Mapping[str, Any] | None,
) -> tuple[Any, list[Any]]:
    """PNP I-V on the mesh and the diagnostics' report per voltage."""
    from pnp.diagnostics import diagnose
    from pnp.problems.transport import channel_problem
    from pnp.results import currents as pc
    from pnp.solvers.steady import SteadyPNPSolver

    problem = channel_problem(
        cm, electrolyte, surface_charge=physics["surface_charge"], walls=physics["walls"],
        temperature=physics["temperature"], permittivity=physics["permittivity"],
    )  # fmt: skip
    solver = SteadyPNPSolver(cm, problem, solver_options)
    try:
        curve = pc.iv_curve(solver, v)
        reports = [diagnose(s, cmesh=cm, **dict(diagnose_options or {})) for s in curve.solutions]
    finally:
        solver.close()
    return curve, reports


def _profiles(curve: Any, bd: Sequence[Any], v: np.ndarray, names: Sequence[str]) -> dict:
    """Axial concentration profiles [mM] of BD and PNP at the largest ``|V|``."""
    from pnp.results import currents as pc

    k = int(np.argmax(np.abs(v)))
    res = bd[k]
    out_bd: dict[str, np.ndarray] = {"z": res.z}
    for s, name in enumerate(res.names):
        out_bd[name] = res.concentration_mM[s]
    z_lo, z_hi = curve.solutions[k].z_range
    ax = pc.axial_profiles(curve.solutions[k], np.linspace(z_lo + 1e-3, z_hi - 1e-3, 81))
    return {"bd": out_bd, "pnp": {"z": ax["z"], **{n: ax[n] for n in names}}}


def compare_bd_with_pnp(
    geometry: Any,
    electrolyte: Any,
    voltages: Sequence[float],
    *,
    temperature: float = 298.15,
    surface_charge: float = 0.0,
    charged_walls: Sequence[str] = ("membrane_wall", "protein_wall"),
    permittivity: Mapping[str, float] | None = None,
    settings: BDRunSettings | None = None,
    dim: int = 2,
    cmesh: Any = None,
    solver_options: Any = None,
    diagnose_options: Mapping[str, Any] | None = None,
) -> BDPNPComparison:
    """GCMC/BD and PNP on the same channel, mesh and permittivity map; one table.

    Parameters
    ----------
    geometry
        A :class:`meshes.channel.ChannelGeometry`; its baths are the BD baths unless
        ``settings`` narrows them.
    electrolyte
        Bath composition (both baths) [mM]; every species needs an ionic radius.
    voltages
        PNP voltages ``phi_top - phi_bottom`` [mV], non-zero.
    temperature
        [K].
    surface_charge
        Uniform charge density [C/m^2] on the ``charged_walls`` (fixed charge).
    charged_walls
        Boundaries that carry ``surface_charge`` (default the membrane and protein walls;
        ``("protein_wall",)`` charges only a protein lining of the pore, e.g. a binding site).
    permittivity
        Region -> relative permittivity (defaults of
        :func:`pnp.problems.transport.channel_problem`); the BD solvent permittivity is the
        pore's.
    settings
        :class:`BDRunSettings` (BD time, replicas, bulk-conductivity run, grids).
    dim, cmesh
        Mesh dimension, or a mesh of ``geometry`` already built.
    solver_options, diagnose_options
        PNP :class:`~pnp.solvers.steady.SolverOptions`; keywords of
        :func:`pnp.diagnostics.diagnose`.

    Returns
    -------
    BDPNPComparison
        Currents, ratios, verdicts, profiles; ``table()``, ``to_csv()``, ``plot()``.
    """
    from meshes.channel import build_channel
    from pnp.hierarchy.bd_fields import region_permittivity
    from poreflux.validation import check_temperature

    v = _check(geometry, electrolyte, voltages)
    if isinstance(charged_walls, str):
        charged_walls = (charged_walls,)
    settings = settings or BDRunSettings()
    cm = build_channel(geometry, dim=dim) if cmesh is None else cmesh
    perm = region_permittivity(cm, dict(permittivity or {}))
    physics = {"temperature": check_temperature(temperature), "permittivity": perm,
               "surface_charge": float(surface_charge), "walls": tuple(charged_walls),
               "eps_w": perm.get("pore", perm["bath"])}  # fmt: skip
    bdg = bd_geometry(geometry, bath_radius=settings.bath_radius, bath_length=settings.bath_length,
                      buffer_length=settings.buffer_length)  # fmt: skip
    fields = _bd_fields(cm, bdg, physics, settings)
    bd = _run_bd(bdg, electrolyte, v, fields, physics, settings)
    curve, reports = _run_pnp(cm, electrolyte, v, physics, solver_options, diagnose_options)
    bulk = (1.0, 0.0)
    if settings.bulk_time_ns > 0:
        from stochastic.bd.bulk import bulk_conductivity_ratio

        bulk = bulk_conductivity_ratio(
            electrolyte, temperature=physics["temperature"], time_ns=settings.bulk_time_ns,
            seed=settings.seed + 1000, replicas=settings.replicas, processes=settings.processes,
            **settings.simulate_kw(),
        )  # fmt: skip
    names = tuple(electrolyte.names)
    return BDPNPComparison(
        voltages=v, species=names,
        i_bd=np.array([-r.total_current_pA for r in bd]),
        i_bd_err=np.array([r.total_current_err for r in bd]),
        i_pnp=np.asarray(curve.currents, dtype=float),
        species_bd=np.array([-np.asarray(r.current_pA) for r in bd]),
        species_pnp=np.column_stack([curve.species_currents[n] for n in names]),
        bulk_ratio=float(bulk[0]), bulk_ratio_err=float(bulk[1]),
        verdicts=tuple(r.worst.label for r in reports),
        worst=tuple(_worst_finding(r) for r in reports),
        bd_results=tuple(bd), reports=tuple(reports),
        profiles=_profiles(curve, bd, v, names),
        meta={"pore_radius_min_nm": float(geometry.profile.min_radius),
              "thickness_nm": float(geometry.thickness), "electrolyte": dict(
                  zip(names, electrolyte.bulk, strict=True)), "temperature": temperature,
              "surface_charge": float(surface_charge), "charged_walls": list(charged_walls),
              "settings": settings.__dict__},
    )  # fmt: skip
