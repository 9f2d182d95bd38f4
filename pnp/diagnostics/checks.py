"""The problem-level checks: one function per assumption, each returning :class:`Finding` objects.

The three assumptions of mean-field PNP (finite ion size, weak correlations, Markovian friction)
are graded ok / warning / breakdown; overlapping double layers, the Debye-layer resolution of the
mesh and surface conduction are informational notes. Each check reads a
:class:`~pnp.diagnostics.inputs.DiagnosticInputs` and the :class:`Thresholds` and reports per
region, at the axial position where the region is worst.

Inside a charged pore the problem-level checks use the Donnan (mean-field) estimate of the local
concentrations (:func:`~pnp.diagnostics.quantities.donnan_concentrations_mM`), so a counter-ion
excess raises Gamma and the packing fraction before anything is solved; the solution-level
checks (:mod:`pnp.diagnostics.fields`) use the solved concentrations instead.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from pnp.diagnostics import quantities as q
from pnp.diagnostics.findings import (
    CORRELATIONS,
    DEBYE_RESOLUTION,
    DOUBLE_LAYER_OVERLAP,
    FINITE_SIZE,
    NON_MARKOVIAN,
    SURFACE_CONDUCTION,
    Finding,
    Severity,
    grade,
)
from pnp.diagnostics.inputs import DiagnosticInputs
from pnp.diagnostics.thresholds import Thresholds

logger = logging.getLogger(__name__)

__all__ = [
    "PROBLEM_CHECKS",
    "check_correlations",
    "check_finite_size",
    "check_non_markovian",
    "note_debye_resolution",
    "note_double_layer_overlap",
    "note_surface_conduction",
    "region_samples",
]


def region_samples(
    inputs: DiagnosticInputs, region: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(z [nm], R [nm], concentrations [mM] per sample x species)`` of a region.

    Without a profile: one sample at ``z = nan`` with ``R = inf`` and the bulk concentrations.
    In a region with a wall charge the concentrations are the Donnan estimate at each ``R(z)``.
    """
    bulk = np.asarray(inputs.electrolyte.bulk, dtype=float)
    if inputs.profile is None:
        return np.array([np.nan]), np.array([np.inf]), bulk[None, :]
    idx = inputs.profile.indices(region)
    z = inputs.profile.z[idx]
    radius = inputs.profile.radius[idx]
    sigma = inputs.surface_charge_of(region)
    conc = np.tile(bulk, (idx.size, 1))
    if sigma != 0.0:
        fixed = q.fixed_charge_concentration_mM(sigma, radius)
        for k in range(idx.size):
            if fixed[k] != 0.0:
                conc[k] = q.donnan_concentrations_mM(inputs.electrolyte, float(fixed[k]))
    return z, radius, conc


def _z_or_none(z: float) -> float | None:
    return None if math.isnan(z) else float(z)


def _conc_source(inputs: DiagnosticInputs, region: str) -> str:
    if inputs.profile is not None and inputs.surface_charge_of(region) != 0.0:
        return f"Donnan estimate for sigma = {inputs.surface_charge_of(region):g} C/m^2"
    return "bulk"


def check_finite_size(inputs: DiagnosticInputs, thresholds: Thresholds) -> list[Finding]:
    """Finite ion size / single file: ``R(z)`` vs each ion's diameter, and the packing fraction.

    Per region: breakdown where ``R < radius_breakdown_diameters * a`` (single file where
    ``R < a``), warning where ``R < radius_warning_diameters * a``, with ``a`` the largest diameter
    among the species; the packing fraction ``eta`` is graded against its own thresholds; the
    finding carries the worse of the two. Raises :class:`InputError` if a species has no radius.
    """
    species = inputs.electrolyte.species
    names = inputs.electrolyte.names
    radii = q.species_radii_nm(species, thresholds.radius_kind)
    diam = 2.0 * radii
    findings = []
    for region in inputs.region_names:
        z, radius, conc = region_samples(inputs, region)
        eta = q.packing_fraction(conc, radii)
        k_eta = int(np.argmax(eta))
        sev_eta = grade(float(eta[k_eta]), thresholds.packing_warning, thresholds.packing_breakdown)
        k_r = int(np.argmin(radius))
        r_min = float(radius[k_r])
        ratios = r_min / diam  # per species, in diameters
        worst = int(np.argmin(ratios))
        ratio = float(ratios[worst])
        sev_r = grade(
            ratio,
            thresholds.radius_warning_diameters,
            thresholds.radius_breakdown_diameters,
            larger_is_worse=False,
        )
        single_file = ratio < thresholds.radius_single_file_diameters
        values = {
            "R_min_nm": r_min,
            "limiting_species": names[worst],
            "diameter_nm": float(diam[worst]),
            "R_over_a": ratio,
            "single_file": bool(single_file),
            "excluded_species": [n for n, r in zip(names, radii, strict=True) if r_min < r],
            "packing_fraction": float(eta[k_eta]),
            "hard_sphere_excess_mu_kT": float(q.carnahan_starling_excess_kT(eta[k_eta])),
            "concentrations": _conc_source(inputs, region),
        }
        for n, rr in zip(names, ratios, strict=True):
            values[f"R_over_a[{n}]"] = float(rr)
        severity = max(sev_r, sev_eta)
        z_where = z[k_r] if sev_r >= sev_eta else z[k_eta]
        if sev_r > Severity.OK and z.size > 1:
            # axial extent of the samples as bad as the narrowest point (e.g. the filter length)
            limit = (
                thresholds.radius_breakdown_diameters
                if sev_r == Severity.BREAKDOWN
                else thresholds.radius_warning_diameters
            )
            bad = radius < limit * diam[worst]
            values["extent_nm"] = (float(z[bad].min()), float(z[bad].max()))
        if math.isinf(r_min):
            geom = "no wall (open bath)"
        else:
            geom = (
                f"R_min = {r_min:.3g} nm is {ratio:.3g} diameters of {names[worst]} "
                f"(a = {diam[worst]:.3g} nm)"
            )
            if single_file:
                geom += "; below one diameter: ions move in single file"
            elif sev_r == Severity.BREAKDOWN:
                geom += (
                    f"; below {thresholds.radius_breakdown_diameters:g} diameters: ions cannot pass"
                    " or screen each other"
                )
            elif sev_r == Severity.WARNING:
                geom += f"; below {thresholds.radius_warning_diameters:g} diameters"
            if "extent_nm" in values:
                lo, hi = values["extent_nm"]
                geom += f" (from z = {lo:.3g} to {hi:.3g} nm)"
            if values["excluded_species"]:
                geom += f"; {', '.join(values['excluded_species'])} cannot enter (R < ion radius)"
        message = (
            f"{geom}; packing fraction {eta[k_eta]:.3g} "
            f"(hard-sphere excess {values['hard_sphere_excess_mu_kT']:.2g} kT)"
        )
        findings.append(
            Finding(FINITE_SIZE, severity, message, region, _z_or_none(z_where), values)
        )
    return findings


def check_correlations(inputs: DiagnosticInputs, thresholds: Thresholds) -> list[Finding]:
    """Strong electrostatic correlations: ``Gamma_ij = l_B |z_i z_j| / d`` per species pair.

    Uses each region's permittivity and local concentrations (bulk, or the Donnan estimate in a
    charged pore), graded by the largest pair coupling in the region; in a region with a wall
    charge also by the counter-ions' wall coupling parameter ``Xi`` (the worse of the two).
    """
    names = inputs.electrolyte.names
    valences = inputs.electrolyte.valences
    findings = []
    for region in inputs.region_names:
        z, _, conc = region_samples(inputs, region)
        eps = inputs.eps_r(region)
        gamma, index = q.max_coupling(valences, conc, eps, inputs.temperature)
        k = int(np.argmax(gamma))
        g = float(gamma[k])
        i = int(index[k])
        l_b = float(q.bjerrum_length_field_nm(eps, inputs.temperature))
        d = float(q.mean_spacing_nm(conc[k]))
        matrix = q.coupling_matrix(valences, conc[k], eps, inputs.temperature)
        values = {
            "Gamma_max": g,
            "pair": f"{names[i]}-{names[i]}" if i >= 0 else "",
            "bjerrum_length_nm": l_b,
            "spacing_nm": d,
            "eps_r": eps,
            "concentrations": _conc_source(inputs, region),
        }
        for a in range(len(names)):
            values[f"c[{names[a]}]_mM"] = float(conc[k, a])
            for b in range(a, len(names)):
                values[f"Gamma[{names[a]}-{names[b]}]"] = float(matrix[a, b])
        severity = grade(g, thresholds.gamma_warning, thresholds.gamma_breakdown)
        message = (
            f"Gamma = l_B|z_i z_j|/d = {g:.3g} for {values['pair']} "
            f"(l_B = {l_b:.3g} nm at eps_r = {eps:g}, spacing d = {d:.3g} nm)"
        )
        sigma = inputs.surface_charge_of(region) if inputs.profile is not None else 0.0
        if sigma != 0.0:
            counter = [s for s in inputs.electrolyte.species if s.valence * sigma < 0]
            ion = max(counter, key=lambda s: abs(s.valence))
            xi = q.wall_coupling_parameter(sigma, ion.valence, eps, inputs.temperature)
            values["wall_coupling_Xi"] = xi
            values["counterion"] = ion.name
            severity = max(severity, grade(xi, thresholds.xi_warning, thresholds.xi_breakdown))
            message += f"; wall coupling Xi = 2 pi z^3 l_B^2 |sigma|/e = {xi:.3g} for {ion.name}"
        if max(abs(v) for v in valences) > 1 and severity > Severity.OK:
            message += "; multivalent ions multiply Gamma by |z_i z_j|"
        if eps < 40 and severity > Severity.OK:
            message += "; the low permittivity lengthens l_B"
        findings.append(Finding(CORRELATIONS, severity, message, region, _z_or_none(z[k]), values))
    return findings


def _hop_region(inputs: DiagnosticInputs) -> str | None:
    if inputs.hop_region is not None:
        return inputs.hop_region
    if inputs.profile is None:
        return None
    return inputs.profile.region[int(np.argmin(inputs.profile.radius))]


def check_non_markovian(inputs: DiagnosticInputs, thresholds: Thresholds) -> list[Finding]:
    """Non-Markovian friction: memory time vs hopping time.

    Skipped (and said so) when no memory time (or friction kernel) or no hopping time is given.
    """
    region = _hop_region(inputs)
    tau_mem, mem_src = inputs.resolved_memory_time()
    if tau_mem is None:
        return [
            Finding(
                NON_MARKOVIAN,
                Severity.OK,
                "skipped: no memory time given (pass memory_time= [ns] or friction_kernel=(t, K), "
                "e.g. from MD)",
                region,
                skipped=True,
            )
        ]
    tau_hop, hop_src = inputs.resolved_hopping_time()
    if tau_hop is None:
        return [
            Finding(
                NON_MARKOVIAN,
                Severity.OK,
                f"skipped: memory time {tau_mem:.3g} ns given but no hopping time "
                "(pass hopping_time= [ns], e.g. stochastic.smoluchowski.hopping_time_ns(profile))",
                region,
                values={"tau_mem_ns": tau_mem},
                skipped=True,
            )
        ]
    ratio = tau_mem / tau_hop
    severity = grade(ratio, thresholds.memory_warning, thresholds.memory_breakdown)
    message = (
        f"tau_mem/tau_hop = {ratio:.3g} (memory {tau_mem:.3g} ns from {mem_src}, "
        f"hopping {tau_hop:.3g} ns from {hop_src})"
    )
    values = {"tau_mem_ns": tau_mem, "tau_hop_ns": tau_hop, "ratio": ratio}
    return [Finding(NON_MARKOVIAN, severity, message, region, values=values)]


def _skip(check: str, why: str) -> list[Finding]:
    return [Finding(check, Severity.OK, f"skipped: {why}", skipped=True)]


def note_double_layer_overlap(inputs: DiagnosticInputs, thresholds: Thresholds) -> list[Finding]:
    """Overlapping double layers: bulk Debye length vs the narrowest radius of each region."""
    if inputs.profile is None:
        return _skip(DOUBLE_LAYER_OVERLAP, "no pore radius profile given (profile=)")
    findings = []
    for region in inputs.region_names:
        z, radius, _ = region_samples(inputs, region)
        k = int(np.argmin(radius))
        lam = q.debye_length_of_electrolyte_nm(
            inputs.electrolyte, inputs.temperature, inputs.eps_r(region)
        )
        ratio = lam / float(radius[k])
        severity = Severity.NOTE if ratio >= thresholds.debye_overlap else Severity.OK
        message = f"lambda_D/R = {ratio:.3g} (lambda_D = {lam:.3g} nm, R_min = {radius[k]:.3g} nm)"
        if severity == Severity.NOTE:
            message += ": double layers of opposite walls overlap (perm-selective pore)"
        values = {"debye_length_nm": lam, "R_min_nm": float(radius[k]), "ratio": ratio}
        findings.append(
            Finding(DOUBLE_LAYER_OVERLAP, severity, message, region, _z_or_none(z[k]), values)
        )
    return findings


def note_debye_resolution(inputs: DiagnosticInputs, thresholds: Thresholds) -> list[Finding]:
    """Mesh size vs the local Debye length (the Donnan-estimated one in charged pores)."""
    if inputs.mesh_size is None:
        return _skip(DEBYE_RESOLUTION, "no mesh size given (mesh_size= [nm])")
    findings = []
    for region in inputs.region_names:
        h = inputs.mesh_size_of(region)
        if h is None:
            continue
        z, _, conc = region_samples(inputs, region)
        lam = q.local_debye_length_nm(
            conc, inputs.electrolyte.valences, inputs.temperature, inputs.eps_r(region)
        )
        k = int(np.argmin(lam))
        ratio = h / float(lam[k])
        severity = Severity.NOTE if ratio > thresholds.mesh_debye else Severity.OK
        message = f"h/lambda_D = {ratio:.3g} (h = {h:.3g} nm, local lambda_D = {lam[k]:.3g} nm)"
        if severity == Severity.NOTE:
            message += ": the mesh does not resolve the double layer"
        values = {"mesh_size_nm": h, "debye_length_nm": float(lam[k]), "ratio": ratio}
        findings.append(
            Finding(DEBYE_RESOLUTION, severity, message, region, _z_or_none(z[k]), values)
        )
    return findings


def note_surface_conduction(inputs: DiagnosticInputs, thresholds: Thresholds) -> list[Finding]:
    """Dukhin number of each charged region at its narrowest point."""
    if inputs.surface_charge is None:
        return _skip(SURFACE_CONDUCTION, "no wall surface charge given (surface_charge= [C/m^2])")
    if inputs.profile is None:
        return _skip(SURFACE_CONDUCTION, "no pore radius profile given (profile=)")
    findings = []
    ionic = inputs.electrolyte.ionic_strength
    for region in inputs.region_names:
        sigma = inputs.surface_charge_of(region)
        if sigma == 0.0:
            continue
        z, radius, _ = region_samples(inputs, region)
        k = int(np.argmin(radius))
        if math.isinf(radius[k]):
            continue
        du = q.dukhin_number(sigma, ionic, float(radius[k]))
        severity = Severity.NOTE if du >= thresholds.dukhin_note else Severity.OK
        message = f"Dukhin number {du:.3g} (sigma = {sigma:g} C/m^2, R = {radius[k]:.3g} nm)"
        if severity == Severity.NOTE:
            message += ": surface conduction dominates"
        values = {"dukhin": du, "surface_charge_C_m2": sigma, "R_min_nm": float(radius[k])}
        findings.append(Finding(SURFACE_CONDUCTION, severity, message, region, float(z[k]), values))
    return findings


#: Check name -> function, in report order.
PROBLEM_CHECKS = {
    FINITE_SIZE: check_finite_size,
    CORRELATIONS: check_correlations,
    NON_MARKOVIAN: check_non_markovian,
    DOUBLE_LAYER_OVERLAP: note_double_layer_overlap,
    DEBYE_RESOLUTION: note_debye_resolution,
    SURFACE_CONDUCTION: note_surface_conduction,
}
