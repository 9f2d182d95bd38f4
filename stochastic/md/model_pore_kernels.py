"""numba kernels of the model pore (:mod:`stochastic.md.model_pore`): walls and binding site.

The model pore's force terms act on non-interacting ion copies (hundreds of umbrella walkers in
one system), so a step costs a few array operations per term in numpy; these loops do the same
arithmetic in one pass per term. Each kernel is the exact counterpart of a numpy expression that
the tests compare it with:

- :func:`cylinder_forces`: one :class:`~stochastic.md.confinement.CylindricalPore` (a membrane
  slab ``z_lo < z < z_hi`` pierced by a cylinder of radius ``R``: ``U = k/2 delta^2`` with
  ``delta = min(rho - R, z - z_lo, z_hi - z)`` where all three are positive, ties resolved in
  that order, as ``numpy.argmin`` does);
- :func:`site_forces`: the shifted-force LJ + screened-Coulomb interaction of the ions with the
  fixed site atoms (:class:`~stochastic.md.model_pore.SiteAtoms`).

All kernels are compiled with ``cache=True``: a second process loads them from numba's on-disk
cache instead of compiling them again. Units: nm, kJ/mol.
"""

from __future__ import annotations

import math

from numba import njit

__all__ = ["cylinder_forces", "site_forces"]


@njit(cache=True)
def _cylinder_delta(x, y, z, radius, z_lo, z_hi):  # pragma: no cover (compiled)
    """(delta, which, rho): penetration depth into a pierced slab (axis through ``x = y = 0``)
    and the wall it belongs to (0 radial, 1 lower face, 2 upper face; -1 outside the wall)."""
    rho = math.sqrt(x * x + y * y)
    d_rad = rho - radius
    d_lo = z - z_lo
    d_hi = z_hi - z
    if not (d_rad > 0.0 and d_lo > 0.0 and d_hi > 0.0):
        return 0.0, -1, rho
    if d_rad <= d_lo and d_rad <= d_hi:
        return d_rad, 0, rho
    if d_lo <= d_hi:
        return d_lo, 1, rho
    return d_hi, 2, rho


@njit(cache=True)
def cylinder_forces(
    pos, idx, cx, cy, radius, z_lo, z_hi, k, forces
):  # pragma: no cover (compiled)
    """Add the forces of one pierced slab (axis at ``(cx, cy)``) on particles ``idx`` to
    ``forces``; return the energy [kJ/mol]."""
    energy = 0.0
    for i in idx:
        x, y, z = pos[i, 0] - cx, pos[i, 1] - cy, pos[i, 2]
        delta, which, rho = _cylinder_delta(x, y, z, radius, z_lo, z_hi)
        if which < 0:
            continue
        energy += 0.5 * k * delta * delta
        if which == 0:
            if rho > 0.0:
                forces[i, 0] -= k * delta * x / rho
                forces[i, 1] -= k * delta * y / rho
        elif which == 1:
            forces[i, 2] -= k * delta
        else:
            forces[i, 2] += k * delta
    return energy


@njit(cache=True)
def _site_pair(r, sig, eps, qq, lam):  # pragma: no cover (compiled)
    """Unshifted ion-atom energy V(r) and dV/dr (LJ + screened Coulomb)."""
    sr6 = (sig / r) ** 6
    screen = math.exp(-r / lam)
    v = 4.0 * eps * (sr6 * sr6 - sr6) + qq * screen / r
    dv = -24.0 * eps * (2.0 * sr6 * sr6 - sr6) / r - qq * screen * (1.0 / r**2 + 1.0 / (lam * r))
    return v, dv


@njit(cache=True)
def site_forces(
    pos, idx, atoms, sig, eps, qq, v_rc, dv_rc, rc, lam, forces, energies
):  # pragma: no cover (compiled)
    """Shifted-force site interaction of particles ``idx`` (row ``j`` of the per-ion parameter
    arrays for ``idx[j]``): adds the forces to ``forces`` (skipped when it has no rows), writes
    each particle's energy to ``energies[j]`` and returns the total [kJ/mol]."""
    total = 0.0
    add_forces = forces.shape[0] > 0
    for j in range(idx.size):
        i = idx[j]
        e = 0.0
        fx = 0.0
        fy = 0.0
        fz = 0.0
        for s in range(atoms.shape[0]):
            dx = pos[i, 0] - atoms[s, 0]
            dy = pos[i, 1] - atoms[s, 1]
            dz = pos[i, 2] - atoms[s, 2]
            r2 = dx * dx + dy * dy + dz * dz
            if not r2 < rc * rc:
                continue
            r = math.sqrt(r2)
            if not r < rc:  # the definition's test, on r (rc^2 may round the other way)
                continue
            v, dv = _site_pair(r, sig[j], eps[j], qq[j], lam)
            e += v - v_rc[j] - (r - rc) * dv_rc[j]
            g = (dv - dv_rc[j]) / r
            fx -= g * dx
            fy -= g * dy
            fz -= g * dz
        energies[j] = e
        total += e
        if add_forces:
            forces[i, 0] += fx
            forces[i, 1] += fy
            forces[i, 2] += fz
    return total
