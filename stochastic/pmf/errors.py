"""Exceptions and warnings of :mod:`stochastic.pmf`."""

from __future__ import annotations

from collections.abc import Sequence

from poreflux.errors import ConvergenceError, InputError, SolveAttempt

__all__ = [
    "BinningWarning",
    "EstimatorConvergenceError",
    "PMFInputError",
    "SamplingWarning",
    "WindowOverlapWarning",
]


class PMFInputError(InputError):
    """Windows, samples or estimator options are invalid; the message says what to change."""


class EstimatorConvergenceError(ConvergenceError):
    """WHAM or MBAR did not reach its tolerance.

    Attributes
    ----------
    history : list of float
        The convergence measure (max change of the free energies f_k per iteration, or the
        gradient norm of the MBAR objective) at every iteration, in kT.
    f_k : numpy.ndarray or None
        The last free energies reached (kT, f_0 = 0), usable as a warm start.
    """

    def __init__(
        self,
        message: str,
        history: Sequence[float],
        f_k=None,
        label: str = "estimator",
    ) -> None:
        self.history = [float(h) for h in history]
        self.f_k = f_k
        attempt = SolveAttempt(
            label=label,
            converged=False,
            iterations=len(self.history),
            residuals=self.history[-12:],
            reason="tolerance not reached",
        )
        super().__init__(message, [attempt])


class WindowOverlapWarning(UserWarning):
    """Neighbouring umbrella windows barely overlap: the PMF across the gap is unreliable."""


class BinningWarning(UserWarning):
    """Histogram bins are too wide for the spring constants: binned WHAM is biased."""


class SamplingWarning(UserWarning):
    """A window's time series is too short or too correlated for reliable statistics."""
