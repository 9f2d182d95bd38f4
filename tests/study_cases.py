"""Small PNP study cases shared by the study tests and their MPI scripts (coarse meshes)."""

from __future__ import annotations

from pnp.studies import ParameterGrid
from pnp.studies.channel import ChannelPNPModel

#: Coarse sizes of the default channel (1 nm pore, 0.5 nm lining): ~1.4e3 PNP unknowns.
COARSE = {"h_pore_nm": 0.2, "h_bath_nm": 2.0}


def charged_channel_study() -> tuple[ChannelPNPModel, ParameterGrid]:
    """The default channel with a -0.1 C/m^2 lining, 2 concentrations x 5 voltages."""
    model = ChannelPNPModel(
        "default", dict(COARSE), surface_charge_C_per_m2=-0.1, walls=("protein_wall",),
        diagnostics=False,
    )  # fmt: skip
    grid = ParameterGrid(
        {"concentration_mM": [100.0, 1000.0], "voltage_mV": [-100, -50, 0, 50, 100]}
    )
    return model, grid


def write_cylinder_msh(
    path, radius: float = 1.0, length: float = 4.0, *, nr: int = 4, nz: int = 12,
    region: str = "bath", ends: tuple[str, str] = ("top", "bottom"), wall: str = "membrane_wall",
    named: bool = True,
):  # fmt: skip
    """Write a gmsh 2.2 ASCII mesh of the (r, z) rectangle [0, radius] x [-length/2, length/2]
    (a 2D axisymmetric water cylinder): cells in ``region``, facets ``ends`` (z = +L/2, -L/2),
    ``wall`` (r = radius) and ``axis`` (r = 0). ``named=False`` leaves out $PhysicalNames."""
    nodes = [(i * radius / nr, -length / 2 + j * length / nz) for j in range(nz + 1)
             for i in range(nr + 1)]  # fmt: skip

    def node(i: int, j: int) -> int:
        return j * (nr + 1) + i + 1

    groups = {ends[0]: (1, 1), ends[1]: (1, 2), wall: (1, 3), "axis": (1, 4), region: (2, 5)}
    elements = []  # (type, physical tag, node ids)
    for j in range(nz):
        for i in range(nr):
            a, b, c, d = node(i, j), node(i + 1, j), node(i + 1, j + 1), node(i, j + 1)
            elements += [(2, 5, (a, b, c)), (2, 5, (a, c, d))]
    elements += [(1, 1, (node(i, nz), node(i + 1, nz))) for i in range(nr)]
    elements += [(1, 2, (node(i, 0), node(i + 1, 0))) for i in range(nr)]
    elements += [(1, 3, (node(nr, j), node(nr, j + 1))) for j in range(nz)]
    elements += [(1, 4, (node(0, j), node(0, j + 1))) for j in range(nz)]
    lines = ["$MeshFormat", "2.2 0 8", "$EndMeshFormat"]
    if named:
        lines += ["$PhysicalNames", str(len(groups))]
        lines += [f'{dim} {tag} "{name}"' for name, (dim, tag) in groups.items()]
        lines += ["$EndPhysicalNames"]
    lines += ["$Nodes", str(len(nodes))]
    lines += [f"{k + 1} {r!r} {z!r} 0" for k, (r, z) in enumerate(nodes)]
    lines += ["$EndNodes", "$Elements", str(len(elements))]
    lines += [f"{k + 1} {t} 2 {tag} {tag} " + " ".join(map(str, ids))
              for k, (t, tag, ids) in enumerate(elements)]  # fmt: skip
    lines += ["$EndElements"]
    path.write_text("\n".join(lines) + "\n")
    return path
