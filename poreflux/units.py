"""Physical constants, API units and the non-dimensional scales used inside the solvers.

API units (one table, also in the README):

=====================  ===========================  ==================================
quantity               continuum (pnp, meshes,      particles (stochastic.md, langevin,
                       stochastic.smoluchowski)     cg)
=====================  ===========================  ==================================
length                 nm                           nm
time                   ns                           ps
concentration          mM (= mol/m^3)               number density via the box
potential / voltage    mV                           -
energy                 kT or kJ/mol (in the name)   kJ/mol
current / conductance  pA / pS                      -
diffusion coefficient  nm^2/ns (= 1e-9 m^2/s)       nm^2/ps
charge                 e                            e
mass                   -                            amu (g/mol)
temperature            K                            K
=====================  ===========================  ==================================

Constants are the CODATA 2022 values (the SI-defining e, k_B, N_A exactly; eps0 and the atomic
mass constant as measured), written out here so that importing poreflux does not load
:mod:`scipy.constants` (a tenth of a second of every script's start); the tests check them
against :mod:`scipy.constants`. Temperature is always an argument.

Inside the finite-element solvers lengths are scaled by ``L0`` (1 nm), potentials by the thermal
voltage ``kT/e`` and concentrations by a reference ``c0``; the Poisson equation then reads::

    -div(eps_r grad(psi)) = (L0/lambda0)^2 * (rho_fixed/(e N_A c0) + sum_i z_i c_i/c0)

with ``lambda0^2 = eps0 kT / (e^2 N_A c0)`` (see :class:`Scales`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from poreflux.validation import check_temperature
from poreflux.water import EPS_WATER_25C

# --- fundamental constants (SI) ------------------------------------------------------------------
E_CHARGE: float = 1.602176634e-19  #: elementary charge [C] (exact)
K_B: float = 1.380649e-23  #: Boltzmann constant [J/K] (exact)
N_A: float = 6.02214076e23  #: Avogadro constant [1/mol] (exact)
EPS0: float = 8.8541878188e-12  #: vacuum permittivity [F/m] (CODATA 2022)
R_GAS: float = N_A * K_B  #: molar gas constant [J/(mol K)] (exact)
FARADAY: float = N_A * E_CHARGE  #: Faraday constant [C/mol] (exact)
AMU: float = 1.66053906892e-27  #: atomic mass constant [kg] (CODATA 2022)

# --- API unit -> SI factors ----------------------------------------------------------------------
NM: float = 1e-9  #: nm -> m
NS: float = 1e-9  #: ns -> s
PS: float = 1e-12  #: ps -> s
MM: float = 1.0  #: mM -> mol/m^3 (1 mM = 1 mol/m^3)
MOLAR: float = 1e3  #: M -> mol/m^3
MV: float = 1e-3  #: mV -> V
PA: float = 1e-12  #: pA -> A
PS_SIEMENS: float = 1e-12  #: pS -> S
NM2_PER_NS: float = 1e-9  #: nm^2/ns -> m^2/s
NM2_PER_PS: float = 1e-6  #: nm^2/ps -> m^2/s
KJ_PER_MOL: float = 1e3 / N_A  #: kJ/mol -> J (per particle)

#: Coulomb constant in MD units, 1/(4 pi eps0) [kJ mol^-1 nm e^-2] (= 138.935...).
COULOMB_KJ_NM: float = E_CHARGE**2 / (4 * math.pi * EPS0) / NM * N_A / 1e3


def kT_joule(temperature: float) -> float:
    """Thermal energy ``k_B T`` [J] at ``temperature`` [K]."""
    return K_B * check_temperature(temperature)


def kT_kj_per_mol(temperature: float) -> float:
    """Thermal energy ``R T`` [kJ/mol] at ``temperature`` [K] (2.4790 kJ/mol at 298.15 K)."""
    return R_GAS * check_temperature(temperature) / 1e3


def thermal_voltage_mV(temperature: float) -> float:
    """Thermal voltage ``kT/e`` [mV] at ``temperature`` [K] (25.693 mV at 298.15 K)."""
    return kT_joule(temperature) / E_CHARGE / MV


def kj_per_mol_to_kT(energy_kj_per_mol: float, temperature: float) -> float:
    """Convert an energy from kJ/mol to units of kT."""
    return energy_kj_per_mol / kT_kj_per_mol(temperature)


def kT_to_kj_per_mol(energy_kT: float, temperature: float) -> float:
    """Convert an energy from units of kT to kJ/mol."""
    return energy_kT * kT_kj_per_mol(temperature)


@dataclass(frozen=True)
class Scales:
    """Reference scales of the non-dimensional continuum equations.

    Parameters
    ----------
    temperature
        Temperature [K].
    c0_mM
        Reference concentration [mM]; concentrations inside the solver are ``c / c0``.
    length_nm
        Reference length [nm]; mesh coordinates are in units of it (1 nm by default, so a mesh in
        nm needs no rescaling).
    """

    temperature: float
    c0_mM: float = 1000.0
    length_nm: float = 1.0

    def __post_init__(self) -> None:
        check_temperature(self.temperature)
        if not (math.isfinite(self.c0_mM) and self.c0_mM > 0):
            raise ValueError(f"reference concentration c0_mM must be > 0, got {self.c0_mM!r}")
        if not (math.isfinite(self.length_nm) and self.length_nm > 0):
            raise ValueError(f"reference length length_nm must be > 0, got {self.length_nm!r}")

    @property
    def kT(self) -> float:
        """Thermal energy [J]."""
        return kT_joule(self.temperature)

    @property
    def thermal_voltage(self) -> float:
        """Thermal voltage kT/e [V]."""
        return self.kT / E_CHARGE

    @property
    def thermal_voltage_mV(self) -> float:
        """Thermal voltage kT/e [mV]."""
        return self.thermal_voltage / MV

    @property
    def length_m(self) -> float:
        """Reference length [m]."""
        return self.length_nm * NM

    @property
    def c0_si(self) -> float:
        """Reference concentration [mol/m^3]."""
        return self.c0_mM * MM

    @property
    def lambda0_m(self) -> float:
        """``lambda0 = sqrt(eps0 kT / (e^2 N_A c0))`` [m] (no eps_r: it sits in the operator)."""
        return math.sqrt(EPS0 * self.kT / (E_CHARGE**2 * N_A * self.c0_si))

    @property
    def poisson_coefficient(self) -> float:
        """``(L0/lambda0)^2``: the factor in front of the scaled charge density."""
        return (self.length_m / self.lambda0_m) ** 2

    def volume_charge_to_scaled(self, rho_c_per_m3: float) -> float:
        """Volume charge density [C/m^3] -> scaled units ``rho/(e N_A c0)``."""
        return rho_c_per_m3 / (E_CHARGE * N_A * self.c0_si)

    def surface_charge_to_scaled(self, sigma_c_per_m2: float) -> float:
        """Surface charge density [C/m^2] -> scaled units ``sigma / (e N_A c0 L0)``.

        From the jump condition ``[eps0 eps_r dphi/dn] = -sigma``: in scaled variables
        ``[eps_r dpsi/dn'] = -(L0/lambda0)^2 sigma / (e N_A c0 L0)``, so the surface term of the
        weak form enters with the same coefficient as the volume charge ``rho / (e N_A c0)``.
        """
        return sigma_c_per_m2 / (E_CHARGE * N_A * self.c0_si * self.length_m)

    def potential_to_scaled(self, phi_mV: float) -> float:
        """Potential [mV] -> units of kT/e."""
        return phi_mV / self.thermal_voltage_mV

    def potential_from_scaled(self, psi: float) -> float:
        """Potential in units of kT/e -> [mV]."""
        return psi * self.thermal_voltage_mV

    @property
    def current_scale_pA(self) -> float:
        """Current [pA] carried by a scaled flux of 1 through a scaled area of 1.

        A scaled flux ``j = J L0 / (D0 c0)`` with ``D0`` = 1 nm^2/ns gives
        ``I = e N_A c0 D0 L0 * j_area`` [A].
        """
        return E_CHARGE * N_A * self.c0_si * NM2_PER_NS * self.length_m / PA


def debye_length_nm(
    ionic_strength_mM: float, temperature: float, eps_r: float = EPS_WATER_25C
) -> float:
    """Debye screening length [nm] of an electrolyte.

    ``lambda_D = sqrt(eps0 eps_r kT / (2 e^2 N_A I))``, ionic strength ``I = 1/2 sum z_i^2 c_i``.
    At 298.15 K in water this is 0.304 nm / sqrt(I / 1 M).
    """
    if not (ionic_strength_mM > 0):
        raise ValueError(f"ionic strength must be > 0 mM, got {ionic_strength_mM!r}")
    if not (eps_r > 0):
        raise ValueError(f"relative permittivity must be > 0, got {eps_r!r}")
    kt = kT_joule(temperature)
    return math.sqrt(EPS0 * eps_r * kt / (2 * E_CHARGE**2 * N_A * ionic_strength_mM * MM)) / NM


def bjerrum_length_nm(eps_r: float, temperature: float) -> float:
    """Bjerrum length ``l_B = e^2 / (4 pi eps0 eps_r kT)`` [nm] (0.7135 nm in water at 298.15 K)."""
    if not (math.isfinite(eps_r) and eps_r > 0):
        raise ValueError(f"relative permittivity must be > 0, got {eps_r!r}")
    return E_CHARGE**2 / (4 * math.pi * EPS0 * eps_r * kT_joule(temperature)) / NM
