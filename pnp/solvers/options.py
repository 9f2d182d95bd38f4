"""Options, parameters and counters of the steady PNP solver (:mod:`pnp.solvers.steady`).

:class:`SolverOptions` (numerical choices, validated at construction), :class:`Params` (the
continuation parameters of a solve), :class:`SolveStats` (what the last solve did) and the PETSc
option sets of the two Krylov solvers.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from pnp.forms import nernst_planck as transport
from poreflux.errors import InputError, SolveAttempt

#: Above this many dofs ``linear_solver="auto"`` uses the Krylov solver (by topological
#: dimension; measured on the default channel, cold + warm solve, with bench/pnp_scaling.py-like
#: runs: 2D 1.5e4 dofs Krylov 0.29 s vs LU 0.46 s, 2.4e5 dofs 4.5 s vs 10.5 s; 3D LU loses from
#: the smallest meshes on).
LU_DOF_LIMIT = {2: 10_000, 3: 5_000}

#: Names accepted by :attr:`SolverOptions.linear_solver`.
LINEAR_SOLVERS = ("auto", "lu", "krylov", "fieldsplit")


@dataclass(frozen=True)
class Params:
    """The continuation parameters of a steady PNP solve (API units).

    Attributes
    ----------
    voltage
        ``phi_top - phi_bottom`` [mV].
    bath_top, bath_bottom
        Bath concentrations [mM] in solver species order.
    charge_scale
        Multiplies every fixed charge (1 = as described).
    """

    voltage: float
    bath_top: tuple[float, ...]
    bath_bottom: tuple[float, ...]
    charge_scale: float = 1.0


@dataclass(frozen=True)
class SolverOptions:
    """Numerical options of :class:`SteadyPNPSolver`.

    Parameters
    ----------
    variables
        ``"log"`` (default, see the module docstring) or ``"primitive"``.
    linear_solver
        ``"auto"``, ``"lu"`` (MUMPS), ``"krylov"`` (FGMRES + electrochemical-potential block
        preconditioner, log variables only) or ``"fieldsplit"`` (FGMRES + multiplicative field
        split, Eisenstat-Walker forcing).
    quadrature_degree
        Quadrature degree of the nonlinear (exp) terms; ``None`` lets UFL choose.
    rtol, atol, stol
        SNES tolerances (relative/absolute residual, relative step).
    max_it
        Newton iterations per attempt.
    cold_max_it
        Newton iterations of the direct attempt from a cold guess before switching to the staged
        continuation (a cold solve that needs more has rarely converged on the default channel).
    max_attempts
        Newton attempts allowed during continuation before giving up.
    min_step
        Smallest continuation step (fraction of the path).
    ksp_rtol
        Relative tolerance of each Krylov solve: ``None`` = 1e-3 for ``"krylov"`` (fixed; with
        this preconditioner a tight solve costs few iterations and keeps Newton's fast
        convergence: 2 Newton steps after the predictor for a warm I-V step instead of 4-5 with
        Eisenstat-Walker forcing; 1e-2 costs a Newton step more) and a cap of 1e-8 on the
        Eisenstat-Walker tolerances for ``"fieldsplit"``; not used by LU.
    max_update
        Largest Newton update of ``psi`` (kT/e) or ``ln c`` per step before the line search: the
        direction is scaled down when larger (keeps ``exp`` from overflowing far from the
        solution); ``None`` disables it. Applied with log variables only.
    predictor
        In a voltage sweep, start Newton from the secant extrapolation of the two previous
        solutions (instead of the previous one): about one Newton step fewer per point.
    space_charge
        Include the mobile ions' charge in the Poisson equation (default). ``False`` decouples
        the potential (Laplace with the fixed charges only: e.g. the constant-field GHK limit).
    reuse_jacobian
        Keep the last Jacobian and its preconditioner (or LU factors) for a Newton step when the
        previous step reduced the residual norm at least this much (ratio; ``None``: a new
        Jacobian every step), see :class:`pnp.solvers.newton.NewtonSolver`. 0.01 keeps them only
        in the quadratic phase: on the default channel (2D, 1.5e4 and 5.9e4 dofs; 3D, 1.1e4) a
        cold solve assembles 5 of 6 Jacobians and a warm I-V step 1 of 3; the cold current
        equals plain Newton's to 5e-10 relative on 1 and 2 ranks. 0.02 reused a poorer step
        before the last one and left the current 7e-7 off.
    csr_assembly
        Assemble the Krylov solvers' nest Jacobian blocks through DOLFINx's CSR matrices, handing
        PETSc the values in one COO call (:mod:`pnp.solvers.csr_assembly`; the same matrices to
        rounding); ``False`` inserts element by element into PETSc (the former path).
    """

    variables: str = "log"
    linear_solver: str = "auto"
    quadrature_degree: int | None = 3
    rtol: float = 1e-8
    atol: float = 1e-10
    stol: float = 1e-8
    max_it: int = 25
    cold_max_it: int = 12
    max_attempts: int = 60
    min_step: float = 1.0 / 256
    ksp_rtol: float | None = None
    max_update: float | None = 4.0
    predictor: bool = True
    space_charge: bool = True
    reuse_jacobian: float | None = 0.01
    csr_assembly: bool = True

    def __post_init__(self) -> None:
        transport.check_variables(self.variables)
        if self.linear_solver not in LINEAR_SOLVERS:
            raise InputError(
                f"linear_solver must be one of {LINEAR_SOLVERS}, got {self.linear_solver!r}"
            )
        if self.linear_solver == "krylov" and self.variables != "log":
            raise InputError(
                "linear_solver='krylov' needs variables='log' (its preconditioner works in "
                "electrochemical potentials ln c + z psi); use 'fieldsplit' or 'lu' for "
                "primitive variables"
            )
        if self.ksp_rtol is not None and not (0 < self.ksp_rtol < 1):
            raise InputError(f"ksp_rtol must be in (0, 1), got {self.ksp_rtol!r}")
        if self.max_it < 1 or self.max_attempts < 1:
            raise InputError("max_it and max_attempts must be >= 1")
        for name in ("rtol", "atol", "stol"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and 0 <= value < 1):
                raise InputError(f"SolverOptions.{name} must be in [0, 1), got {value!r}")
        if self.rtol == 0 and self.atol == 0:
            raise InputError("SolverOptions: rtol and atol cannot both be 0 (Newton never stops)")
        if not (isinstance(self.min_step, int | float) and 0 < self.min_step <= 1):
            raise InputError(f"SolverOptions.min_step must be in (0, 1], got {self.min_step!r}")
        if self.reuse_jacobian is not None and not (
            isinstance(self.reuse_jacobian, int | float) and 0 < self.reuse_jacobian < 1
        ):
            raise InputError(
                f"SolverOptions.reuse_jacobian must be None or a ratio in (0, 1), got "
                f"{self.reuse_jacobian!r}"
            )
        if self.max_update is not None and not (
            isinstance(self.max_update, int | float)
            and math.isfinite(self.max_update)
            and self.max_update > 0
        ):
            raise InputError(
                f"SolverOptions.max_update must be a positive number or None, got "
                f"{self.max_update!r}"
            )


@dataclass
class SolveStats:
    """Counters of the last :meth:`SteadyPNPSolver.solve` call."""

    newton_iterations: int = 0
    linear_iterations: int = 0
    predictor_steps: int = 0
    attempts: list[SolveAttempt] = field(default_factory=list)
    wall_time: float = 0.0

    @property
    def continuation_steps(self) -> int:
        """Number of Newton attempts beyond the first."""
        return max(len(self.attempts) - 1, 0)


def krylov_options(ksp_rtol: float = 1e-3) -> dict[str, Any]:
    """FGMRES to a fixed relative tolerance; the preconditioner is set in Python afterwards."""
    return {
        "snes_ksp_ew": False,
        "ksp_type": "fgmres",
        "ksp_rtol": ksp_rtol,
        "ksp_atol": 1e-14,
        "ksp_max_it": 300,
        "ksp_gmres_restart": 100,
        "pc_type": "none",  # replaced by pnp.solvers.preconditioners.ElectrochemicalPreconditioner
    }


def fieldsplit_options(nfields: int, ksp_rtol: float = 1e-8) -> dict[str, Any]:
    """FGMRES + multiplicative field split with one GAMG V-cycle per field (nest matrices)."""
    opts: dict[str, Any] = {
        "ksp_type": "fgmres",
        "ksp_rtol": ksp_rtol,
        "ksp_atol": 1e-14,
        "ksp_max_it": 500,
        "ksp_gmres_restart": 150,
        "pc_type": "fieldsplit",
        "pc_fieldsplit_type": "multiplicative",
    }
    for i in range(nfields):
        opts[f"fieldsplit_{i}_ksp_type"] = "preonly"
        opts[f"fieldsplit_{i}_pc_type"] = "gamg"
        opts[f"fieldsplit_{i}_pc_gamg_threshold"] = 0.01
        opts[f"fieldsplit_{i}_mg_levels_ksp_type"] = "chebyshev"
        opts[f"fieldsplit_{i}_mg_levels_pc_type"] = "jacobi"
    return opts


def describe(p: Params) -> str:
    """One-line description of continuation parameters (for messages)."""
    top = "/".join(f"{c:g}" for c in p.bath_top)
    bot = "/".join(f"{c:g}" for c in p.bath_bottom)
    return f"V={p.voltage:g} mV, top={top} mM, bottom={bot} mM, charge x{p.charge_scale:g}"


def parameter_changes(
    species_names: Sequence[str],
    voltage: float | None,
    bath_top: Sequence[float] | None,
    bath_bottom: Sequence[float] | None,
    charge_scale: float,
) -> dict[str, Any]:
    """Validated changes of the continuation parameters of one solve (see :class:`Params`).

    ``None`` leaves a parameter at the problem's value. Raises :class:`InputError` for a
    non-finite voltage [mV] or bath concentrations [mM] that are not positive, in species order.
    """
    scale = float(charge_scale)
    if not math.isfinite(scale):
        raise InputError(f"charge_scale must be finite, got {charge_scale!r}")
    changes: dict[str, Any] = {"charge_scale": scale}
    if voltage is not None:
        v = float(voltage)
        if not math.isfinite(v):
            raise InputError(f"voltage must be finite [mV], got {voltage!r}")
        changes["voltage"] = v
    n = len(species_names)
    for key, val in (("bath_top", bath_top), ("bath_bottom", bath_bottom)):
        if val is not None:
            val = tuple(float(c) for c in val)
            if len(val) != n or not all(math.isfinite(c) and c > 0 for c in val):
                raise InputError(
                    f"{key} needs {n} positive concentrations [mM] in the order "
                    f"{tuple(species_names)}, got {val!r}"
                )
            changes[key] = val
    return changes
