"""Published reference values used by the validation tests and benchmarks.

NIST Standard Reference Simulation Website (SRSW), "Lennard-Jones Fluid Properties",
pure LJ fluid, Monte Carlo NVT, potential truncated at 3 sigma with analytic long-range
corrections; reduced units. https://www.nist.gov/mml/csd/chemical-informatics-research-group/
lennard-jones-fluid-properties (values transcribed from the table; ``U`` is the potential
energy per particle, ``P`` the pressure including the ideal-gas and tail contributions).
"""

from __future__ import annotations

#: (T*, rho*) -> (U*/N, P*).
NIST_LJ_RC3: dict[tuple[float, float], tuple[float, float]] = {
    (0.85, 0.003): (-3.1019e-02, 2.4965e-03),
    (0.85, 0.776): (-5.5121e00, 6.7714e-03),
    (0.85, 0.86): (-6.0305e00, 1.2660e00),
    (0.90, 0.003): (-2.9787e-02, 2.6485e-03),
    (0.90, 0.776): (-5.4689e00, 2.4056e-01),
    (0.90, 0.86): (-5.9753e00, 1.5781e00),
}

#: LAMMPS ``bench/in.lj``: fcc at rho* = 0.8442, rc = 2.5 sigma, E_pair per atom at step 0.
LAMMPS_LJ_EPAIR_STEP0: float = -6.7733681

#: Madelung constants referred to the nearest-neighbour distance.
MADELUNG_NACL: float = 1.747565
MADELUNG_CSCL: float = 1.762675
