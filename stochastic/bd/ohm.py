"""Ohm's law in the BD geometry: the continuum conductance and the Ohmic applied potential.

The electrolyte region open to ion centres of one species (membrane surface at the ion radius,
bath boundaries at the common bath contact distance, both widened by the soft wall's penetration
``sqrt(pi/(2 k_w))``) is discretised on a uniform (r, z) finite-volume grid; the Laplace
equation ``div(kappa grad phi) = 0`` with ``phi = V`` and 0 on the inner faces of the two
buffers (where the GCMC holds the electrochemical potentials) gives the resistance of that
species' channel; the conductance is the sum over species with ``kappa_s = (e^2 N_A/kT) z_s^2 D_s
c_s``. :func:`ohm_access` is the infinite-bath formula ``R = L/(kappa pi a^2) + 1/(2 kappa a)``
(Hall, J. Gen. Physiol. 66, 531 (1975)). :func:`fd_potential_grid` returns the Ohmic potential
as a :class:`~stochastic.bd.fields.GridField`: an applied field for BD that, unlike the
constant-field default, already has the access drop in the baths.

Second-order finite volumes on a uniform grid; the open region is a staircase of the cells whose
centre is open (good to a few per cent at ``h`` = 0.05-0.1 nm for nm-sized pores).
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
import scipy.sparse.linalg as spla

from poreflux import units
from stochastic.bd import kernels as K
from stochastic.bd.fields import GridField
from stochastic.bd.system import BDSystem

__all__ = ["fd_conductance_pS", "fd_potential_grid", "kappa_s", "ohm_access"]


def kappa_s(system: BDSystem) -> np.ndarray:
    """Conductivity contribution of each species [S/m]."""
    kt = units.K_B * system.temperature
    coef = units.E_CHARGE**2 * units.N_A / kt
    return coef * system.valences**2 * system.diffusions * 1e-9 * system.targets_mM


def ohm_access(kappa: float, length_nm: float, radius_nm: float) -> float:
    """Conductance [pS] of a cylinder plus the access resistance of both mouths."""
    a, ell = radius_nm * 1e-9, length_nm * 1e-9
    return 1e12 / (ell / (kappa * np.pi * a**2) + 1.0 / (2 * kappa * a))


def _open_mask(system: BDSystem, s: int, r: np.ndarray, z: np.ndarray) -> np.ndarray:
    m = system.compile()
    delta = np.sqrt(np.pi / (2 * system.wall_stiffness))
    a_s, a_b = system.radii[s], float(np.max(system.radii))
    mask = np.zeros((r.size, z.size), dtype=bool)
    for i, ri in enumerate(r):
        for j, zj in enumerate(z):
            dm = K.membrane_distance(ri, 0.0, zj, m.fp, m.pore_r)[0]
            db = K.bath_distance(ri, 0.0, zj, m.fp)[0]
            mask[i, j] = dm >= a_s - delta and db >= a_b - delta
    return mask


def fd_conductance_pS(system: BDSystem, h: float = 0.05) -> float:
    """Ohmic conductance [pS] between the buffers' inner faces, summed over species."""
    g = system.geometry
    z_e = g.z_max - g.buffer_length
    r = np.arange(h / 2, g.bath_radius, h)
    z = np.arange(-z_e + h / 2, z_e, h)
    total = 0.0
    for s, kap in enumerate(kappa_s(system)):
        total += kap * _unit_conductance(_open_mask(system, s, r, z), r, h)[0]
    return total * 1e-9 * 1e12  # lengths in nm: S/m * nm -> S; then pS


def fd_potential_grid(system: BDSystem, voltage_mV: float, h: float = 0.05) -> GridField:
    """The Ohmic potential [mV] on an (r, z) grid covering the BD box: ``V`` in the left buffer,
    0 in the right one, Laplace in between (geometry open to the mean ion radius). Closed cells
    (the membrane) take the value of the open cell nearest the axis-side at the same z."""
    g = system.geometry
    z_e = g.z_max - g.buffer_length
    r = np.arange(h / 2, g.bath_radius, h)
    z = np.arange(-z_e + h / 2, z_e, h)
    s_mean = int(np.argmin(np.abs(system.radii - system.radii.mean())))
    mask = _open_mask(system, s_mean, r, z)
    phi_open = _unit_conductance(mask, r, h)[1]
    phi = np.zeros(mask.shape)
    phi[mask] = phi_open
    for j in range(z.size):
        last = phi[0, j]
        for i in range(r.size):
            if mask[i, j]:
                last = phi[i, j]
            else:
                phi[i, j] = last
    r_nodes = np.arange(0.0, g.bath_radius + h, h)
    z_nodes = np.arange(-g.z_max - h, g.z_max + 1.5 * h, h)
    out = np.empty((r_nodes.size, z_nodes.size))
    zc = np.concatenate(([-g.z_max - 2 * h], z, [g.z_max + 2 * h]))
    for i, rn in enumerate(r_nodes):
        col = np.array([np.interp(rn, r, phi[:, j]) for j in range(z.size)])
        out[i] = np.interp(z_nodes, zc, np.concatenate(([1.0], col, [0.0])))
    return GridField((r_nodes, z_nodes), voltage_mV * out, "mV")


def _unit_conductance(mask: np.ndarray, r: np.ndarray, h: float) -> tuple[float, np.ndarray]:
    """Conductance [nm] of the open cells for kappa = 1 (phi = 1 at z_min, 0 at z_max) and the
    potential of the open cells."""
    nr, nz = mask.shape
    idx = -np.ones(mask.shape, dtype=int)
    idx[mask] = np.arange(mask.sum())
    rows, cols, vals = [], [], []
    rhs = np.zeros(mask.sum())
    diag = np.zeros(mask.sum())
    for i in range(nr):
        for j in range(nz):
            k = idx[i, j]
            if k < 0:
                continue
            # axial faces: area 2 pi r h, distance h; radial faces: area 2 pi r_face h
            for di, dj, area in (
                (0, 1, 2 * np.pi * r[i] * h),
                (0, -1, 2 * np.pi * r[i] * h),
                (1, 0, 2 * np.pi * (r[i] + h / 2) * h),
                (-1, 0, 2 * np.pi * (r[i] - h / 2) * h),
            ):
                ii, jj = i + di, j + dj
                c = area / h
                if 0 <= ii < nr and 0 <= jj < nz:
                    if idx[ii, jj] >= 0:
                        rows.append(k)
                        cols.append(idx[ii, jj])
                        vals.append(-c)
                        diag[k] += c
                elif dj != 0 and 0 <= ii < nr:  # Dirichlet face at half a cell
                    diag[k] += 2 * c
                    if jj < 0:
                        rhs[k] += 2 * c
    a = sp.csr_matrix(
        (vals + diag.tolist(), (rows + list(range(diag.size)), cols + list(range(diag.size))))
    )
    phi = spla.spsolve(a, rhs)
    # current leaving through the z_max face
    j_end = nz - 1
    cur = 0.0
    for i in range(nr):
        k = idx[i, j_end]
        if k >= 0:
            cur += 2 * (2 * np.pi * r[i] * h / h) * phi[k]
    return cur, phi
