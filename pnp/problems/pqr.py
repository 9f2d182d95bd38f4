"""Reading atomic charges and radii from PQR files (the format of PDB2PQR / APBS).

A PQR line is whitespace-separated::

    ATOM  serial name resName [chainID] resSeq x y z charge radius

Coordinates and radii are in Angstrom in the file; :class:`PQRAtoms` gives them in nm as well.
Only ``ATOM`` and ``HETATM`` records are read; the columns are taken from the end of the line
(x y z charge radius are the last five fields), so an optional chain identifier is allowed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poreflux.errors import InputError


@dataclass(frozen=True)
class PQRAtoms:
    """Atoms read from a PQR file.

    Attributes
    ----------
    names
        Atom names.
    positions_angstrom
        ``(n, 3)`` coordinates [Angstrom].
    charges
        ``(n,)`` partial charges [e].
    radii_angstrom
        ``(n,)`` radii [Angstrom].
    """

    names: tuple[str, ...]
    positions_angstrom: np.ndarray
    charges: np.ndarray
    radii_angstrom: np.ndarray

    @property
    def positions_nm(self) -> np.ndarray:
        """Coordinates [nm]."""
        return self.positions_angstrom / 10.0

    @property
    def radii_nm(self) -> np.ndarray:
        """Radii [nm]."""
        return self.radii_angstrom / 10.0

    @property
    def total_charge(self) -> float:
        """Net charge [e]."""
        return float(np.sum(self.charges))


def read_pqr(path: str | Path) -> PQRAtoms:
    """Read a PQR file.

    Raises
    ------
    InputError
        When the file is missing, has no atoms, or a line cannot be parsed (the message gives
        the line number).
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"PQR file {str(path)!r} does not exist")
    names, pos, q, rad = [], [], [], []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.startswith(("ATOM", "HETATM")):
            continue
        fields = line.split()
        if len(fields) < 10:
            raise InputError(
                f"{path}:{lineno}: a PQR ATOM line needs at least 10 fields "
                f"(ATOM serial name resName resSeq x y z charge radius), got {len(fields)}"
            )
        try:
            x, y, z, charge, radius = (float(f) for f in fields[-5:])
        except ValueError:
            raise InputError(
                f"{path}:{lineno}: cannot read x y z charge radius from {line.strip()!r}"
            ) from None
        values = np.array([x, y, z, charge, radius])
        if not np.all(np.isfinite(values)):
            raise InputError(f"{path}:{lineno}: non-finite number in {line.strip()!r}")
        if radius < 0:
            raise InputError(f"{path}:{lineno}: negative atomic radius {radius:g}")
        names.append(fields[2])
        pos.append((x, y, z))
        q.append(charge)
        rad.append(radius)
    if not names:
        raise InputError(f"PQR file {str(path)!r} contains no ATOM/HETATM records")
    return PQRAtoms(tuple(names), np.array(pos), np.array(q), np.array(rad))


def write_pqr(
    path: str | Path,
    positions_angstrom: np.ndarray,
    charges: np.ndarray,
    radii_angstrom: np.ndarray | None = None,
    names: list[str] | None = None,
) -> None:
    """Write atoms as a minimal PQR file (one residue ``ION``), e.g. for tests and examples."""
    pos = np.asarray(positions_angstrom, dtype=float).reshape(-1, 3)
    q = np.asarray(charges, dtype=float).reshape(-1)
    rad = np.full(len(q), 1.5) if radii_angstrom is None else np.asarray(radii_angstrom, float)
    names = names or ["X"] * len(q)
    lines = []
    for i, (p, c, r, n) in enumerate(zip(pos, q, rad, names, strict=True), start=1):
        lines.append(
            f"ATOM  {i:5d} {n:<4s} ION  {i:4d}    {p[0]:8.3f}{p[1]:8.3f}{p[2]:8.3f} "
            f"{c:7.4f} {r:6.4f}"
        )
    Path(path).write_text("\n".join(lines) + "\nEND\n")
