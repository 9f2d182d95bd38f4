"""A user's gmsh ``.msh`` as the geometry of a study: its physical-group names, read from the
file's header only, and the names a channel PNP study needs (checked before any mesh is built).

The ``$PhysicalNames`` section of a gmsh file (formats 2.2 and 4.x, ASCII or binary: the section
is text in both) lists ``dim tag "name"`` for every named physical group and comes before the
nodes, so reading it costs nothing next to loading the mesh. :func:`meshes.io.load_msh` later
loads the mesh with the same requirements (and checks what the header cannot show: unnamed
groups, untagged cells).

A channel PNP study needs (names of :mod:`meshes.names`):

- regions (groups of the mesh dimension): at least one water region (``bath``, ``pore``,
  ``solvent``); every region must have a default permittivity
  (:data:`pnp.problems.transport.DEFAULT_PERMITTIVITY`);
- boundaries (groups of dimension - 1): ``top`` and ``bottom`` (the bath ends, where the voltage
  and the bath concentrations are imposed), and every charged wall.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass
from pathlib import Path

from meshes import names
from pnp.studies.checks import StudyInputError

__all__ = ["MeshFileNames", "check_mesh_file", "read_physical_names"]

#: Key of the mesh file in the study (``[geometry] file``).
FILE_KEY = "file"
#: Boundaries every channel study needs on a user mesh.
REQUIRED_BOUNDARIES = (names.TOP, names.BOTTOM)
#: Sections that follow ``$PhysicalNames``: the header is over when one of them starts.
_AFTER_HEADER = (b"$Entities", b"$Nodes", b"$Elements", b"$PartitionedEntities")


@dataclass(frozen=True)
class MeshFileNames:
    """Named physical groups of a ``.msh`` file.

    Attributes
    ----------
    dim
        Highest dimension of a physical group (the mesh dimension).
    regions
        Names of the groups of dimension ``dim`` (cells).
    boundaries
        Names of the groups of dimension ``dim - 1`` (facets).
    """

    dim: int
    regions: frozenset[str]
    boundaries: frozenset[str]


def _fail(path: Path, message: str) -> None:
    raise StudyInputError(f"mesh file {str(path)!r}: {message}", FILE_KEY)


def _header_lines(path: Path) -> list[bytes]:
    """The ``$PhysicalNames`` body lines (empty when the section is missing)."""
    try:
        with path.open("rb") as fh:
            if fh.readline().strip() != b"$MeshFormat":
                _fail(path, "not a gmsh .msh file (it does not start with $MeshFormat)")
            for line in fh:
                tag = line.strip()
                if tag.startswith(_AFTER_HEADER):
                    return []
                if tag == b"$PhysicalNames":
                    count = fh.readline().strip()
                    if not count.isdigit():
                        _fail(path, f"has a malformed $PhysicalNames section (count {count!r})")
                    return [fh.readline() for _ in range(int(count))]
    except OSError as exc:
        _fail(path, f"cannot be read ({exc.strerror or exc})")
    return []


def read_physical_names(path: str | Path) -> MeshFileNames:
    """The named physical groups of a gmsh ``.msh`` file, from its header only.

    Raises
    ------
    StudyInputError
        (key ``file``) when the file is missing, not a gmsh file or has no named groups.
    """
    path = Path(path)
    if not path.is_file():
        _fail(path, "does not exist or is not a file")
    groups: dict[int, set[str]] = {}
    for raw in _header_lines(path):
        try:
            dim, _tag, name = shlex.split(raw.decode("utf-8", "replace"))
            groups.setdefault(int(dim), set()).add(name)
        except ValueError:
            _fail(path, f"has a malformed physical name line {raw!r}")
    if not groups:
        _fail(
            path,
            "has no named physical groups; name the regions (cells) and boundaries (facets) "
            f"with the names of meshes.names ({names.BATH!r}, {names.TOP!r}, {names.BOTTOM!r}, "
            "...)",
        )
    dim = max(groups)
    return MeshFileNames(dim, frozenset(groups[dim]), frozenset(groups.get(dim - 1, ())))


def check_mesh_file(
    path: str | Path, dim: int, permittivity_regions: frozenset[str] | set[str]
) -> MeshFileNames:
    """Check that a ``.msh`` file has what a channel PNP study needs (see module docstring).

    Parameters
    ----------
    path
        The file.
    dim
        The study's ``dim`` (2: axisymmetric (r, z), 3).
    permittivity_regions
        Regions with a permittivity (the defaults plus the configured ones).

    Raises
    ------
    StudyInputError
        (key ``file``) naming the file and every missing or unknown group.
    """
    path = Path(path)
    found = read_physical_names(path)
    if found.dim != dim:
        _fail(path, f"has {found.dim}D cells but the study asks for dim = {dim}")
    problems = []
    if not found.regions & set(names.WATER_REGIONS):
        problems.append(
            f"no water region (one of {list(names.WATER_REGIONS)} among its {dim}D groups)"
        )
    unknown = sorted(found.regions - set(permittivity_regions))
    if unknown:
        problems.append(
            f"regions {unknown} without a permittivity (known: {sorted(permittivity_regions)})"
        )
    missing = [b for b in REQUIRED_BOUNDARIES if b not in found.boundaries]
    if missing:
        problems.append(f"no boundaries {missing} ({dim - 1}D groups: the bath ends)")
    if problems:
        _fail(
            path,
            "lacks what a PNP study needs: " + "; ".join(problems) + f"; its {dim}D groups: "
            f"{sorted(found.regions)}, its {dim - 1}D groups: {sorted(found.boundaries)}",
        )
    return found
