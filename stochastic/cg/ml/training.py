"""Force matching of the network energy on mapped reference forces (optax Adam).

Loss: ``L(theta) = < |F_ref - F_prior - F_theta|^2 > / <|F_ref|^2>`` over beads and a
mini-batch of frames (the MS-CG functional of Noid et al., J. Chem. Phys. 128, 244114 (2008),
with the network forces ``F_theta = -grad U_theta`` as the model; Wang et al., ACS Cent. Sci.
5, 755 (2019)). The prior forces (e.g. a short-range repulsion or the MS-CG pair force) are
computed once by :func:`pair_prior_forces`. A trailing fraction of the frames is held out and
its loss reported: a network that fits the training frames but not these is over-fitted.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

import jax
import jax.numpy as jnp
import numpy as np
import optax

from stochastic.cg.errors import CGInputError
from stochastic.cg.ml.descriptors import (
    DescriptorSpec,
    descriptors,
    displacements,
    neighbour_table,
)
from stochastic.cg.ml.model import NetworkEnergy, energy_forces_virial
from stochastic.cg.tabulated import PairTable, TabulatedPair
from stochastic.md.forcefield import ForceField
from stochastic.md.system import System

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainingResult:
    """The trained network and its force residuals (1 = no better than the prior alone... of
    the total force: ``<|F_ref - F_model|^2> / <|F_ref|^2>``) on training and held-out frames."""

    network: NetworkEnergy
    train_residual: float
    validation_residual: float
    prior_residual: float
    loss_history: np.ndarray


def pair_prior_forces(
    frames: np.ndarray, system: System, tables: Mapping[tuple[str, str], PairTable]
) -> np.ndarray:
    """Forces (F, N, 3) [kJ/mol/nm] of tabulated pair potentials on every frame."""
    ff = ForceField(system, [TabulatedPair(system, tables, name="prior")])
    return np.array([ff.compute(x).forces for x in np.asarray(frames, float)])


def _tables(frames: np.ndarray, lengths: np.ndarray, r_cut: float):
    need = max(int(neighbour_table(x, lengths, r_cut)[1].sum(1).max()) for x in frames)
    width = max(8, -(-need // 8) * 8)
    tabs = [neighbour_table(x, lengths, r_cut, width) for x in frames]
    return np.array([t[0] for t in tabs]), np.array([t[1] for t in tabs])


def _check(frames, forces, prior, lengths):
    x = np.asarray(frames, float)
    f = np.asarray(forces, float)
    p = np.zeros_like(f) if prior is None else np.asarray(prior, float)
    if x.ndim != 3 or x.shape[2] != 3 or f.shape != x.shape or p.shape != x.shape:
        raise CGInputError(
            f"frames, forces and prior forces must all be (F, N, 3), got {x.shape}, {f.shape}, "
            f"{p.shape}"
        )
    if len(x) < 2:
        raise CGInputError("need at least 2 frames (one is held out for validation)")
    for name, a in (("frames", x), ("forces", f), ("prior forces", p)):
        if not np.all(np.isfinite(a)):
            raise CGInputError(f"{name} contain NaN or inf: drop or fix those frames")
    if np.any(np.asarray(lengths) <= 0):
        raise CGInputError(f"box lengths must be > 0 nm, got {lengths}")
    return x, f, p


def train_force_matching(
    frames: np.ndarray,
    forces: np.ndarray,
    box_lengths: np.ndarray,
    spec: DescriptorSpec,
    prior_forces: np.ndarray | None = None,
    hidden: tuple[int, ...] = (32, 32),
    steps: int = 500,
    batch_frames: int = 4,
    learning_rate: float = 3e-3,
    validation_fraction: float = 0.2,
    seed: int = 0,
) -> TrainingResult:
    """Train a :class:`NetworkEnergy` on mapped forces minus prior forces.

    Parameters
    ----------
    frames, forces
        Mapped bead positions [nm] and forces [kJ/mol/nm], (F, N, 3).
    box_lengths
        Periodic box lengths [nm] (3,).
    spec
        Descriptor settings (cutoff, basis sizes).
    prior_forces
        Forces of the prior on the same frames (:func:`pair_prior_forces`); None = no prior.
    hidden
        Hidden layer widths of the per-bead MLP.
    steps, batch_frames, learning_rate
        Adam steps (cosine-decayed learning rate), frames per step.
    validation_fraction
        Trailing fraction of the frames held out (at least one frame).
    seed
        Seed of the weights and of the batch order.
    """
    lengths = np.asarray(box_lengths, float)
    x, f, p = _check(frames, forces, prior_forces, lengths)
    n_val = max(1, round(validation_fraction * len(x)))
    idx, mask = _tables(x, lengths, spec.r_cut)
    target = jnp.asarray(f - p)
    scale = float(np.mean(np.sum(f * f, axis=-1)))
    L = jnp.asarray(lengths)
    net = NetworkEnergy.create(spec, hidden, seed)
    g_all = jax.vmap(lambda xx, ii, mm: descriptors(displacements(xx, ii, L), mm, spec))(
        jnp.asarray(x[:-n_val]), jnp.asarray(idx[:-n_val]), jnp.asarray(mask[:-n_val])
    )
    g_all = np.asarray(g_all).reshape(-1, spec.size)
    net = replace(net, mean=g_all.mean(0), std=g_all.std(0) + 1e-3 * g_all.std(0).max() + 1e-12)
    mean, std = jnp.asarray(net.mean), jnp.asarray(net.std)

    def batch_loss(params, xb, ib, mb, tb):
        fb = jax.vmap(lambda xx, ii, mm: energy_forces_virial(params, mean, std, xx, ii, mm, L,
                                                              spec)[1])(xb, ib, mb)  # fmt: skip
        return jnp.mean(jnp.sum((fb - tb) ** 2, axis=-1)) / scale

    opt = optax.adam(optax.cosine_decay_schedule(learning_rate, steps))
    state = opt.init(net.params)

    @jax.jit
    def step(params, state, xb, ib, mb, tb):
        loss, grad = jax.value_and_grad(batch_loss)(params, xb, ib, mb, tb)
        upd, state = opt.update(grad, state, params)
        return optax.apply_updates(params, upd), state, loss

    rng = np.random.default_rng(seed)
    n_train = len(x) - n_val
    params, history = net.params, []
    xj, ij, mj = jnp.asarray(x), jnp.asarray(idx), jnp.asarray(mask)
    for _ in range(steps):
        b = rng.choice(n_train, size=min(batch_frames, n_train), replace=False)
        params, state, loss = step(params, state, xj[b], ij[b], mj[b], target[b])
        history.append(float(loss))
    net = replace(net, params=params)
    prior_res = float(np.mean(np.sum((f - p) ** 2, -1)) / scale)
    size = min(batch_frames, n_train)

    @jax.jit
    def frame_losses(xb, ib, mb, tb):
        fb = jax.vmap(lambda xx, ii, mm: energy_forces_virial(params, mean, std, xx, ii, mm, L,
                                                              spec)[1])(xb, ib, mb)  # fmt: skip
        return jnp.mean(jnp.sum((fb - tb) ** 2, axis=-1), axis=1) / scale

    def residual(sel):  # fixed chunk size: one compilation
        losses = []
        for k in range(0, len(sel), size):
            chunk = np.resize(sel[k : k + size], size)
            got = np.asarray(frame_losses(xj[chunk], ij[chunk], mj[chunk], target[chunk]))
            losses.extend(got[: min(size, len(sel) - k)])
        return float(np.mean(losses))

    tr, va = np.arange(n_train), np.arange(n_train, len(x))
    out = TrainingResult(net, residual(tr), residual(va), prior_res, np.array(history))
    log.info("ML-CG force matching: residual train %.4f, held-out %.4f (prior alone %.4f)",
             out.train_residual, out.validation_residual, out.prior_residual)  # fmt: skip
    return out
