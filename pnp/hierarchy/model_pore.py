"""The continuum channel matching the particle model pore (``stochastic.md.model_pore``).

``stochastic`` never imports ``meshes``; the hand-over from the particle model pore to a channel
mesh lives here, in the one subpackage of pnp that imports both.
"""

from __future__ import annotations

from typing import Any

from poreflux.errors import InputError

__all__ = ["channel_geometry"]


def channel_geometry(model_pore: Any, **kwargs: Any) -> Any:
    """The continuum channel matching a model pore: ``cylindrical_pore(radius, length)``.

    The pore radius is the model's radius accessible to ion centres (PNP ions are point charges)
    and the membrane thickness its pore length; both use the same axis and origin (membrane
    centred at z = 0), so PMF grids of the model pore need no ``z_offset``.

    Parameters
    ----------
    model_pore
        A :class:`stochastic.md.model_pore.ModelPore`.
    **kwargs
        Keyword arguments of :class:`meshes.channel.ChannelGeometry` (``bath_radius``,
        ``bath_height``, ``protein_thickness``, ``h_pore``, ``h_bath``...).

    Returns
    -------
    meshes.channel.ChannelGeometry
        ``meshes.channel.cylindrical_pore(radius=model_pore.radius,
        thickness=model_pore.length, **kwargs)``.
    """
    from meshes.channel import cylindrical_pore
    from stochastic.md.model_pore import ModelPore

    if not isinstance(model_pore, ModelPore):
        raise InputError(
            f"model_pore must be a stochastic.md.model_pore.ModelPore, got "
            f"{type(model_pore).__name__}"
        )
    return cylindrical_pore(radius=model_pore.radius, thickness=model_pore.length, **kwargs)
