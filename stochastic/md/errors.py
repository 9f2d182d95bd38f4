"""Exceptions raised by the particle-MD core."""

from __future__ import annotations

from poreflux.errors import InputError


class MDInputError(InputError):
    """An MD description or parameter is invalid; the message says what to change."""


class OverlapError(MDInputError):
    """Two particles overlap (huge forces); carries the offending pair and its distance."""

    def __init__(self, i: int, j: int, distance: float, message: str = ""):
        self.pair = (int(i), int(j))
        self.distance = float(distance)
        text = message or (
            f"particles {i} and {j} overlap (distance {distance:.4g} nm): the force between them "
            "is huge or infinite; move them apart (e.g. minimise energy first or use "
            "init.random_positions with a larger min_distance) or shorten the time step"
        )
        super().__init__(text)
