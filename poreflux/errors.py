"""Exceptions raised by poreflux's continuum solvers."""

from __future__ import annotations

from dataclasses import dataclass, field


class PorefluxError(Exception):
    """Base class of poreflux errors."""


class InputError(PorefluxError, ValueError):
    """A problem description, mesh or parameter is invalid; the message says what to change."""


class MeshTagError(InputError):
    """A mesh lacks a region or boundary tag the problem needs."""


@dataclass
class SolveAttempt:
    """One Newton solve attempt: what was tried and how it ended."""

    label: str
    converged: bool
    iterations: int
    residuals: list[float] = field(default_factory=list)
    reason: str = ""

    def __str__(self) -> str:
        res = ", ".join(f"{r:.3e}" for r in self.residuals[:12])
        more = " ..." if len(self.residuals) > 12 else ""
        status = "converged" if self.converged else f"FAILED ({self.reason})"
        return f"{self.label}: {status} after {self.iterations} it; residuals [{res}{more}]"


class ConvergenceError(PorefluxError, RuntimeError):
    """A nonlinear solve failed, after continuation; carries every attempt's residual history."""

    def __init__(self, message: str, attempts: list[SolveAttempt] | None = None):
        self.attempts = list(attempts or [])
        lines = [message] + [f"  - {a}" for a in self.attempts]
        super().__init__("\n".join(lines))
