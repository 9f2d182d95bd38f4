"""Observables of a BD channel run, block-averaged: currents, conductance, profiles, occupancy.

A run is cut into blocks of equal simulated time; each block stores raw sums (:class:`Blocks`).
An estimate is the mean over blocks and its standard error ``std(ddof=1)/sqrt(n_blocks)``
(Flyvbjerg & Petersen, J. Chem. Phys. 91, 461 (1989): valid when a block is longer than the
correlation time; replicas add independent blocks).

Current of species s: ``I_s = q_s e (N_+ - N_-)/(n_planes T)``, the net number of crossings of
``n_planes`` planes in the pore (left to right positive) per time; ``1 e/ns`` = 160.2 pA.
Conductance ``G = I/V`` [pS] (``V`` left minus right). Occupancy ``n_s(z)`` [1/nm]: mean number
of ions per unit length; concentration ``c_s(z) = n_s(z) / (pi r_open(z)^2)`` in mM with
``r_open`` the radius open to the ion's centre (pore or bath radius minus the ionic radius,
rims of the pore mouths ignored), widened by the soft wall's penetration (:func:`open_area`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from poreflux import units
from stochastic.bd.system import MM_TO_PER_NM3, BDSystem

__all__ = ["E_PER_NS_TO_PA", "BDResult", "Blocks", "block_stats", "combine"]

#: current [pA] of one elementary charge per ns
E_PER_NS_TO_PA: float = units.E_CHARGE / units.NS / units.PA


@dataclass
class Blocks:
    """Raw per-block sums: one row per block."""

    time_ns: list[float] = field(default_factory=list)
    crossings: list[np.ndarray] = field(default_factory=list)  # (ns,) summed over planes
    hist: list[np.ndarray] = field(default_factory=list)  # (ns, nbins) ion counts
    in_pore: list[np.ndarray] = field(default_factory=list)  # (ns,) ion counts
    samples: list[int] = field(default_factory=list)  # configurations sampled
    buffer: list[np.ndarray] = field(default_factory=list)  # (ns, 2) ion counts
    buffer_samples: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.time_ns)

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Stacked arrays (for checkpoints)."""
        return {k: np.asarray(v, dtype=float) for k, v in asdict(self).items()}

    @classmethod
    def from_arrays(cls, data: dict[str, np.ndarray]) -> Blocks:
        """Inverse of :meth:`to_arrays`."""
        b = cls()
        for k in asdict(b):
            arr = np.asarray(data[k])
            setattr(b, k, [float(v) if arr.ndim == 1 else np.array(v) for v in arr])
        b.samples = [int(v) for v in b.samples]
        b.buffer_samples = [int(v) for v in b.buffer_samples]
        return b

    def extend(self, other: Blocks) -> None:
        """Append the blocks of another (independent) run."""
        for k in asdict(self):
            getattr(self, k).extend(getattr(other, k))


def block_stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean over axis 0 and its standard error (NaN with fewer than two blocks)."""
    v = np.asarray(values, dtype=float)
    mean = v.mean(axis=0)
    if v.shape[0] < 2:
        return mean, np.full_like(mean, np.nan)
    return mean, v.std(axis=0, ddof=1) / np.sqrt(v.shape[0])


@dataclass(frozen=True, eq=False)
class BDResult:
    """Estimates with standard errors (``*_err``) from the blocks of one or more runs."""

    names: tuple[str, ...]
    voltage_mV: float
    current_pA: np.ndarray
    current_err: np.ndarray
    total_current_pA: float
    total_current_err: float
    conductance_pS: float
    conductance_err: float
    z: np.ndarray
    occupancy: np.ndarray
    occupancy_err: np.ndarray
    concentration_mM: np.ndarray
    concentration_err: np.ndarray
    pore_ions: np.ndarray
    pore_ions_err: np.ndarray
    buffer_mM: np.ndarray
    buffer_err: np.ndarray
    target_mM: np.ndarray
    mu_ex: np.ndarray
    n_blocks: int
    time_ns: float
    acceptance: float
    clipped: int
    blocks: Blocks

    def summary(self) -> str:
        """A short table of the estimates."""
        lines = [f"BD: {self.n_blocks} blocks, {self.time_ns:g} ns, V = {self.voltage_mV:g} mV"]
        for s, name in enumerate(self.names):
            lines.append(
                f"  {name:>5}: I = {self.current_pA[s]:9.3f} +- {self.current_err[s]:.3f} pA, "
                f"<N_pore> = {self.pore_ions[s]:.3f} +- {self.pore_ions_err[s]:.3f}, buffers "
                f"{self.buffer_mM[s, 0]:.1f}/{self.buffer_mM[s, 1]:.1f} mM "
                f"(target {self.target_mM[s]:g})"
            )
        lines.append(
            f"  total I = {self.total_current_pA:.3f} +- {self.total_current_err:.3f} pA, "
            f"G = {self.conductance_pS:.1f} +- {self.conductance_err:.1f} pS"
        )
        return "\n".join(lines)


def result_from_blocks(
    system: BDSystem,
    blocks: Blocks,
    z_edges: np.ndarray,
    *,
    mu_ex: np.ndarray,
    acceptance: float,
    clipped: int,
    buffer_volumes: np.ndarray,
) -> BDResult:
    """Turn raw block sums into a :class:`BDResult`."""
    if len(blocks) == 0:
        raise ValueError("no production blocks yet: run the simulation first")
    t = np.asarray(blocks.time_ns)
    q = system.valences
    rate = np.asarray(blocks.crossings) / (system.n_planes * t[:, None])  # ions/ns
    cur = rate * q * E_PER_NS_TO_PA
    i_s, i_err = block_stats(cur)
    i_tot, i_tot_err = block_stats(cur.sum(axis=1))
    v = system.field.voltage_mV
    g, g_err = (1e3 * i_tot / v, 1e3 * i_tot_err / abs(v)) if v else (np.nan, np.nan)
    width = np.diff(z_edges)
    zc = 0.5 * (z_edges[1:] + z_edges[:-1])
    samples = np.asarray(blocks.samples, dtype=float)
    occ = np.asarray(blocks.hist) / samples[:, None, None] / width
    occ_m, occ_e = block_stats(occ)
    area = np.array([open_area(system, zc, a) for a in system.radii])
    with np.errstate(divide="ignore", invalid="ignore"):
        conv = np.where(area > 0, 1.0 / (area * MM_TO_PER_NM3), np.nan)
    pore_m, pore_e = block_stats(np.asarray(blocks.in_pore) / samples[:, None])
    bs = np.asarray(blocks.buffer_samples, dtype=float)
    buf = np.asarray(blocks.buffer) / bs[:, None, None]
    buf = buf / (buffer_volumes[None, :, None] * MM_TO_PER_NM3)
    buf_m, buf_e = block_stats(buf)
    return BDResult(
        names=system.names,
        voltage_mV=v,
        current_pA=i_s,
        current_err=i_err,
        total_current_pA=float(i_tot),
        total_current_err=float(i_tot_err),
        conductance_pS=float(g),
        conductance_err=float(g_err),
        z=zc,
        occupancy=occ_m,
        occupancy_err=occ_e,
        concentration_mM=occ_m * conv,
        concentration_err=occ_e * conv,
        pore_ions=pore_m,
        pore_ions_err=pore_e,
        buffer_mM=buf_m,
        buffer_err=buf_e,
        target_mM=system.targets_mM,
        mu_ex=np.asarray(mu_ex, dtype=float),
        n_blocks=len(blocks),
        time_ns=float(t.sum()),
        acceptance=float(acceptance),
        clipped=int(clipped),
        blocks=blocks,
    )


def open_area(system: BDSystem, z: np.ndarray, ion_radius: float) -> np.ndarray:
    """Cross-section [nm^2] open to a centre at ``z``, with the soft wall's penetration.

    ``A = pi (r_o^2 + 2 r_o delta + 2/k_w)``, ``delta = sqrt(pi/(2 k_w))``: the integral of the
    Boltzmann factor of the harmonic wall ``(k_w/2)(a - d)^2`` over a disc of open radius
    ``r_o`` (flat-wall approximation of the penetration layer).
    """
    r_o = system.geometry.open_radius(z, ion_radius, float(np.max(system.radii)))
    k = system.wall_stiffness
    return np.where(r_o > 0, np.pi * (r_o**2 + 2 * r_o * np.sqrt(np.pi / (2 * k)) + 2 / k), 0.0)


def combine(system: BDSystem, results: list[BDResult], **kw) -> BDResult:
    """Pool the blocks of independent replicas into one estimate."""
    if not results:
        raise ValueError("no results to combine")
    pooled = Blocks()
    for r in results:
        pooled.extend(r.blocks)
    edges = np.concatenate(
        (
            [results[0].z[0] - 0.5 * np.diff(results[0].z)[0]],
            results[0].z + 0.5 * np.diff(results[0].z)[0],
        )
    )
    return result_from_blocks(
        system,
        pooled,
        edges,
        mu_ex=np.mean([r.mu_ex for r in results], axis=0),
        acceptance=float(np.mean([r.acceptance for r in results])),
        clipped=sum(r.clipped for r in results),
        buffer_volumes=kw.get("buffer_volumes", _volumes(system)),
    )


def _volumes(system: BDSystem) -> np.ndarray:
    return np.full(len(system.names), system.geometry.buffer_volume(float(np.max(system.radii))))
