"""Thresholds of the PNP breakdown checks: documented defaults with their literature basis.

Every number here is a parameter: pass ``Thresholds(gamma_warning=0.3)`` (or
``dataclasses.replace(DEFAULT_THRESHOLDS, ...)``) to :func:`pnp.diagnostics.diagnose` to change one.

Why these defaults
------------------
Strong correlations (``gamma_warning`` 0.5, ``gamma_breakdown`` 1)
    The coupling ``Gamma_ij = l_B |z_i z_j| / d`` compares the Coulomb energy of two ions at the
    mean spacing ``d = (N_A sum_i c_i)^(-1/3)`` with kT. Mean-field (PB/PNP) theory treats each ion
    as moving in the average potential of all others, which needs that energy to be small:
    ``Gamma >= 1`` (``l_B >= d``) is the strong-coupling regime where ion-ion correlations cause
    charge inversion and like-charge attraction (Grosberg, Nguyen & Shklovskii, Rev. Mod. Phys.
    74, 329 (2002); Levin, Rep. Prog. Phys. 65, 1577 (2002)). At ``Gamma = 0.5`` the energy is
    already kT/2: 150 mM KCl in water sits at 0.40 (ok), 1 M KCl at 0.76 (warning), 0.5 M CaCl2 at
    2.8 for Ca-Ca (breakdown), in line with the known failure of PB for divalent salts at
    hundreds of mM. (With the Wigner-Seitz radius instead of ``d`` the numbers are 1.61x larger;
    the thresholds belong to the ``d`` convention used here.)
    *Calibration against GCMC/BD* (uncharged 2.9 nm pore, 0.5 M, see the finite-size
    paragraph): KCl (Gamma = 0.60, warning) gave BD/PNP = 0.874 +- 0.023, CaCl2 (Gamma = 2.77,
    breakdown) 0.686 +- 0.019; both departures are the lower bulk conductivity of interacting
    ions (relaxation effect; BD/PNP 0.99 +- 0.06 and 1.17 +- 0.07 after dividing by the BD bulk
    conductivity). The warning value is supported; for an uncharged pore's conductance 1 is a
    conservative breakdown value (31 % error at Gamma = 2.8), kept for the charged-wall
    correlation effects (charge inversion) it is meant for, which the study did not cover.

Counter-ions at a charged wall (``xi_warning`` 1, ``xi_breakdown`` 10)
    The coupling parameter ``Xi = 2 pi |z|^3 l_B^2 |sigma|/e`` of the counter-ions of a charged
    wall: PB is its ``Xi -> 0`` limit, corrections show at ``Xi ~ 1`` and counter-ions form a
    strongly correlated layer for ``Xi >~ 10`` (Moreira & Netz, PRL 87, 078301 (2001)). -0.1 C/m^2
    gives Xi = 2.0 for K+ (warning) and 16 for Ca2+ (breakdown).

Finite ion size (``radius_*_diameters``: warning 4, breakdown 2, single file 1)
    PNP treats ions as points. Where the pore radius ``R`` is below two ion diameters ``a`` an ion
    cannot pass another or be screened by a full ion atmosphere, and steric exclusion dominates;
    below ``R < a`` ions move strictly in single file. Brownian-dynamics comparisons found PNP
    fails in pores narrower than about two Debye lengths, mostly because it misses the
    dielectric self-energy of individual ions (Corry, Kuyucak & Chung, Biophys. J. 78, 2349
    (2000)), while Nernst-Planck with particle-derived diffusion coefficients and PMFs works for
    radii of 3-15 A (Song & Corry,
    PLoS ONE 6, e21204 (2011)). The 4a warning flags the
    range (for K+, a = 0.276 nm: R < 1.1 nm) where such corrections matter.

    *Calibration against GCMC/BD* (``examples/bd_thresholds.py``, ``pnp.hierarchy.
    compare_bd_with_pnp``: cylindrical pores through a 3 nm membrane of permittivity 2, 0.5 M,
    200 mV, 20 ns per point, BD with the finite-element static field and self-energy; BD/PNP
    divided by the BD bulk conductivity, measured separately; ``a`` = Cl- diameter 0.362 nm).
    KCl: BD/PNP = 0.99 +- 0.06 at 8a, 0.94 +- 0.06 at 6a, 0.92 +- 0.07 at 4a, 0.78 +- 0.07 at 3a,
    0.49 +- 0.06 at 2.5a, 0.33 +- 0.07 at 2a, 0.15 +- 0.05 at 1.5a. Read as "warning = error
    above 10 %, breakdown = error above 50 %": the 10 % crossing lies between 4a and 3a (the
    warning at 4a is supported); the 50 % crossing lies at about 2.5a, above the breakdown value
    2a, which is kept (the 2a-2.5a band is graded "warning" although PNP is already off by ~50
    % there) because the departure is dielectric: with the self-energy switched off, BD carried
    0.97 +- 0.15 of the PNP current at 1.5a (1 M KCl, one 2 ns run) and held 0.70 +- 0.08 of its
    salt, against 0.17 +- 0.07 with it. A radius threshold is a proxy for the dielectric
    exclusion of a low-permittivity membrane (Corry et al. 2000); for a high-permittivity
    lining it is conservative. CaCl2 in the same pores: 0.99 +- 0.07 at 4a, 0.75 +- 0.07 at
    3a, 0.50 +- 0.07 at 2.5a, 0.24 +- 0.05 at 2a, 0.08 +- 0.06 at 1.5a (same crossings).

Packing (``packing_warning`` 0.1, ``packing_breakdown`` 0.3)
    Local volume fraction ``eta = sum_i N_A c_i (4/3) pi r_i^3``. The Carnahan-Starling excess
    chemical potential of hard spheres, ``(8 eta - 9 eta^2 + 3 eta^3)/(1 - eta)^3`` kT, is 1.0 kT
    at eta = 0.1 (a correction of the order of the thermal energy: warning) and 4.9 kT at
    eta = 0.3 (steric free energies dominate; a lattice Bikerman correction is no longer
    quantitative either: breakdown). Size-modified PB/PNP: Borukhov, Andelman & Orland, PRL 79,
    435 (1997); Kilic, Bazant & Ajdari, PRE 75, 021502 (2007).

Non-Markovian friction (``memory_warning`` 0.1, ``memory_breakdown`` 1)
    A constant diffusion coefficient needs the friction memory time to be short compared to the
    time of the transport event. The Grote-Hynes rate (J. Chem. Phys. 73, 2715 (1980)) departs
    from the Kramers (Markovian) rate once the memory time is a sizeable fraction of the
    barrier-crossing time; ``tau_mem/tau_hop >= 0.1`` warns, ``>= 1`` (no time-scale separation)
    is a breakdown: use a generalized Langevin equation.

Informational notes (never a breakdown)
    ``debye_overlap`` 0.5: ``lambda_D / R >= 0.5`` (pore narrower than two Debye lengths, the
    Corry et al. 2000 criterion) means the double layers of opposite walls overlap: the pore is
    perm-selective and PNP results there are sensitive to the wall charge and to the missing
    dielectric self-energy. ``mesh_debye`` 0.5: a cell larger than half a local Debye length
    does not resolve the double layer (numerical, not physical). ``dukhin_note`` 1: Dukhin
    number ``Du = |sigma| / (e N_A I R) >= 1``: surface conduction dominates the pore
    conductance (Bocquet & Charlaix, Chem. Soc. Rev. 39, 1073 (2010)).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

from poreflux.errors import InputError


@dataclass(frozen=True)
class Thresholds:
    """Thresholds of the breakdown checks (see the module docstring for the literature).

    Parameters
    ----------
    gamma_warning, gamma_breakdown
        Coupling ``Gamma = l_B |z_i z_j| / d`` at which correlations warn / break mean field.
    xi_warning, xi_breakdown
        Wall coupling parameter ``Xi = 2 pi |z|^3 l_B^2 |sigma|/e`` of the counter-ions of a
        charged wall at which correlations warn / break mean field.
    radius_warning_diameters, radius_breakdown_diameters, radius_single_file_diameters
        Pore radius in units of the ion diameter below which finite size warns, breaks PNP, and
        forces single-file motion.
    packing_warning, packing_breakdown
        Local ion volume fraction at which crowding warns / breaks PNP.
    memory_warning, memory_breakdown
        Ratio ``tau_mem / tau_hop`` at which non-Markovian friction warns / breaks PNP.
    debye_overlap
        ``lambda_D / R`` from which overlapping double layers are noted.
    mesh_debye
        ``h / lambda_D`` above which a mesh is noted as not resolving the Debye layer.
    dukhin_note
        Dukhin number above which surface conduction is noted as dominant.
    radius_kind
        ``"ionic"`` (bare crystal radius, the default) or ``"hydrated"``: which species radius
        enters the diameter ``a`` and the packing fraction.
    """

    gamma_warning: float = 0.5
    gamma_breakdown: float = 1.0
    xi_warning: float = 1.0
    xi_breakdown: float = 10.0
    radius_warning_diameters: float = 4.0
    radius_breakdown_diameters: float = 2.0
    radius_single_file_diameters: float = 1.0
    packing_warning: float = 0.1
    packing_breakdown: float = 0.3
    memory_warning: float = 0.1
    memory_breakdown: float = 1.0
    debye_overlap: float = 0.5
    mesh_debye: float = 0.5
    dukhin_note: float = 1.0
    radius_kind: str = "ionic"

    def __post_init__(self) -> None:
        for f in fields(self):
            if f.name == "radius_kind":
                continue
            value = getattr(self, f.name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                raise InputError(f"threshold {f.name} must be a positive number, got {value!r}")
        pairs = (
            ("gamma_warning", "gamma_breakdown"),
            ("xi_warning", "xi_breakdown"),
            ("packing_warning", "packing_breakdown"),
            ("memory_warning", "memory_breakdown"),
        )
        for low, high in pairs:
            if getattr(self, low) > getattr(self, high):
                raise InputError(f"threshold {low} must not exceed {high}")
        if not (
            self.radius_single_file_diameters
            <= self.radius_breakdown_diameters
            <= self.radius_warning_diameters
        ):
            raise InputError(
                "radius thresholds must satisfy single_file <= breakdown <= warning "
                f"(got {self.radius_single_file_diameters}, {self.radius_breakdown_diameters}, "
                f"{self.radius_warning_diameters} diameters)"
            )
        if self.radius_kind not in ("ionic", "hydrated"):
            raise InputError(f"radius_kind must be 'ionic' or 'hydrated', got {self.radius_kind!r}")

    def to_dict(self) -> dict[str, float | str]:
        """The thresholds as a plain dict (for JSON)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


#: The documented defaults.
DEFAULT_THRESHOLDS = Thresholds()
