"""The 1D chain compared with PNP on the same channel (DESIGN.md section 1).

:func:`compare_with_pnp` solves PNP on the channel geometry (without and with the PMF as
``mu_ex``, :func:`pnp.hierarchy.pmf_coupling.mu_ex_from_pmf`) and puts its currents, conductance
and axial
profiles next to the 1D chain's (:class:`stochastic.chain.HierarchyChain`), with the diagnostics'
verdict (:func:`pnp.diagnostics.diagnose`) on each PNP solution; :func:`plot_comparison` draws it.

Sign conventions (the two levels differ)
----------------------------------------
The 1D chain's voltage is ``phi(low z) - phi(high z)`` and its current is positive towards +z;
PNP's voltage is ``phi_top - phi_bottom`` (top = high z) and its current is positive from top to
bottom. :func:`compare_with_pnp` reports everything in the PNP convention: at PNP voltage V the
chain is evaluated at ``-V`` and its current negated, with the chain's left bath = the bottom bath.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pnp.hierarchy.pmf_coupling import mu_ex_from_pmf
from poreflux.errors import InputError

logger = logging.getLogger(__name__)

__all__ = ["ChainPNPComparison", "compare_with_pnp", "plot_comparison"]


# ----------------------------------------------------------------------------- comparison
@dataclass(frozen=True)
class ChainPNPComparison:
    """The 1D chain next to PNP (without and with the PMF) on one channel; PNP conventions.

    Attributes
    ----------
    voltages
        PNP voltages ``phi_top - phi_bottom`` [mV].
    species
        Species in the comparison (those of the PNP problem).
    currents
        Model label -> species (and ``"total"``) -> currents [pA] at ``voltages`` (positive top ->
        bottom). Labels: ``"chain"``, ``"pnp"``, ``"pnp+pmf"`` (when solved).
    chain_std
        ``"total"`` and species -> bootstrap standard deviation of the chain currents [pA]
        (empty without bootstrap).
    conductance
        Model label -> ``I/V`` [pS] (NaN at 0 mV); also ``"chain+access"``: the chain in series
        with Hall's access resistance ``1/(2 kappa a)``, ``a = sqrt(A/pi)``.
    access_pS
        Hall access conductance ``2 kappa a`` [pS] of the top bath.
    ohmic_pS
        Conductance [pS] of the water domain as an Ohmic conductor with the top bath's
        conductivity (:func:`pnp.results.currents.ohmic_conductance`): the high-salt limit of
        ``"pnp"``.
    profile_voltage
        Voltage [mV] of the axial profiles.
    profiles
        Model label -> ``{"z": ..., <species>: c [mM]}`` along the mesh axis: PNP cross-section
        averages and the chain's steady density (its concentration per reference area, or, when
        ``pmf_options`` give ``confinement_area`` and ``reference_area_nm2``, per open
        cross-section ``A(z)``: the quantity PNP's cross-section average measures).
    verdicts
        PNP label -> diagnostics verdict (``"ok"``, ``"note"``, ``"warning"``, ``"breakdown"``).
    reports
        PNP label -> :class:`pnp.diagnostics.Report` at ``profile_voltage``.
    chain_species
        Species that have a chain profile from particle data (others got a flat profile or none).
    """

    voltages: np.ndarray
    species: tuple[str, ...]
    currents: dict[str, dict[str, np.ndarray]]
    chain_std: dict[str, np.ndarray]
    conductance: dict[str, np.ndarray]
    access_pS: float
    ohmic_pS: float
    profile_voltage: float
    profiles: dict[str, dict[str, np.ndarray]]
    verdicts: dict[str, str]
    reports: dict[str, Any] = field(repr=False)
    chain_species: tuple[str, ...] = ()

    @property
    def models(self) -> tuple[str, ...]:
        """Model labels with currents."""
        return tuple(self.currents)

    def rows(self) -> np.ndarray:
        """Tidy structured array: one row per (model, voltage) with total and species currents
        [pA] and conductance [pS]."""
        dtype = [
            ("model", "U16"),
            ("voltage_mV", "f8"),
            ("current_pA", "f8"),
            ("conductance_pS", "f8"),
        ] + [(f"I_{s}_pA", "f8") for s in self.species]
        rows = []
        for model, cur in self.currents.items():
            for i, v in enumerate(self.voltages):
                rows.append(
                    (
                        model,
                        v,
                        cur["total"][i],
                        self.conductance[model][i],
                        *(cur[s][i] if s in cur else np.nan for s in self.species),
                    )
                )
        return np.array(rows, dtype=dtype)

    def ratio(self, model: str, reference: str = "chain") -> np.ndarray:
        """Conductance ratio ``G_model / G_reference`` at each voltage."""
        return self.conductance[model] / self.conductance[reference]

    def table(self) -> str:
        """A printable table: currents and conductances of every model, then the verdicts."""
        models = [*self.currents, "chain+access"]
        head = f"{'V [mV]':>8} " + " ".join(f"{'I ' + m + ' [pA]':>18}" for m in self.currents)
        head += " " + " ".join(f"{'G ' + m + ' [pS]':>20}" for m in models)
        lines = [head]
        for i, v in enumerate(self.voltages):
            cells = []
            for m in self.currents:
                s = f"{self.currents[m]['total'][i]:.5g}"
                if m == "chain" and "total" in self.chain_std:
                    s += f"+-{self.chain_std['total'][i]:.2g}"
                cells.append(f"{s:>18}")
            line = f"{v:8.2f} " + " ".join(cells)
            line += " " + " ".join(f"{self.conductance[m][i]:20.5g}" for m in models)
            lines.append(line)
        lines.append(f"Hall access conductance 2 kappa a = {self.access_pS:.5g} pS")
        lines.append(f"Ohmic conductance of the water domain = {self.ohmic_pS:.5g} pS")
        for label, verdict in self.verdicts.items():
            report = self.reports.get(label)
            checks = sorted({f.check for f in report.problems()}) if report is not None else []
            why = f" ({', '.join(checks)})" if checks else ""
            lines.append(f"diagnostics ({label}, {self.profile_voltage:g} mV): {verdict}{why}")
        return "\n".join(lines)


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
        (``surface_charge``,
        ``permittivity``, ``diffusion``...); the temperature is the chain's.
    profile_voltage
        Voltage of the axial profiles and diagnostics (default: the one nearest 0).
    profile_points
        Cross-sections of the axial profiles across the chain's range.
    diagnose_options
        Extra keyword arguments of :func:`pnp.diagnostics.diagnose` (e.g. ``memory_time``);
        unless given, ``hopping_time`` is the MFPT across the first chain species' central
        profile (:func:`stochastic.smoluchowski.hopping_time_ns`).
    n_boot, seed
        Bootstrap of the chain currents (0: none).
    """
    from meshes.channel import ChannelGeometry, build_channel
    from pnp.diagnostics import diagnose
    from pnp.problems.transport import channel_problem
    from pnp.results import currents as pc
    from pnp.solvers.steady import SteadyPNPSolver, conductivity_S_per_m
    from poreflux.species import Electrolyte
    from stochastic.chain import HierarchyChain
    from stochastic.smoluchowski import hopping_time_ns, steady_density

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
    temperature = chain.temperature
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
    z_lo = min(float(p.z[0]) for p in chain.profiles) + z_offset
    z_hi = max(float(p.z[-1]) for p in chain.profiles) + z_offset
    if z_lo <= geometry.z_min or z_hi >= geometry.z_max:
        raise InputError(
            f"the chain's range [{z_lo:g}, {z_hi:g}] nm (with z_offset) is not inside the mesh "
            f"domain ({geometry.z_min:g}, {geometry.z_max:g}) nm; trim the profiles or enlarge "
            "the baths"
        )

    if cmesh is None:
        cm = build_channel(geometry, dim=dim)
    else:
        cm = cmesh
        dim = int(cm.mesh.geometry.dim)  # the pore axis is the last coordinate of the mesh
    base = channel_problem(cm, electrolyte, bath_bottom=bath_bottom, **popts)
    names = base.species_names
    chain_species = tuple(n for n in chain.names if n in names)
    left_out = [n for n in chain.names if n not in names]
    if left_out:
        logger.info("chain species %s are not in the baths: left out", left_out)
    if not chain_species:
        raise InputError(
            f"no chain species ({list(chain.names)}) is in the electrolyte ({list(names)})"
        )

    # -- the 1D chain on the PNP species -------------------------------------------------------
    profiles = [chain.get(n) for n in chain_species]
    grid = chain.get(chain_species[0]).z
    diff = dict(zip(names, base.diffusivities, strict=True))
    popts_pmf = dict(pmf_options or {})
    area_of = popts_pmf.get("confinement_area")
    area_ref = popts_pmf.get("reference_area_nm2")
    confinement = None
    if area_of is not None and area_ref is not None:  # the PMFs carry -ln(A/A_ref): so must these
        confinement = -np.log(np.asarray(area_of(grid), dtype=float) / float(area_ref))
    for sp in base.species:
        if sp.name not in chain_species and missing == "flat":
            profiles.append(
                _flat_profile(sp.name, sp.valence, grid, diff[sp.name], temperature, confinement)
            )
    sub = HierarchyChain(tuple(profiles), chain.area_nm2, chain.drop)
    top = dict(zip(names, base.bath_concentrations("top"), strict=True))
    bottom = dict(zip(names, base.bath_concentrations("bottom"), strict=True))
    c_left = {n: bottom[n] for n in sub.names}
    c_right = {n: top[n] for n in sub.names}
    iv = sub.iv_curve(-v, c_left, c_right, n_boot=n_boot, seed=seed)
    chain_cur = {n: -np.asarray(iv.species[n].value) for n in sub.names}
    chain_cur["total"] = -np.asarray(iv.total.value)
    for n in names:
        chain_cur.setdefault(n, np.zeros_like(v))
    chain_std: dict[str, np.ndarray] = {}
    if n_boot:
        chain_std = {n: np.asarray(iv.species[n].std) for n in sub.names}
        chain_std["total"] = np.asarray(iv.total.std)

    # -- PNP without and with the PMF ----------------------------------------------------------
    problems = {"pnp": base}
    if with_pmf:
        mopts = {"dim": dim, "z_offset": z_offset, "domain": (geometry.z_min, geometry.z_max)}
        mopts.update(pmf_options or {})
        mu = {n: mu_ex_from_pmf(chain.get(n), **mopts) for n in chain_species}
        problems["pnp+pmf"] = channel_problem(
            cm, electrolyte, bath_bottom=bath_bottom, mu_ex=mu, **popts
        )
    pv = float(v[np.argmin(np.abs(v))]) if profile_voltage is None else float(profile_voltage)
    if not np.any(np.isclose(v, pv)):
        raise InputError(f"profile_voltage {pv:g} mV is not one of the voltages {v.tolist()}")
    inset = 1e-3 * (z_hi - z_lo)
    zs = np.linspace(z_lo + inset, z_hi - inset, int(profile_points))
    dopts = dict(diagnose_options or {})
    if "hopping_time" not in dopts:  # the diagnostics take numbers: the MFPT across the PMF
        dopts["hopping_time"] = hopping_time_ns(chain.get(chain_species[0]).profile())
    cur_out: dict[str, dict[str, np.ndarray]] = {"chain": chain_cur}
    prof_out: dict[str, dict[str, np.ndarray]] = {}
    reports: dict[str, Any] = {}
    for label, problem in problems.items():
        solver = SteadyPNPSolver(cm, problem, solver_options)
        try:
            curve = pc.iv_curve(solver, v)
            cur = {n: np.asarray(curve.species_currents[n]) for n in names}
            cur["total"] = np.asarray(curve.currents)
            cur_out[label] = cur
            sol = curve.solutions[int(np.argmin(np.abs(v - pv)))]
            ax = pc.axial_profiles(sol, zs)
            prof_out[label] = {"z": ax["z"], **{n: ax[n] for n in names}}
            reports[label] = diagnose(sol, cmesh=cm, **dopts)
        finally:
            solver.close()

    # -- chain axial density at the profile voltage --------------------------------------------
    # steady_density is the linear density over the PMF's reference area A_ref; when the PMF
    # carries the confinement entropy (pmf_options give A(z)), the concentration in the open
    # cross-section, which is what PNP's cross-section average measures, is c A_ref / A(z)
    chain_prof: dict[str, np.ndarray] = {"z": zs}
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
        if area_of is not None and area_ref is not None:
            c = c * float(area_ref) / np.asarray(area_of(zs - z_offset), dtype=float)
        chain_prof[tp.name] = c
    prof_out = {"chain": chain_prof, **prof_out}

    # -- conductances ----------------------------------------------------------------------------
    kappa = conductivity_S_per_m(base, "top")
    a_eff = math.sqrt(chain.area_nm2 / math.pi)
    access_pS = 2.0 * kappa * a_eff * 1e-9 * 1e12
    with np.errstate(divide="ignore", invalid="ignore"):
        cond = {m: np.where(v != 0, 1e3 * c["total"] / v, np.nan) for m, c in cur_out.items()}
        g = cond["chain"]
        cond["chain+access"] = 1.0 / (1.0 / g + 1.0 / access_pS)
    return ChainPNPComparison(
        voltages=v,
        species=tuple(names),
        currents=cur_out,
        chain_std=chain_std,
        conductance=cond,
        access_pS=float(access_pS),
        ohmic_pS=float(pc.ohmic_conductance(cm, base)),
        profile_voltage=pv,
        profiles=prof_out,
        verdicts={k: r.worst.label for k, r in reports.items()},
        reports=reports,
        chain_species=chain_species,
    )


# ----------------------------------------------------------------------------- figures
def plot_comparison(
    result: ChainPNPComparison,
    folder: str | Path,
    *,
    membrane: tuple[float, float] | None = None,
    prefix: str = "chain_vs_pnp",
) -> list[Path]:
    """Write the I-V curves and the axial concentration profiles of a comparison (PNG).

    ``<prefix>_iv.png`` (total current of every model, the chain with its bootstrap std) and
    ``<prefix>_profiles.png`` (one panel per species: chain steady density, PNP, PNP + PMF, with
    the diagnostics' verdicts in the legend). Call on one MPI rank only. Returns the paths.
    """
    from pnp.results import plots

    folder = Path(folder)
    plt = plots.plt
    fig, ax = plt.subplots(figsize=(6.0, 4.5))
    ax.axhline(0.0, color="0.7", lw=0.8)
    ax.axvline(0.0, color="0.7", lw=0.8)
    for label, cur in result.currents.items():
        err = result.chain_std.get("total") if label == "chain" else None
        ax.errorbar(result.voltages, cur["total"], yerr=err, fmt="o-", capsize=3, label=label)
    ax.set_xlabel("applied voltage phi_top - phi_bottom [mV]")
    ax.set_ylabel("current [pA] (top -> bottom)")
    ax.legend(loc="best")
    ax.set_title("1D chain vs PNP: total current")
    iv_path = plots._save(fig, folder / f"{prefix}_iv.png")
    species = result.species
    fig, axes = plt.subplots(len(species), 1, sharex=True, figsize=(6.4, 2.6 * len(species) + 0.6))
    axes = np.atleast_1d(axes)
    styles = {
        "chain": {"color": "k", "ls": "--"},
        "pnp": {"color": "C0"},
        "pnp+pmf": {"color": "C3"},
    }
    for ax, name in zip(axes, species, strict=True):
        plots._shade(ax, membrane)
        for label, prof in result.profiles.items():
            if name not in prof:
                continue
            tag = label
            if label in result.verdicts:
                tag += f" (diagnostics: {result.verdicts[label]})"
            ax.plot(prof["z"], prof[name], label=tag, **styles.get(label, {}))
        ax.set_ylabel(f"c({name}) [mM]")
        ax.legend(loc="best", fontsize=8)
    axes[-1].set_xlabel("z along the pore axis [nm]")
    axes[0].set_title(f"axial profiles at {result.profile_voltage:g} mV")
    prof_path = plots._save(fig, folder / f"{prefix}_profiles.png")
    return [iv_path, prof_path]
