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
