"""The 1D chain compared with PNP on the same channel.

:func:`compare_with_pnp` solves PNP on the channel geometry (without and with the PMF as
``mu_ex``, :func:`pnp.hierarchy.pmf_coupling.mu_ex_from_pmf`) and puts its currents, conductance
and axial profiles next to the 1D chain's (:class:`stochastic.chain.HierarchyChain`), with the
diagnostics' verdict (:func:`pnp.diagnostics.diagnose`) on each PNP solution;
:class:`~pnp.hierarchy.comparison_result.ChainPNPComparison` holds the result and
:func:`~pnp.hierarchy.comparison_result.plot_comparison` draws it.

Sign conventions (the two levels differ)
----------------------------------------
The 1D chain's voltage is ``phi(low z) - phi(high z)`` and its current is positive towards +z;
PNP's voltage is ``phi_top - phi_bottom`` (top = high z) and its current is positive from top to
bottom. :func:`compare_with_pnp` reports everything in the PNP convention: at PNP voltage V the
chain is evaluated at ``-V`` and its current negated, with the chain's left bath = the bottom bath
(:func:`chain_iv_pnp`; use it for any chain table printed next to a comparison).

Expected differences
--------------------
- Access resistance: the 1D chain ends at its profile ends with bath concentrations there; PNP
  includes the convergence of the field lines into the pore. For an Ohmic cylindrical pore of
  radius a the ratio is ``G_PNP/G_1D = 1 / (1 + G_1D R_acc)`` with Hall's access resistance
  ``R_acc = 1/(2 kappa a)`` (J. E. Hall, J. Gen. Physiol. 66, 531 (1975)); the table reports
  ``G_1D`` in series with it (``chain+access``).
- Electroneutrality: a PMF acting on one species only is screened in PNP (Donnan: for a uniform
  cation-only well W in a wide pore ``c+ = c- = c0 e^{-W/2}``), while the 1D chain, with no
  Poisson equation, gives ``c+ = c0 e^{-W}``. Both are right for their model; which one applies
  depends on whether the PMF already includes the counter-ions' response (an MD PMF with
  explicit salt does).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from pnp.hierarchy.comparison_result import ChainPNPComparison
from pnp.hierarchy.pmf_coupling import mu_ex_from_pmf
from poreflux.errors import InputError

logger = logging.getLogger(__name__)

__all__ = ["chain_iv_pnp", "compare_with_pnp"]


def _flat_profile(
    name: str,
    valence: int,
    z: np.ndarray,
    d: float,
    temperature: float,
    confinement: np.ndarray | None = None,
) -> Any:
    """A species without particle data: W = 0, or the confinement entropy ``-ln(A/A_ref)``."""
    from stochastic.chain import TransportProfile

    w = 0.0 if confinement is None else confinement
    return TransportProfile.from_arrays(
        name, valence, z, w, d, temperature=temperature, kind="linear"
    )


# ----------------------------------------------------------------------------- conventions
def _negated(u: Any) -> Any:
    """An :class:`~stochastic.chain.Uncertain` of ``-x`` (the interval's ends swap)."""
    from stochastic.chain import Uncertain

    return Uncertain(-u.value, -u.mean, u.std, -u.high, -u.low, -u.samples, u.level)


def chain_iv_pnp(
    chain: Any,
    voltages: Sequence[float],
    c_top_mM: Mapping[str, float],
    c_bottom_mM: Mapping[str, float],
    *,
    n_boot: int = 200,
    seed: int | None = 0,
) -> Any:
    """The 1D chain's I-V curve in the PNP conventions.

    The chain's own convention is ``V = phi(low z) - phi(high z)`` (left bath = low z) with the
    current positive towards +z; PNP's is ``V = phi_top - phi_bottom`` (top = high z) with the
    current positive from top to bottom. So the chain is evaluated at ``-V`` with its left bath
    the bottom bath, and every current (central value, mean, samples; the percentile interval's
    ends swap) is negated; the bootstrap standard deviation is unchanged.

    Parameters
    ----------
    chain
        A :class:`stochastic.chain.HierarchyChain`.
    voltages
        PNP voltages ``phi_top - phi_bottom`` [mV].
    c_top_mM, c_bottom_mM
        Species -> concentration [mM] in the top (high z) and bottom (low z) baths.
    n_boot, seed
        Bootstrap of :meth:`stochastic.chain.HierarchyChain.iv_curve` (0: none).

    Returns
    -------
    stochastic.chain.ChainIV
        Voltages as given (PNP convention) and currents [pA] positive top -> bottom.
    """
    from stochastic.chain import ChainIV

    v = np.asarray(voltages, dtype=float).ravel()
    iv = chain.iv_curve(-v, c_bottom_mM, c_top_mM, n_boot=n_boot, seed=seed)
    species = {name: _negated(u) for name, u in iv.species.items()}
    return ChainIV(v, species, _negated(iv.total))


# ----------------------------------------------------------------------------- comparison steps
def _check_inputs(
    chain: Any, geometry: Any, electrolyte: Any, voltages: Sequence[float], missing: str
) -> np.ndarray:
    """Validate the arguments of :func:`compare_with_pnp`; return the voltages as an array."""
    from meshes.channel import ChannelGeometry
    from poreflux.species import Electrolyte
    from stochastic.chain import HierarchyChain

    if not isinstance(chain, HierarchyChain):
        raise InputError(f"chain must be a stochastic.chain.HierarchyChain, got {type(chain)!r}")
    if not isinstance(geometry, ChannelGeometry):
        raise InputError("geometry must be a meshes.channel.ChannelGeometry (cylindrical_pore..)")
    if not isinstance(electrolyte, Electrolyte):
        raise InputError(
            "electrolyte must be a poreflux.species.Electrolyte, e.g. salt('KCl', 150)"
        )
    if missing not in ("flat", "ignore"):
        raise InputError(f"missing must be 'flat' or 'ignore', got {missing!r}")
    v = np.asarray(voltages, dtype=float).ravel()
    if v.size == 0 or not np.all(np.isfinite(v)):
        raise InputError("voltages must be a non-empty list of finite values [mV]")
    return v


def _problem_options(
    problem_options: Mapping[str, Any] | None, temperature: float
) -> dict[str, Any]:
    """``channel_problem`` keyword arguments with the chain's temperature (clashes raise)."""
    popts = dict(problem_options or {})
    if "temperature" in popts and abs(float(popts["temperature"]) - temperature) > 1e-9:
        raise InputError(
            f"temperature mismatch: problem_options has {popts['temperature']} K, the chain's "
            f"PMFs are at {temperature} K"
        )
    popts["temperature"] = temperature
    clash = sorted({"mu_ex", "bath_bottom", "voltage"} & set(popts))
    if clash:
        raise InputError(
            f"problem_options must not set {clash}: compare_with_pnp sets mu_ex from the chain, "
            "the voltages from voltages= and the bottom bath from bath_bottom="
        )
    return popts


def _chain_range(chain: Any, geometry: Any, z_offset: float) -> tuple[float, float]:
    """The chain's z range on the mesh axis [nm]; it must lie inside the mesh domain."""
    z_lo = min(float(p.z[0]) for p in chain.profiles) + z_offset
    z_hi = max(float(p.z[-1]) for p in chain.profiles) + z_offset
    if z_lo <= geometry.z_min or z_hi >= geometry.z_max:
        raise InputError(
            f"the chain's range [{z_lo:g}, {z_hi:g}] nm (with z_offset) is not inside the mesh "
            f"domain ({geometry.z_min:g}, {geometry.z_max:g}) nm; trim the profiles or enlarge "
            "the baths"
        )
    return z_lo, z_hi


def _shared_species(chain: Any, names: Sequence[str]) -> tuple[str, ...]:
    """Chain species that are in the PNP baths (others are left out, with a log line)."""
    chain_species = tuple(n for n in chain.names if n in names)
    left_out = [n for n in chain.names if n not in names]
    if left_out:
        logger.info("chain species %s are not in the baths: left out", left_out)
    if not chain_species:
        raise InputError(
            f"no chain species ({list(chain.names)}) is in the electrolyte ({list(names)})"
        )
    return chain_species


def _confinement_area(pmf_options: Mapping[str, Any] | None) -> tuple[Any, float | None]:
    """``(A(z), A_ref)`` when ``pmf_options`` give both, else ``(None, None)``."""
    popts = dict(pmf_options or {})
    area_of, area_ref = popts.get("confinement_area"), popts.get("reference_area_nm2")
    if area_of is None or area_ref is None:
        return None, None
    return area_of, float(area_ref)


def _pnp_species_chain(
    chain: Any, base: Any, chain_species: tuple[str, ...], missing: str, area: tuple[Any, Any]
) -> Any:
    """The chain restricted to the PNP species, flat profiles added for the others (``"flat"``)."""
    from stochastic.chain import HierarchyChain

    profiles = [chain.get(n) for n in chain_species]
    grid = chain.get(chain_species[0]).z
    diff = dict(zip(base.species_names, base.diffusivities, strict=True))
    area_of, area_ref = area
    confinement = None
    if area_of is not None:  # the PMFs carry -ln(A/A_ref): so must these
        confinement = -np.log(np.asarray(area_of(grid), dtype=float) / area_ref)
    for sp in base.species:
        if sp.name not in chain_species and missing == "flat":
            profiles.append(
                _flat_profile(
                    sp.name, sp.valence, grid, diff[sp.name], chain.temperature, confinement
                )
            )
    return HierarchyChain(tuple(profiles), chain.area_nm2, chain.drop)


def _chain_currents(
    iv: Any, names: Sequence[str], n_voltages: int, n_boot: int
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Currents [pA] of every PNP species (0 for those not in the chain) and their std."""
    cur = {n: np.asarray(u.value) for n, u in iv.species.items()}
    cur["total"] = np.asarray(iv.total.value)
    for n in names:
        cur.setdefault(n, np.zeros(n_voltages))
    std: dict[str, np.ndarray] = {}
    if n_boot:
        std = {n: np.asarray(u.std) for n, u in iv.species.items()}
        std["total"] = np.asarray(iv.total.std)
    return cur, std


def _pnp_problems(
    cm: Any,
    base: Any,
    chain: Any,
    chain_species: tuple[str, ...],
    electrolyte: Any,
    options: Mapping[str, Any],
) -> dict[str, Any]:
    """``{"pnp": base}`` and, with ``with_pmf``, ``"pnp+pmf"`` with the chain's W as ``mu_ex``."""
    from pnp.problems.transport import channel_problem

    problems = {"pnp": base}
    if options["with_pmf"]:
        geometry = options["geometry"]
        mopts = {
            "dim": options["dim"],
            "z_offset": options["z_offset"],
            "domain": (geometry.z_min, geometry.z_max),
        }
        mopts.update(options["pmf_options"] or {})
        mu = {n: mu_ex_from_pmf(chain.get(n), **mopts) for n in chain_species}
        problems["pnp+pmf"] = channel_problem(
            cm, electrolyte, bath_bottom=options["bath_bottom"], mu_ex=mu, **options["popts"]
        )
    return problems


def _solve_pnp(
    cm: Any,
    problems: Mapping[str, Any],
    v: np.ndarray,
    pv: float,
    zs: np.ndarray,
    solver_options: Any,
    diagnose_options: Mapping[str, Any],
) -> tuple[dict[str, dict[str, np.ndarray]], dict[str, dict[str, np.ndarray]], dict[str, Any]]:
    """Currents, axial profiles at ``pv`` and diagnostics reports of every PNP problem."""
    from pnp.diagnostics import diagnose
    from pnp.results import currents as pc
    from pnp.solvers.steady import SteadyPNPSolver

    cur_out: dict[str, dict[str, np.ndarray]] = {}
    prof_out: dict[str, dict[str, np.ndarray]] = {}
    reports: dict[str, Any] = {}
    for label, problem in problems.items():
        names = problem.species_names
        solver = SteadyPNPSolver(cm, problem, solver_options)
        try:
            curve = pc.iv_curve(solver, v)
            cur = {n: np.asarray(curve.species_currents[n]) for n in names}
            cur["total"] = np.asarray(curve.currents)
            cur_out[label] = cur
            sol = curve.solutions[int(np.argmin(np.abs(v - pv)))]
            ax = pc.axial_profiles(sol, zs)
            prof_out[label] = {"z": ax["z"], **{n: ax[n] for n in names}}
            reports[label] = diagnose(sol, cmesh=cm, **diagnose_options)
        finally:
            solver.close()
    return cur_out, prof_out, reports


def _chain_density(
    sub: Any,
    zs: np.ndarray,
    z_offset: float,
    baths: tuple[Mapping[str, float], Mapping[str, float]],
    pv: float,
    area: tuple[Any, Any],
) -> dict[str, np.ndarray]:
    """The chain's steady axial density [mM] at PNP voltage ``pv`` on the mesh positions ``zs``.

    :func:`stochastic.smoluchowski.steady_density` is the linear density over the PMF's
    reference area A_ref; when the PMF carries the confinement entropy (``area`` gives A(z)), the
    concentration in the open cross-section, which is what PNP's cross-section average
    measures, is ``c A_ref / A(z)``. ``baths`` are the chain's (left = bottom, right = top).
    """
    from stochastic.smoluchowski import steady_density

    c_left, c_right = baths
    area_of, area_ref = area
    out: dict[str, np.ndarray] = {"z": zs}
    for tp in sub.profiles:
        z_own = np.clip(zs - z_offset, tp.z[0], tp.z[-1])
        _, c, _ = steady_density(
            tp.profile(),
            c_left[tp.name],
            c_right[tp.name],
            z_own,
            valence=tp.valence,
            voltage_mV=-pv,
            drop=sub.drop,
        )
        if area_of is not None:
            c = c * area_ref / np.asarray(area_of(zs - z_offset), dtype=float)
        out[tp.name] = c
    return out


def _conductances(
    v: np.ndarray, currents: Mapping[str, Mapping[str, np.ndarray]], access_pS: float
) -> dict[str, np.ndarray]:
    """``I/V`` [pS] of every model (NaN at 0 mV) and the chain in series with the access."""
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = {m: np.where(v != 0, 1e3 * c["total"] / v, np.nan) for m, c in currents.items()}
        g = cond["chain"]
        cond["chain+access"] = 1.0 / (1.0 / g + 1.0 / access_pS)
    return cond


def _profile_voltage(v: np.ndarray, profile_voltage: float | None) -> float:
    pv = float(v[np.argmin(np.abs(v))]) if profile_voltage is None else float(profile_voltage)
    if not np.any(np.isclose(v, pv)):
        raise InputError(f"profile_voltage {pv:g} mV is not one of the voltages {v.tolist()}")
    return pv


def _diagnose_options(
    diagnose_options: Mapping[str, Any] | None, chain: Any, species: str
) -> dict[str, Any]:
    """Keyword arguments of ``diagnose``; the hopping time defaults to the chain's MFPT."""
    from stochastic.smoluchowski import hopping_time_ns

    dopts = dict(diagnose_options or {})
    if "hopping_time" not in dopts:  # the diagnostics take numbers: the MFPT across the PMF
        dopts["hopping_time"] = hopping_time_ns(chain.get(species).profile())
    return dopts


def compare_with_pnp(
    chain: Any,
    geometry: Any,
    electrolyte: Any,
    voltages: Sequence[float],
    *,
    with_pmf: bool = True,
    bath_bottom: Any = None,
    dim: int = 2,
    cmesh: Any = None,
    z_offset: float = 0.0,
    missing: str = "flat",
    pmf_options: Mapping[str, Any] | None = None,
    solver_options: Any = None,
    problem_options: Mapping[str, Any] | None = None,
    profile_voltage: float | None = None,
    profile_points: int = 41,
    diagnose_options: Mapping[str, Any] | None = None,
    n_boot: int = 0,
    seed: int | None = 0,
) -> ChainPNPComparison:
    """Solve PNP on ``geometry`` and compare it with the 1D ``chain``. Collective (MPI).

    Parameters
    ----------
    chain
        A :class:`stochastic.chain.HierarchyChain`; its profiles' z (+ ``z_offset``) is the
        mesh axis. Chain species absent from the baths are left out.
    geometry
        A :class:`meshes.channel.ChannelGeometry` (e.g. ``cylindrical_pore``).
    electrolyte, bath_bottom
        Top bath (and bottom bath, default the same) :class:`poreflux.species.Electrolyte`.
    voltages
        PNP voltages ``phi_top - phi_bottom`` [mV].
    with_pmf
        Also solve PNP with every chain species' W as ``mu_ex`` (:func:`mu_ex_from_pmf`).
    dim
        Mesh dimension (2 axisymmetric, 3).
    cmesh
        A mesh of ``geometry`` already built (default: built here); its dimension overrides
        ``dim``.
    z_offset
        Mesh z = chain z + ``z_offset`` [nm].
    missing
        Electrolyte species without a chain profile: ``"flat"`` gives them W = 0 (or, when
        ``pmf_options`` give ``confinement_area`` and ``reference_area_nm2``, the confinement
        entropy ``-ln(A(z)/A_ref)`` alone: the exact PMF of a point ion that feels only the
        walls, in the same gauge as the particle PMFs) and their PNP diffusion coefficient on the
        first chain profile's grid; ``"ignore"`` leaves them out of the chain (no current).
    pmf_options
        Keyword arguments of :func:`mu_ex_from_pmf` (``taper_nm``, ``reference``,
        ``confinement_area``...).
    solver_options
        :class:`pnp.solvers.steady.SolverOptions` of both PNP solvers.
    problem_options
        Extra keyword arguments of :func:`pnp.problems.transport.channel_problem`
        (``surface_charge``, ``permittivity``, ``diffusion``...); the temperature is the
        chain's.
    profile_voltage
        Voltage of the axial profiles and diagnostics (default: the one nearest 0).
    profile_points
        Cross-sections of the axial profiles across the chain's range.
    diagnose_options
        Extra keyword arguments of :func:`pnp.diagnostics.diagnose` (e.g. ``memory_time``);
        unless given, ``hopping_time`` is the MFPT across the first chain species' central
        profile (:func:`stochastic.smoluchowski.hopping_time_ns`).
    n_boot, seed
        Bootstrap of the chain currents (0: none), by :func:`chain_iv_pnp`.
    """
    from meshes.channel import build_channel
    from pnp.problems.transport import channel_problem

    v = _check_inputs(chain, geometry, electrolyte, voltages, missing)
    popts = _problem_options(problem_options, chain.temperature)
    z_lo, z_hi = _chain_range(chain, geometry, z_offset)
    cm = build_channel(geometry, dim=dim) if cmesh is None else cmesh
    if cmesh is not None:
        dim = int(cm.mesh.geometry.dim)  # the pore axis is the last coordinate of the mesh
    base = channel_problem(cm, electrolyte, bath_bottom=bath_bottom, **popts)
    chain_species = _shared_species(chain, base.species_names)
    area = _confinement_area(pmf_options)
    side = _chain_side(chain, base, chain_species, missing, area, v, (n_boot, seed))
    options = {"with_pmf": with_pmf, "geometry": geometry, "dim": dim, "z_offset": z_offset,
               "pmf_options": pmf_options, "bath_bottom": bath_bottom, "popts": popts}  # fmt: skip
    problems = _pnp_problems(cm, base, chain, chain_species, electrolyte, options)
    pv = _profile_voltage(v, profile_voltage)
    inset = 1e-3 * (z_hi - z_lo)
    zs = np.linspace(z_lo + inset, z_hi - inset, int(profile_points))
    dopts = _diagnose_options(diagnose_options, chain, chain_species[0])
    pnp_cur, pnp_prof, reports = _solve_pnp(cm, problems, v, pv, zs, solver_options, dopts)
    chain_prof = _chain_density(side.sub, zs, z_offset, (side.c_bottom, side.c_top), pv, area)
    return _assemble(
        v, cm, base, chain, side, {"currents": pnp_cur, "profiles": pnp_prof}, pv, chain_prof,
        reports, chain_species,
    )  # fmt: skip


@dataclass(frozen=True)
class _ChainSide:
    """The chain restricted to the PNP species, its baths and currents (PNP conventions)."""

    sub: Any
    c_top: dict[str, float]
    c_bottom: dict[str, float]
    currents: dict[str, np.ndarray]
    std: dict[str, np.ndarray]


def _chain_side(
    chain: Any,
    base: Any,
    chain_species: tuple[str, ...],
    missing: str,
    area: tuple[Any, Any],
    v: np.ndarray,
    bootstrap: tuple[int, int | None],
) -> _ChainSide:
    """The 1D chain on the PNP species and baths; its I-V by :func:`chain_iv_pnp`."""
    n_boot, seed = bootstrap
    names = base.species_names
    sub = _pnp_species_chain(chain, base, chain_species, missing, area)
    top = dict(zip(names, base.bath_concentrations("top"), strict=True))
    bottom = dict(zip(names, base.bath_concentrations("bottom"), strict=True))
    c_top, c_bottom = {n: top[n] for n in sub.names}, {n: bottom[n] for n in sub.names}
    iv = chain_iv_pnp(sub, v, c_top, c_bottom, n_boot=n_boot, seed=seed)
    cur, std = _chain_currents(iv, names, v.size, n_boot)
    return _ChainSide(sub, c_top, c_bottom, cur, std)


def _assemble(
    v: np.ndarray,
    cm: Any,
    base: Any,
    chain: Any,
    side: _ChainSide,
    pnp: Mapping[str, dict[str, dict[str, np.ndarray]]],
    pv: float,
    chain_prof: dict[str, np.ndarray],
    reports: dict[str, Any],
    chain_species: tuple[str, ...],
) -> ChainPNPComparison:
    """The comparison record, with conductances and Hall's access conductance."""
    from pnp.problems.transport import conductivity_S_per_m
    from pnp.results import currents as pc

    kappa = conductivity_S_per_m(base, "top")
    a_eff = math.sqrt(chain.area_nm2 / math.pi)
    access_pS = 2.0 * kappa * a_eff * 1e-9 * 1e12
    currents = {"chain": side.currents, **pnp["currents"]}
    return ChainPNPComparison(
        voltages=v,
        species=tuple(base.species_names),
        currents=currents,
        chain_std=side.std,
        conductance=_conductances(v, currents, access_pS),
        access_pS=float(access_pS),
        ohmic_pS=float(pc.ohmic_conductance(cm, base)),
        profile_voltage=pv,
        profiles={"chain": chain_prof, **pnp["profiles"]},
        verdicts={k: r.worst.label for k, r in reports.items()},
        reports=reports,
        chain_species=chain_species,
    )
