"""The network energy: a per-bead MLP on normalised descriptors; energy, forces and virial.

``U_net = sum_I e_theta((G_I - m) / s)`` with ``e_theta`` a multilayer perceptron (tanh hidden
layers, linear output) and ``m, s`` the descriptor mean and spread of the training data. Forces
are ``-dU/dx`` by automatic differentiation through the descriptors, so they are exact
gradients; the virial ``W = -sum_{Ik} d_Ik . dU/dd_Ik`` (the pair-vector form valid with
periodic images, ``W = sum r.F`` for pair forces) gives the pressure.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from poreflux.files import atomic_write_bytes
from stochastic.cg.errors import CGInputError
from stochastic.cg.ml.descriptors import DescriptorSpec, descriptors, displacements

Params = list[tuple[jnp.ndarray, jnp.ndarray]]


def init_params(seed: int, n_in: int, hidden: tuple[int, ...]) -> Params:
    """Glorot-scaled random weights, zero biases; the output layer starts at zero energy."""
    key = jax.random.PRNGKey(seed)
    sizes = [n_in, *hidden, 1]
    params = []
    for a, b in itertools.pairwise(sizes):
        key, sub = jax.random.split(key)
        scale = np.sqrt(2.0 / (a + b)) if b != 1 else 0.0
        params.append((scale * jax.random.normal(sub, (a, b)), jnp.zeros(b)))
    return params


def mlp(params: Params, g):
    """Per-row MLP output (rows of ``g``)."""
    h = g
    for w, b in params[:-1]:
        h = jnp.tanh(h @ w + b)
    w, b = params[-1]
    return (h @ w + b)[..., 0]


def energy_of_displacements(params, mean, std, disp, mask, spec: DescriptorSpec):
    """Network energy [kJ/mol] from neighbour displacements (N, K, 3) and mask (N, K)."""
    g = (descriptors(disp, mask, spec) - mean) / std
    return jnp.sum(mlp(params, g))


@partial(jax.jit, static_argnames="spec")
def energy_forces_virial(params, mean, std, x, idx, mask, lengths, spec: DescriptorSpec):
    """``(U, F (N, 3), W)`` [kJ/mol, kJ/mol/nm, kJ/mol] at positions ``x`` (N, 3)."""
    disp = displacements(x, idx, lengths)
    u, g = jax.value_and_grad(energy_of_displacements, argnums=3)(
        params, mean, std, disp, mask, spec
    )
    # d_Ik = x_idx[I,k] - x_I: dU/dx_I = -sum_k g_Ik + sum_{(J,k): idx[J,k] = I} g_Jk
    forces = jnp.sum(g, axis=1)
    forces = forces.at[idx.reshape(-1)].add(-g.reshape(-1, 3))
    virial = -jnp.sum(disp * g)
    return u, forces, virial


@dataclass(frozen=True)
class NetworkEnergy:
    """A trained (or initial) network energy with its descriptor settings and normalisation."""

    spec: DescriptorSpec
    params: Params
    mean: np.ndarray
    std: np.ndarray

    @classmethod
    def create(
        cls, spec: DescriptorSpec, hidden: tuple[int, ...] = (32, 32), seed: int = 0
    ) -> NetworkEnergy:
        """Fresh network (zero output) with unit normalisation."""
        if not hidden or min(hidden) < 1:
            raise CGInputError(f"hidden layer sizes must be >= 1, got {hidden}")
        return cls(spec, init_params(seed, spec.size, hidden), np.zeros(spec.size),
                   np.ones(spec.size))  # fmt: skip

    def evaluate(self, x: np.ndarray, idx: np.ndarray, mask: np.ndarray, lengths: np.ndarray):
        """``(U, F, W)`` as numpy/float at positions ``x`` with a padded neighbour table."""
        arrays = (self.mean, self.std, x, idx, mask, lengths)
        u, f, w = energy_forces_virial(self.params, *map(jnp.asarray, arrays), self.spec)
        return float(u), np.asarray(f), float(w)

    def save(self, path: str | Path) -> Path:
        """Write the network to an ``.npz`` file (atomically)."""
        s = self.spec
        arrays = {
            "spec": np.array([s.r_cut, s.n_radial, s.r_start, s.n_angular_radial, s.n_cos]),
            "mean": self.mean,
            "std": self.std,
            "n_layers": np.array(len(self.params)),
        }
        for k, (w, b) in enumerate(self.params):
            arrays[f"w{k}"], arrays[f"b{k}"] = np.asarray(w), np.asarray(b)
        path = Path(path)
        atomic_write_bytes(path, lambda fh: np.savez(fh, **arrays))
        return path

    @classmethod
    def load(cls, path: str | Path) -> NetworkEnergy:
        """Read a network written by :meth:`save`."""
        with np.load(path) as d:
            rc, nr, r0, na, nc = d["spec"]
            spec = DescriptorSpec(float(rc), int(nr), float(r0), int(na), int(nc))
            params = [(jnp.asarray(d[f"w{k}"]), jnp.asarray(d[f"b{k}"]))
                      for k in range(int(d["n_layers"]))]  # fmt: skip
            return cls(spec, params, d["mean"].copy(), d["std"].copy())
