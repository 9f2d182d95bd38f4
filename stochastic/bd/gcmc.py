"""Grand-canonical buffers at the far ends of the baths (GCMC/BD).

Following Im, Seefeld & Roux (Biophys. J. 79, 788 (2000)), a buffer region at each bath end
exchanges ions with a reservoir by Monte Carlo insertions and deletions (Adams, Mol. Phys. 29,
307 (1975); Frenkel & Smit, *Understanding Molecular Simulation*, 2nd ed., section 5.6) between
stretches of Brownian dynamics. A move acts on a *group* of ions (``nu_s`` ions of species s).
Insertion places each at a uniform random point of its species' buffer region (volume ``V_s``,
the part open to its centre); deletion removes ``nu_s`` ions chosen uniformly among the ``N_s``
in the region. Acceptance (detailed balance in the grand-canonical ensemble of the region)::

    insert: min(1, prod_s (A_s V_s)^nu_s N_s!/(N_s+nu_s)! exp(-dU))
    delete: min(1, prod_s N_s!/((N_s-nu_s)! (A_s V_s)^nu_s) exp(+U_group))

with the activity ``A_s = rho_s exp(mu_ex,s + u_ref,s)``: ``rho_s`` the target number density,
``mu_ex,s`` the excess chemical potential [kT] and ``u_ref,s = -ln <exp(-U_ext,s)>_buffer`` the
external energy of the buffer (the applied potential there), so that the reservoir's
electrochemical potential follows the bath potential and the target concentration holds in
both buffers at any voltage.

Electroneutrality. Three exchange schemes:

- ``exchange="salt"`` inserts and deletes neutral groups only (one cation with as many anions
  as neutralise it, e.g. K+ Cl-, Ca2+ 2 Cl-), and a quarter of the moves *transfer* one ion
  from one buffer to a random point of the other, with acceptance ``min(1, N_k/(N_k'+1)
  exp(u_ref,k' - u_ref,k - dU))`` (the deletion and insertion factors combined): the external
  circuit of the applied voltage, which lets the charge carried through the pore return. The
  total charge is conserved (zero). In a small system this canonical constraint on the charge
  biases the composition: where the pore or the membrane faces hold more of one species (the
  smaller cation gets closer to the walls), the baths are left with a few per cent of the other.
- ``exchange="ions"`` moves single ions: each buffer is an electrode at a fixed electrochemical
  potential per species; the total charge fluctuates, held near neutral by the Coulomb energy of
  any net charge (in baths of a few nm that is a weak restoring force, so single-species numbers
  fluctuate slowly).
- ``exchange="mixed"`` (default): neutral groups, single ions and transfers, each group chosen
  with equal probability. Its ensemble is that of ``"ions"`` (open in every species), and the
  neutral moves and transfers make the neutral composition and the inter-bath charge relax fast.

``mu_ex`` starts from the Debye-Hückel limit with the contact distance and is calibrated during
equilibration by Widom test insertions into the buffers (:meth:`Buffers.widom`); the production
run keeps it fixed (detailed balance). The potential distribution theorem of the
grand-canonical region (Widom, J. Chem. Phys. 39, 2808 (1963); Frenkel & Smit, section 7.2) is
exact for any activity::

    <N_s>_k / V_s = A_s,k <exp(-U_test)>_k         (test ion of species s, uniform in buffer k)

so ``mu_ex,s = -ln W_s,k - u_ref,s,k`` with ``W`` the measured Widom average holds the target
``rho_s`` in buffer k; the two buffers are averaged. ``W`` depends on the concentration only
through the weak density dependence of the excess chemical potential, so a measured ``W`` pins
``mu_ex`` far more precisely than the buffers' ion counts would (an earlier count-based
Robbins-Monro calibration left ``mu_ex`` with the counting noise of its last rounds, 1-3 % of
the concentration at a few ns, an offset the production's block errors do not include).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from stochastic.bd import kernels as K
from stochastic.bd.geometry import BDInputError
from stochastic.bd.state import IonState
from stochastic.bd.system import MM_TO_PER_NM3, BDSystem, KernelModel

__all__ = ["Buffers", "debye_huckel_mu_ex", "neutral_groups"]

#: the packing fraction of the ions above which a target is refused (the buffer cannot reach it)
MAX_PACKING = 0.3
#: share of the moves that carry an ion from one buffer to the other (``exchange="salt"``)
TRANSFER_FRACTION = 0.25
#: fewest ions a buffer must hold on average at its target
MIN_BUFFER_IONS = 1.0


def debye_huckel_mu_ex(system: BDSystem) -> np.ndarray:
    """Excess chemical potential [kT] per species: ``-q^2 l_B kappa / (2 (1 + kappa sigma))``.

    ``kappa^2 = 4 pi l_B sum q_s^2 rho_s``; ``sigma`` = the species' radius plus the
    concentration-weighted mean radius of the counter-ions (extended Debye-Hückel). Zero for a
    system without ion-ion forces.
    """
    lb, q, a = system.bjerrum_nm, system.valences, system.radii
    if not system.interactions:
        return np.zeros(q.size)  # an ideal solution
    rho = system.targets_mM * MM_TO_PER_NM3
    kappa = math.sqrt(4 * math.pi * lb * float(np.sum(q**2 * rho)))
    out = np.empty(q.size)
    for s in range(q.size):
        counter = np.sign(q) != np.sign(q[s])
        w = rho * counter
        sigma = a[s] + (float(np.sum(w * a) / np.sum(w)) if np.sum(w) > 0 else a[s])
        out[s] = -(q[s] ** 2) * lb * kappa / (2 * (1 + kappa * sigma))
    return out


def neutral_groups(system: BDSystem) -> list[np.ndarray]:
    """Neutral groups (counts per species) that compose the electrolyte, cation by cation."""
    q = system.valences.astype(int)
    c = system.targets_mM.copy()
    groups = []
    anions = [s for s in range(q.size) if q[s] < 0 and c[s] > 0]
    for s in (s for s in range(q.size) if q[s] > 0 and c[s] > 0):
        for t in anions:
            if c[s] <= 0 or c[t] <= 0:
                continue
            g = math.gcd(q[s], -q[t])
            nu = np.zeros(q.size, dtype=int)
            nu[s], nu[t] = -q[t] // g, q[s] // g
            groups.append(nu)
            take = min(c[s] / nu[s], c[t] / nu[t])
            c[s] -= take * nu[s]
            c[t] -= take * nu[t]
    return groups


@dataclass
class Buffers:
    """The two buffer regions of a system and the move bookkeeping.

    ``regions[s, k] = (z_lo, z_hi, r_max)`` for species s and side k (0 left, 1 right);
    ``volumes[s]`` [nm^3]; ``u_ref[s, k]`` [kT]; ``mu_ex[s]`` [kT].
    """

    regions: np.ndarray
    volumes: np.ndarray
    rho: np.ndarray
    u_ref: np.ndarray
    mu_ex: np.ndarray
    groups: list[np.ndarray]
    transfer_fraction: float = 0.0
    attempts: int = 0
    accepted: int = 0
    transfers: int = 0
    transferred: int = 0
    _labels: np.ndarray | None = None

    @classmethod
    def build(
        cls,
        system: BDSystem,
        model: KernelModel,
        exchange: str = "mixed",
        reference: str = "buffer",
    ) -> Buffers:
        """Regions, volumes, reference energies and the Debye-Hückel start of ``mu_ex``.

        ``reference="buffer"``: ``u_ref`` is the external energy of the buffer (the reservoir
        follows the applied potential there); ``"zero"``: ``u_ref = 0``, a reservoir at zero
        potential, for an external field that is the *unscreened* potential of fixed charges
        (the ions screen it, so the buffer's true potential is ~0, not the bare field's);
        ``"ends"``: ``u_ref`` is the external energy on the bath's end face (the contact plane
        ``|z| = z_max - a``), where a finite-element field with Dirichlet ends takes the
        electrodes' potentials: the reservoir of each bath sits at its electrode's potential
        (the applied voltage) while the unscreened field of fixed charges, which the
        Dirichlet ends pin to zero there, does not shift it.
        """
        g = system.geometry
        ns = len(system.names)
        a_bath = float(np.max(system.radii))  # every species meets the bath walls there
        regions = np.array([[g.buffer_region(side, a_bath) for side in (-1, 1)]] * ns)
        volumes = np.full(ns, g.buffer_volume(a_bath))
        rho = system.targets_mM * MM_TO_PER_NM3
        _check_reachable(system, volumes, rho)
        if reference == "buffer":
            u_ref = np.array(
                [[_reference_energy(model, s, regions[s, k]) for k in range(2)] for s in range(ns)]
            )
        elif reference == "zero":
            u_ref = np.zeros((ns, 2))
        elif reference == "ends":
            u_ref = np.array(
                [[_end_energy(model, s, g, side, a_bath) for side in (-1, 1)] for s in range(ns)]
            )
        else:
            raise BDInputError(
                f"reference must be 'buffer', 'zero' or 'ends', got {reference!r}"
            )
        singles = [np.eye(ns, dtype=int)[s] for s in range(ns) if rho[s] > 0]
        if exchange == "ions":
            groups = singles
        elif exchange == "salt":
            groups = neutral_groups(system)
        elif exchange == "mixed":
            groups = neutral_groups(system) + singles
        else:
            raise BDInputError(f"exchange must be 'mixed', 'salt' or 'ions', got {exchange!r}")
        transfer = 0.0 if exchange == "ions" else TRANSFER_FRACTION
        return cls(regions, volumes, rho, u_ref, debye_huckel_mu_ex(system), groups, transfer)

    def labels(self, st: IonState) -> np.ndarray:
        """Per ion: ``2 s + k`` if it is in buffer ``k`` of its species ``s``, else -1."""
        out = np.empty(st.n, dtype=np.int64)
        K.buffer_labels(st.x, st.y, st.z, st.sp, st.n, self.regions, out)
        return out

    def members(self, st: IonState, s: int, k: int) -> np.ndarray:
        """Indices of the ions of species ``s`` in buffer ``k``."""
        if self._labels is None or self._labels.size != st.n:
            self._labels = self.labels(st)  # (the moves keep it up to date within a cycle)
        return np.flatnonzero(self._labels == 2 * s + k)

    def counts(self, st: IonState) -> np.ndarray:
        """``N[s, k]``: ions of species s in buffer k."""
        lab = self.labels(st)
        return np.bincount(lab[lab >= 0], minlength=2 * self.volumes.size).reshape(-1, 2)

    def widom(
        self, st: IonState, model: KernelModel, rng: np.random.Generator, n: int
    ) -> np.ndarray:
        """``W[s, k]``: sums of ``exp(-U)`` over ``n`` test insertions of species s uniform in
        buffer k (the configuration is left unchanged)."""
        ns = self.volumes.size
        out = np.zeros((ns, 2))
        for s in range(ns):
            if self.rho[s] == 0:
                continue
            for k in range(2):
                z_lo, z_hi, r_max = self.regions[s, k]
                rr, ph = r_max * np.sqrt(rng.random(n)), 2 * np.pi * rng.random(n)
                out[s, k] = K.widom_sum(
                    rr * np.cos(ph), rr * np.sin(ph), rng.uniform(z_lo, z_hi, n), s,
                    st.x, st.y, st.z, st.q, st.a, st.n,
                    model.fp, model.ip, model.table, model.pore_r, model.sq, model.sa,
                )  # fmt: skip
        return out

    def mu_from_widom(self, w_mean: np.ndarray, valences: np.ndarray) -> np.ndarray:
        """``mu_ex`` [kT] that holds the targets given mean Widom factors ``w_mean[s, k]``.

        ``m_s = mean_k(-ln W_s,k - u_ref,s,k)`` sets the neutral (salt) combinations of
        ``mu_ex``; its charge mode (a shift ``q_s psi``, which the system absorbs by charging
        until its potential moves by ``psi``) is kept from the current ``mu_ex``:
        ``mu_new = m + q psi`` with ``sum_s rho_s q_s (mu_new - mu_ex)_s = 0``. Measured, the
        charge mode of ``m`` is a potential, not a concentration, and iterating it does not
        converge where the Coulomb energy pins the charge (a stiff mode that random-walks with
        the sampling noise of ``W``). Species without a target or with ``W = 0`` keep their
        value.
        """
        q = np.asarray(valences, dtype=float)
        ok = (self.rho > 0) & np.all(w_mean > 0, axis=1)
        if not np.any(ok):
            return self.mu_ex.copy()
        m = self.mu_ex.copy()
        m[ok] = np.mean(-np.log(w_mean[ok]) - self.u_ref[ok], axis=1)
        wq = self.rho * q * ok
        den = float(np.sum(wq * q))
        psi = float(np.sum(wq * (self.mu_ex - m))) / den if den > 0 else 0.0
        out = self.mu_ex.copy()
        out[ok] = m[ok] + q[ok] * psi
        return out

    def log_activity_volume(self, s: int, k: int) -> float:
        """``ln(A_s V_s)`` for buffer ``k``."""
        return (
            math.log(self.rho[s] * self.volumes[s]) + self.mu_ex[s] + self.u_ref[s, k]
            if self.rho[s] > 0
            else -math.inf
        )

    def cycle(self, st: IonState, model: KernelModel, rng: np.random.Generator, n: int) -> None:
        """``n`` attempts, each in a random buffer: a transfer (with probability
        ``transfer_fraction``) or an insertion/deletion of a random group."""
        self._labels = self.labels(st)
        for _ in range(n):
            k = int(rng.integers(2))
            if rng.random() < self.transfer_fraction:
                self.transfers += 1
                self.transferred += self._transfer(st, model, rng, k)
                continue
            nu = self.groups[int(rng.integers(len(self.groups)))]
            self.attempts += 1
            move = self._insert if rng.random() < 0.5 else self._delete
            self.accepted += move(st, model, rng, nu, k)

    def _insert(self, st, model, rng, nu, k) -> bool:
        log_acc = 0.0
        d_u = 0.0
        n0 = st.n
        counts = {s: self.members(st, s, k).size for s in np.flatnonzero(nu)}
        for s in np.flatnonzero(nu):
            z_lo, z_hi, r_max = self.regions[s, k]
            for m in range(nu[s]):
                rr, ph = r_max * math.sqrt(rng.random()), 2 * math.pi * rng.random()
                p = (rr * math.cos(ph), rr * math.sin(ph), rng.uniform(z_lo, z_hi))
                d_u += _energy(st, model, int(s), p, skip=-1)
                st.add(int(s), *p)
                log_acc += self.log_activity_volume(s, k) - math.log(counts[s] + m + 1)
        if math.log(rng.random() + 1e-300) < log_acc - d_u:
            added = np.repeat(2 * np.arange(nu.size) + k, nu)
            self._labels = np.concatenate((self._labels, added))
            return True
        st.n = n0
        return False

    def _transfer(self, st, model, rng, k) -> bool:
        """Move a random ion of a random species from buffer ``k`` to a random point of the
        other buffer (the external circuit carrying charge between the baths)."""
        s = int(rng.integers(self.volumes.size))
        mem = self.members(st, s, k)
        if mem.size == 0 or self.rho[s] == 0:
            return False
        i = int(mem[rng.integers(mem.size)])
        other = 1 - k
        n_other = self.members(st, s, other).size
        z_lo, z_hi, r_max = self.regions[s, other]
        rr, ph = r_max * math.sqrt(rng.random()), 2 * math.pi * rng.random()
        p = (rr * math.cos(ph), rr * math.sin(ph), rng.uniform(z_lo, z_hi))
        old = (st.x[i], st.y[i], st.z[i])
        d_u = _energy(st, model, s, p, skip=i) - _energy(st, model, s, old, skip=i)
        log_acc = math.log(mem.size / (n_other + 1)) + self.u_ref[s, other] - self.u_ref[s, k]
        if math.log(rng.random() + 1e-300) < log_acc - d_u:
            st.x[i], st.y[i], st.z[i] = p
            self._labels[i] = 2 * s + other
            return True
        return False

    def _delete(self, st, model, rng, nu, k) -> bool:
        chosen, log_acc = [], 0.0
        for s in np.flatnonzero(nu):
            mem = self.members(st, s, k)
            if mem.size < nu[s]:
                return False
            chosen.extend(rng.choice(mem, size=nu[s], replace=False).tolist())
            for m in range(nu[s]):
                log_acc += math.log(mem.size - m) - self.log_activity_volume(s, k)
        u_group = 0.0
        for idx, i in enumerate(chosen):
            u_group += _energy(st, model, int(st.sp[i]), (st.x[i], st.y[i], st.z[i]), skip=i)
            for j in chosen[:idx]:  # pairs inside the group were counted twice
                u_group -= _pair(st, i, j, model.fp[K.F_LB])
        if math.log(rng.random() + 1e-300) < log_acc + u_group:
            lab = self._labels
            for i in sorted(chosen, reverse=True):
                st.remove(i)
                lab[i] = lab[st.n]
            self._labels = lab[: st.n]
            return True
        return False


def _energy(st: IonState, model: KernelModel, s: int, p, skip: int) -> float:
    return K.ion_energy(
        p[0],
        p[1],
        p[2],
        s,
        st.x,
        st.y,
        st.z,
        st.q,
        st.a,
        st.n,
        skip,
        model.fp,
        model.ip,
        model.table,
        model.pore_r,
        model.sq,
        model.sa,
    )


def _pair(st: IonState, i: int, j: int, lb: float) -> float:
    r = math.dist((st.x[i], st.y[i], st.z[i]), (st.x[j], st.y[j], st.z[j]))
    qq, sig = st.q[i] * st.q[j], st.a[i] + st.a[j]
    return lb * (qq / r + abs(qq) * sig**8 / (9 * r**9))


def _reference_energy(model: KernelModel, s: int, region: np.ndarray, n: int = 4096) -> float:
    """``-ln <exp(-U_ext)>`` over the buffer region (fixed quasi-random points)."""
    z_lo, z_hi, r_max = region
    rng = np.random.default_rng(12345)
    rr, ph = r_max * np.sqrt(rng.random(n)), 2 * np.pi * rng.random(n)
    u = model.external_energy(s, rr * np.cos(ph), rr * np.sin(ph), rng.uniform(z_lo, z_hi, n))
    m = float(np.min(u))
    return m - math.log(float(np.mean(np.exp(-(u - m)))))


def _end_energy(model: KernelModel, s: int, g, side: int, a: float, n: int = 1024) -> float:
    """``-ln <exp(-U_ext)>`` over the contact plane ``z = side (z_max - a)`` of a bath end."""
    z = side * (g.z_max - a)
    region = np.array([z, z, g.bath_radius - a])
    return _reference_energy(model, s, region, n)


def _check_reachable(system: BDSystem, volumes: np.ndarray, rho: np.ndarray) -> None:
    packing = float(np.sum(rho * 4.0 / 3.0 * math.pi * system.radii**3))
    if packing > MAX_PACKING:
        raise BDInputError(
            f"the bath targets fill {packing:.0%} of the volume with ions (> {MAX_PACKING:.0%}): "
            "the buffers cannot reach them; lower the concentrations"
        )
    for name, v, r in zip(system.names, volumes, rho, strict=True):
        if 0 < r * v < MIN_BUFFER_IONS:
            raise BDInputError(
                f"a buffer holds only {r * v:.2g} {name} ions on average at the target: it cannot "
                f"keep that concentration; lengthen buffer_length or widen the bath "
                f"(needs >= {MIN_BUFFER_IONS:g} ion)"
            )
