"""Driving a GCMC/BD channel run: equilibration with ``mu_ex`` calibration, production in blocks,
atomic checkpoints that a rerun continues from.

One cycle = ``gcmc_every`` Ermak-McCammon steps (compiled, the normal variates drawn from a
``numpy.random.Generator`` so that the stream is checkpointed), one configuration sample for the
profiles, and ``gcmc_attempts`` buffer moves.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
from pathlib import Path

import numpy as np

from poreflux.files import atomic_write_bytes
from stochastic.bd import kernels as K
from stochastic.bd.gcmc import Buffers
from stochastic.bd.geometry import BDInputError
from stochastic.bd.observables import BDResult, Blocks, result_from_blocks
from stochastic.bd.state import IonState, initial_state
from stochastic.bd.system import BDSystem
from stochastic.langevin import InstabilityError, as_generator

__all__ = ["BDSimulation"]

CHECKPOINT = "state.npz"
#: Widom test insertions per species, buffer and cycle during the calibration
WIDOM_TESTS = 16


class BDSimulation:
    """A resumable GCMC/BD run of one :class:`BDSystem`.

    Parameters
    ----------
    system
        The channel system.
    seed
        Integer seed or ``numpy.random.Generator``.
    exchange
        ``"mixed"``, ``"salt"`` or ``"ions"`` (see :mod:`stochastic.bd.gcmc`); default
        ``"mixed"``, or ``"ions"`` for a system without ion-ion forces.
    positions, species
        Optional initial ions (``(n, 3)`` nm, species indices); default: baths at target.
    reference
        ``"buffer"`` (default), ``"zero"`` or ``"ends"``: the reservoir's potential (see
        :meth:`stochastic.bd.gcmc.Buffers.build`).
    gcmc_every
        BD steps per cycle.
    gcmc_attempts
        Buffer moves per cycle.
    bin_width
        Width of the z bins of the profiles [nm].
    """

    def __init__(
        self,
        system: BDSystem,
        seed: int | np.random.Generator,
        *,
        exchange: str | None = None,
        positions: np.ndarray | None = None,
        species: np.ndarray | None = None,
        reference: str = "buffer",
        gcmc_every: int = 10,
        gcmc_attempts: int = 10,
        bin_width: float = 0.1,
    ) -> None:
        if not isinstance(system, BDSystem):
            raise BDInputError("system must be a BDSystem")
        for name, v in (("gcmc_every", gcmc_every), ("gcmc_attempts", gcmc_attempts)):
            if isinstance(v, bool) or int(v) != v or v < (1 if name == "gcmc_every" else 0):
                raise BDInputError(f"{name} must be a non-negative integer (>= 1 for gcmc_every)")
        if not (math.isfinite(bin_width) and bin_width > 0):
            raise BDInputError(f"bin_width must be > 0 nm, got {bin_width!r}")
        self.system = system
        self.model = system.compile()
        self.rng = as_generator(seed)
        if exchange is None:
            exchange = "mixed" if system.interactions else "ions"
        self.exchange, self.reference = exchange, reference
        self.buffers = Buffers.build(system, self.model, exchange, reference)
        if positions is None:
            self.state = initial_state(system, self.rng)
        else:
            if species is None:
                raise BDInputError("give species indices together with positions")
            self.state = IonState.from_arrays(system, positions, species)
        self.gcmc_every, self.gcmc_attempts = int(gcmc_every), int(gcmc_attempts)
        zm = system.geometry.z_max
        nb = max(1, round(2 * zm / bin_width))
        self.z_edges = np.linspace(-zm, zm, nb + 1)
        self.blocks = Blocks()
        self.equilibrated_ns = 0.0
        self.clipped = 0
        self.cross = np.zeros(len(system.names))

    # ----------------------------------------------------------------------------- dynamics
    @property
    def cycle_ns(self) -> float:
        """Simulated time per cycle [ns]."""
        return self.gcmc_every * self.system.dt

    def _cycle(self, hist: np.ndarray | None, in_pore: np.ndarray | None) -> None:
        st, m = self.state, self.model
        noise = self.rng.standard_normal((self.gcmc_every, st.n, 3))
        self.clipped += K.advance_state(st, m, noise, self.cross)
        if not np.all(np.isfinite(st.z[: st.n])):
            raise InstabilityError(
                f"BD: non-finite positions; dt = {self.system.dt:g} ns is too large for the "
                "force field (close contacts or stiff walls): lower dt"
            )
        if hist is not None:
            zm = self.system.geometry.z_max
            inv_w = 1.0 / (self.z_edges[1] - self.z_edges[0])
            K.histogram(st.z, st.sp, st.n, -zm, inv_w, hist, m.fp[K.F_H], in_pore)
        self.buffers.cycle(st, m, self.rng, self.gcmc_attempts)

    def _n_cycles(self, time_ns: float) -> int:
        if not (math.isfinite(time_ns) and time_ns >= 0):
            raise BDInputError(f"simulation time must be >= 0 ns, got {time_ns!r}")
        return round(time_ns / self.cycle_ns)

    def equilibrate(
        self, time_ns: float, *, calibrate: bool = True, rounds: int = 12, progress: bool = False
    ) -> None:
        """Run ``time_ns`` without recording.

        With ``calibrate`` the buffers' ``mu_ex`` are set after each of ``rounds`` equal
        stretches from Widom test insertions into the buffers (``WIDOM_TESTS`` per species,
        buffer and cycle; :meth:`stochastic.bd.gcmc.Buffers.mu_from_widom`): in the first half
        from that round's Widom average (a fixed-point iteration; ``W`` depends on ``mu_ex``
        only through the weak density dependence of the excess chemical potential, so it
        converges in a few rounds), in the second half from the Widom sums pooled over all its
        rounds so far, so that the final ``mu_ex`` carries the sampling noise of half the
        equilibration, not of one round.
        """
        n = self._n_cycles(time_ns)
        per = max(1, n // max(1, rounds)) if calibrate else max(n, 1)
        bar = _bar(progress, n * self.cycle_ns, "BD equilibration")
        done, k_round, half = 0, 0, max(1, rounds // 2)
        pooled, pooled_n = np.zeros(self.buffers.u_ref.shape), 0
        while done < n:
            k = min(per, n - done)
            w = np.zeros(self.buffers.u_ref.shape)
            for _ in range(k):
                self._cycle(None, None)
                if calibrate:
                    w += self.buffers.widom(self.state, self.model, self.rng, WIDOM_TESTS)
            if calibrate:
                k_round += 1
                w_n = k
                if k_round > half:
                    pooled += w
                    pooled_n += k
                    w, w_n = pooled, pooled_n
                self.buffers.mu_ex = self.buffers.mu_from_widom(
                    w / (w_n * WIDOM_TESTS), self.system.valences
                )
            done += k
            self.equilibrated_ns += k * self.cycle_ns
            bar.update(k * self.cycle_ns)
        bar.close()
        self.cross[:] = 0.0

    def run(self, time_ns: float, *, block_ns: float, progress: bool = False, on_block=None):
        """Production: ``time_ns`` in blocks of ``block_ns`` (``mu_ex`` fixed); ``on_block``
        is called after every block (checkpointing)."""
        per = self._n_cycles(block_ns)
        if per < 1:
            raise BDInputError(f"block_ns = {block_ns!r} is shorter than one cycle")
        n_blocks = round(time_ns / (per * self.cycle_ns))
        ns, nb = len(self.system.names), self.z_edges.size - 1
        bar = _bar(progress, n_blocks * per * self.cycle_ns, "BD production")
        for _ in range(n_blocks):
            hist, in_pore, buf = np.zeros((ns, nb)), np.zeros(ns), np.zeros((ns, 2))
            self.cross[:] = 0.0
            for _ in range(per):
                self._cycle(hist, in_pore)
                buf += self.buffers.counts(self.state)
            b = self.blocks
            b.time_ns.append(per * self.cycle_ns)
            b.crossings.append(self.cross.copy())
            b.hist.append(hist)
            b.in_pore.append(in_pore)
            b.samples.append(per)
            b.buffer.append(buf)
            b.buffer_samples.append(per)
            bar.update(per * self.cycle_ns)
            if on_block is not None:
                on_block(self)
        bar.close()

    def result(self) -> BDResult:
        """Block estimates of the production run so far."""
        bf = self.buffers
        return result_from_blocks(
            self.system,
            self.blocks,
            self.z_edges,
            mu_ex=bf.mu_ex,
            acceptance=bf.accepted / max(bf.attempts, 1),
            clipped=self.clipped,
            buffer_volumes=bf.volumes,
        )

    # ----------------------------------------------------------------------------- checkpoints
    def fingerprint(self) -> str:
        """Hash of everything that defines the model (a checkpoint must match it)."""
        h = hashlib.sha256()
        m = self.model
        for arr in (m.fp, m.ip, m.table, m.dtab, m.pore_r, m.sq, m.sa, self.system.targets_mM):
            h.update(np.ascontiguousarray(arr).tobytes())
        h.update(
            repr(
                (
                    self.system.names,
                    self.exchange,
                    self.reference,
                    self.gcmc_every,
                    self.gcmc_attempts,
                    self.z_edges.size,
                )
            ).encode()
        )
        return h.hexdigest()

    def save(self, folder: str | os.PathLike) -> Path:
        """Write the full state atomically to ``folder/state.npz`` (a temporary file in the
        folder, fsynced, permissions from the umask, renamed over the old one:
        :func:`poreflux.files.atomic_write_bytes`); an interrupted write leaves the previous
        checkpoint intact."""
        folder = Path(folder)
        st, bf = self.state, self.buffers
        data = {
            "positions": st.positions(),
            "species": st.species_index(),
            "mu_ex": bf.mu_ex,
            "gcmc": np.array(
                [bf.attempts, bf.accepted, bf.transfers, bf.transferred, self.clipped]
            ),
            "equilibrated_ns": np.array(self.equilibrated_ns),
            "rng": np.frombuffer(pickle.dumps(self.rng.bit_generator.state), dtype=np.uint8),
            "fingerprint": np.array(self.fingerprint()),
            **{f"blocks_{k}": v for k, v in self.blocks.to_arrays().items()},
        }
        return atomic_write_bytes(folder / CHECKPOINT, lambda fh: np.savez(fh, **data))

    def restore(self, folder: str | os.PathLike) -> bool:
        """Load ``folder/state.npz`` if present (True); refuses a checkpoint of another model."""
        path = Path(folder) / CHECKPOINT
        if not path.exists():
            return False
        with np.load(path, allow_pickle=False) as d:
            if str(d["fingerprint"]) != self.fingerprint():
                raise BDInputError(
                    f"checkpoint {path} belongs to a different system or run settings; use "
                    "another folder or delete it"
                )
            self.state = IonState(self.system, capacity=2 * max(len(d["species"]), 32))
            for (px, py, pz), s in zip(d["positions"], d["species"], strict=True):
                self.state.add(int(s), px, py, pz)
            self.buffers.mu_ex = np.array(d["mu_ex"])
            bf = self.buffers
            bf.attempts, bf.accepted, bf.transfers, bf.transferred, self.clipped = (
                int(v) for v in d["gcmc"]
            )
            self.equilibrated_ns = float(d["equilibrated_ns"])
            self.rng.bit_generator.state = pickle.loads(d["rng"].tobytes())
            self.blocks = Blocks.from_arrays(
                {k[len("blocks_") :]: d[k] for k in d.files if k.startswith("blocks_")}
            )
        return True


def _bar(enabled: bool, total: float, desc: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="ns", disable=not enabled, mininterval=1.0)
