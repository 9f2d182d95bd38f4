"""Exceptions raised by the coarse-graining package."""

from __future__ import annotations

from collections.abc import Sequence

from poreflux.errors import InputError, PorefluxError


class CGInputError(InputError):
    """A coarse-graining input is invalid; the message says what to change."""


class CGConvergenceError(PorefluxError, RuntimeError):
    """An iterative CG procedure did not converge; ``history`` holds every iteration's record."""

    def __init__(self, message: str, history: Sequence[object]):
        self.history = list(history)
        super().__init__(message)
