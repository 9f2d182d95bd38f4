"""Trajectory output: XYZ and DCD (both in Angstrom, as MDAnalysis expects) and numpy npz.

- :class:`XYZWriter`: plain text, one frame per block (``N``, comment, ``name x y z``).
  ``MDAnalysis.Universe("traj.xyz")`` reads it.
- :class:`DCDWriter`: CHARMM/NAMD binary DCD with unit cell, float32 coordinates in Angstrom;
  ``MDAnalysis.Universe(topology, "traj.dcd")`` (with e.g. the first XYZ frame as topology).
- :class:`NpzRecorder`: keeps frames in memory and saves ``positions`` (F, N, 3) [nm],
  ``times`` [ps], ``box`` [nm] and ``type_names`` with :func:`numpy.savez_compressed`.

Positions are written as integrated (unwrapped); use :func:`wrap` to fold them into the box.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from stochastic.md.system import Box

if TYPE_CHECKING:
    from stochastic.md.simulation import Simulation

NM_TO_ANGSTROM = 10.0


def wrap(positions: np.ndarray, box: Box) -> np.ndarray:
    """Positions folded into ``[0, L)`` along the periodic axes."""
    L = box.lengths_array()
    inv = box.inverse_periodic()
    return positions - L * np.floor(positions * inv)


@dataclass
class XYZWriter:
    """Appends a frame to an XYZ file every ``interval`` steps (Angstrom)."""

    path: Path | str
    interval: int = 100

    def __post_init__(self) -> None:
        self.path = Path(self.path)
        self.path.write_text("")

    def report(self, sim: Simulation) -> None:
        """Write the current frame."""
        write_xyz_frame(
            self.path, sim.system.type_names, sim.x, f"step {sim.step_count} t {sim.time:.4f} ps"
        )


def write_xyz_frame(
    path: Path | str, names: tuple[str, ...], positions: np.ndarray, comment: str = ""
) -> None:
    """Append one XYZ frame (positions in nm, written in Angstrom)."""
    a = positions * NM_TO_ANGSTROM
    lines = [str(len(names)), comment.replace("\n", " ")]
    lines += [f"{n} {x:.5f} {y:.5f} {z:.5f}" for n, (x, y, z) in zip(names, a, strict=True)]
    with open(path, "a") as fh:
        fh.write("\n".join(lines) + "\n")


def read_xyz(path: Path | str) -> tuple[list[str], np.ndarray]:
    """Read an XYZ file: (names, positions (F, N, 3) in nm)."""
    lines = Path(path).read_text().splitlines()
    frames, names, k = [], [], 0
    while k < len(lines) and lines[k].strip():
        n = int(lines[k])
        block = [ln.split() for ln in lines[k + 2 : k + 2 + n]]
        names = [b[0] for b in block]
        frames.append(np.array([[float(v) for v in b[1:4]] for b in block]) / NM_TO_ANGSTROM)
        k += n + 2
    return names, np.array(frames)


@dataclass
class NpzRecorder:
    """Keeps positions (and optionally velocities) every ``interval`` steps; :meth:`save` to npz."""

    interval: int = 100
    velocities: bool = False
    frames: list[np.ndarray] = field(default_factory=list)
    vframes: list[np.ndarray] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    box: np.ndarray | None = None
    type_names: tuple[str, ...] = ()

    def report(self, sim: Simulation) -> None:
        """Store the current frame."""
        self.frames.append(sim.x.copy())
        if self.velocities:
            self.vframes.append(sim.v.copy())
        self.times.append(sim.time)
        self.type_names = sim.system.type_names
        if sim.system.box is not None:
            self.box = sim.system.box.lengths_array()

    def positions(self) -> np.ndarray:
        """Frames as (F, N, 3) [nm]."""
        return np.array(self.frames)

    def save(self, path: Path | str) -> None:
        """Write ``positions``, ``times``, ``box``, ``type_names`` (and ``velocities``)."""
        data = {
            "positions": self.positions(),
            "times": np.array(self.times),
            "type_names": np.array(self.type_names),
            "box": self.box if self.box is not None else np.zeros(3),
        }
        if self.velocities:
            data["velocities"] = np.array(self.vframes)
        np.savez_compressed(path, **data)


def _record(fh, payload: bytes) -> None:
    n = struct.pack("<i", len(payload))
    fh.write(n + payload + n)


class DCDWriter:
    """CHARMM DCD writer (little endian, 32-bit record markers, unit cell per frame).

    Parameters
    ----------
    path
        Output file.
    n_atoms
        Number of particles.
    box
        Box (written as the unit cell, Angstrom, angles 90 degrees) or None.
    interval
        Steps between frames when used as a reporter.
    timestep_ps
        Integration time step, stored in the header in AKMA units (1 AKMA = 48.88821 fs).
    """

    def __init__(
        self,
        path: Path | str,
        n_atoms: int,
        box: Box | None = None,
        interval: int = 100,
        timestep_ps: float = 0.002,
    ):
        self.path = Path(path)
        self.n_atoms = int(n_atoms)
        self.box = box
        self.interval = int(interval)
        self.n_frames = 0
        delta = timestep_ps / 0.04888821
        with open(self.path, "wb") as fh:
            icntrl = [0, 0, self.interval, 0, 0, 0, 0, 0, 0]
            tail = [1 if box is not None else 0, 0, 0, 0, 0, 0, 0, 0, 0, 24]
            _record(fh, b"CORD" + struct.pack("<9i", *icntrl) + struct.pack("<f", delta)
                    + struct.pack("<10i", *tail))  # fmt: skip
            title = b"poreflux stochastic.md trajectory (Angstrom)".ljust(80)
            _record(fh, struct.pack("<i", 1) + title)
            _record(fh, struct.pack("<i", self.n_atoms))

    def write(self, positions: np.ndarray) -> None:
        """Append one frame of positions (N, 3) [nm]."""
        a = np.asarray(positions, dtype=np.float64) * NM_TO_ANGSTROM
        with open(self.path, "r+b") as fh:
            fh.seek(0, 2)
            if self.box is not None:
                L = np.asarray(self.box.lengths) * NM_TO_ANGSTROM
                _record(fh, struct.pack("<6d", L[0], 90.0, L[1], 90.0, 90.0, L[2]))
            for d in range(3):
                _record(fh, a[:, d].astype("<f4").tobytes())
            self.n_frames += 1
            fh.seek(8)
            fh.write(struct.pack("<i", self.n_frames))

    def report(self, sim: Simulation) -> None:
        """Reporter hook: write the current frame."""
        self.write(sim.x)


def read_dcd(path: Path | str) -> np.ndarray:
    """Read a DCD written by :class:`DCDWriter`: positions (F, N, 3) [nm]."""
    raw = Path(path).read_bytes()
    k = 0

    def record() -> bytes:
        nonlocal k
        (n,) = struct.unpack_from("<i", raw, k)
        data = raw[k + 4 : k + 4 + n]
        k += n + 8
        return data

    head = record()
    n_frames = struct.unpack_from("<i", head, 4)[0]
    has_cell = struct.unpack_from("<i", head, 4 + 40)[0]
    record()
    n_atoms = struct.unpack("<i", record())[0]
    out = np.empty((n_frames, n_atoms, 3))
    for f in range(n_frames):
        if has_cell:
            record()
        for d in range(3):
            out[f, :, d] = np.frombuffer(record(), dtype="<f4")
    return out / NM_TO_ANGSTROM
