"""A model ion channel for the particle-MD core: a cylindrical pore with a cage-like binding site.

The model (all lengths in nm, energies in kJ/mol, charges in e)
-------------------------------------------------------------
- **Membrane and pore.** A membrane slab ``-L/2 < z < L/2`` pierced by a cylinder of radius ``R``
  about the z axis (:class:`~stochastic.md.confinement.CylindricalPore`, soft harmonic walls of
  stiffness ``wall_k``). ``R`` is the radius *accessible to ion centres*. PNP treats ions as point
  charges, so this is the radius of the matching continuum pore
  (``pnp.hierarchy.channel_geometry(pore)`` gives ``meshes.channel.cylindrical_pore(R, L)``,
  membrane centred at ``z = 0`` as in :mod:`meshes.channel`; this module never imports meshes).
- **Baths.** Above and below the membrane the ion moves in a cylinder of radius ``bath_radius``
  (a second :class:`~stochastic.md.confinement.CylindricalPore` spanning all z). This is the usual
  cylindrical restraint of channel PMF calculations (Allen, Andersen & Roux, PNAS 103, 117
  (2006)): it keeps lateral sampling finite. The bath PMF is then relative to a disc of area
  ~``pi bath_radius^2``; converting to a standard state (``1/(c0 * area)``) is an additive constant
  that cancels in ion-to-ion comparisons at equal ``bath_radius``.
- **Binding site.** Fixed "carbonyl oxygen" atoms in the pore wall (:class:`BindingSite`): two
  rings of ``n_per_ring`` atoms at radius ``ring_radius``, at ``z_site +- ring_separation/2``,
  the second ring rotated by half the angular spacing (an 8-fold cage like one site of a
  selectivity filter). Each atom carries the CHARMM22 carbonyl-oxygen charge (-0.51 e) and LJ
  parameters (type O: ``Rmin/2 = 1.70 A``, ``eps = 0.12 kcal/mol`` -> ``sigma = 0.3029 nm``,
  ``eps = 0.502 kJ/mol``; MacKerell et al., J. Phys. Chem. B 102, 3586 (1998)). The ion interacts
  with them by Lennard-Jones (Lorentz-Berthelot mixing) and by a Coulomb interaction screened by
  the implicit electrolyte (relative permittivity ``eps_r`` and Debye-Hueckel factor
  ``exp(-r/lambda_D)``), both shifted-force truncated at ``cutoff`` (:class:`SiteAtoms`) so that
  the PMF is exactly flat in the bath beyond it.
- **Ions.** One K+ or Na+ analogue (charge +1, Joung & Cheatham SPC/E-compatible LJ parameters,
  J. Phys. Chem. B 112, 9020 (2008): K+ ``sigma = 0.283840 nm, eps = 1.79789 kJ/mol``; Na+
  ``sigma = 0.215954 nm, eps = 1.47544 kJ/mol``; masses from :mod:`poreflux.species`) in implicit
  solvent: Langevin dynamics whose collision rate is chosen by Einstein's relation
  ``gamma = kT / (m D)`` so that the bulk diffusion coefficient is the species' D from
  :mod:`poreflux.species` (Stokes-Einstein scaled to the temperature by
  :func:`poreflux.species.diffusion_at`).

Selectivity is not put in by hand: both ions see the same site; their well depths differ only
through their LJ size and depth (the Coulomb energy on the axis is the same for both, and the pore
confines both centres to the same radius). With the defaults the cage (ion-oxygen distance 0.30
nm at the site centre) fits Na+ snugly (Na-O LJ minimum at 0.291 nm) and squeezes K+ (K-O
minimum at 0.329 nm), so Na+ binds more strongly; a wider cage (``ring_radius`` ~0.32 nm,
ion-oxygen 0.335 nm) turns the on-axis LJ preference towards K+. What the model lacks:
explicit water, hence dehydration (Born) penalties and the structure of the pore water; the site
atoms do not move.

Several copies of the ion may be put in one system (``n_copies``): they do not interact with each
other (no ion-ion term exists), so they are independent walkers of the same one-ion model, used by
:class:`stochastic.pmf.md_sampler.MDSampler` to sample cheaply.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from poreflux.species import diffusion_at, get_species
from poreflux.units import COULOMB_KJ_NM
from stochastic.md.confinement import CylindricalPore
from stochastic.md.errors import MDInputError
from stochastic.md.model_pore_kernels import cylinder_forces, site_forces
from stochastic.md.neighbors import NeighborList
from stochastic.md.system import KB_KJ_PER_MOL_K, ParticleType, System

__all__ = [
    "ION_ANALOGUES",
    "BindingSite",
    "CompiledPore",
    "IonModel",
    "ModelPore",
    "PoreSystem",
    "SiteAtoms",
    "accessible_area",
    "ion_model",
]


@dataclass(frozen=True)
class IonModel:
    """LJ and charge parameters of an ion analogue (``species``: its :mod:`poreflux.species`
    name)."""

    species: str
    charge: float
    sigma: float
    epsilon: float
    reference: str


#: Ion analogues: Joung & Cheatham (2008), SPC/E set (Rmin/2: K+ 1.593 A, Na+ 1.212 A).
ION_ANALOGUES: dict[str, IonModel] = {
    "K+": IonModel("K+", 1.0, 0.283840, 1.79789, "Joung & Cheatham, JPCB 112, 9020 (2008), SPC/E"),
    "Na+": IonModel(
        "Na+", 1.0, 0.215954, 1.47544, "Joung & Cheatham, JPCB 112, 9020 (2008), SPC/E"
    ),
}


def ion_model(ion: str) -> IonModel:
    """The analogue called ``ion`` (``"K+"`` or ``"Na+"``; ``"K"``/``"Na"`` accepted)."""
    key = ion if ion in ION_ANALOGUES else f"{ion}+"
    if not isinstance(ion, str) or key not in ION_ANALOGUES:
        raise MDInputError(
            f"unknown ion {ion!r}: the model pore knows {sorted(ION_ANALOGUES)} (add an IonModel "
            "to ION_ANALOGUES for another ion)"
        )
    return ION_ANALOGUES[key]


@dataclass(frozen=True)
class BindingSite:
    """A cage of fixed, partially charged LJ atoms in the pore wall.

    Parameters
    ----------
    z : float
        Centre of the site along the pore axis [nm] (membrane centre at 0); must lie inside the
        membrane, ``|z| < L/2``.
    ring_radius : float
        Distance of the atoms from the axis [nm]; must exceed the pore radius (the atoms are in
        the wall).
    ring_separation : float
        Axial distance between the two rings [nm] (0: a single ring).
    n_per_ring : int
        Atoms per ring.
    charge : float
        Partial charge of each atom [e].
    sigma, epsilon : float
        LJ parameters of each atom [nm], [kJ/mol] (default CHARMM22 carbonyl O).
    dielectric : float
        Relative permittivity of the implicit solvent in the ion-site Coulomb interaction.
    debye_length : float
        Debye-Hueckel screening length of the implicit electrolyte [nm] (0.79 nm: 150 mM 1:1
        salt at 298 K, :func:`poreflux.units.debye_length`); ``inf`` for an unscreened Coulomb.
    cutoff : float
        Ion-atom distance [nm] beyond which all site interactions vanish (shifted-force
        truncation), so that the PMF is exactly flat in the bath far from the site.
    """

    z: float = 0.0
    ring_radius: float = 0.283
    ring_separation: float = 0.2
    n_per_ring: int = 4
    charge: float = -0.51
    sigma: float = 0.3029
    epsilon: float = 0.502
    dielectric: float = 80.0
    debye_length: float = 0.79
    cutoff: float = 1.2

    def __post_init__(self) -> None:
        for name in ("z", "ring_radius", "ring_separation", "charge", "sigma", "epsilon"):
            if not math.isfinite(float(getattr(self, name))):
                raise MDInputError(f"binding site {name} must be finite")
        if self.ring_radius <= 0 or self.ring_separation < 0 or int(self.n_per_ring) < 1:
            raise MDInputError(
                "binding site needs ring_radius > 0 nm, ring_separation >= 0 nm and "
                f"n_per_ring >= 1, got {self.ring_radius}, {self.ring_separation}, "
                f"{self.n_per_ring}"
            )
        if self.sigma < 0 or self.epsilon < 0 or not self.dielectric >= 1.0:
            raise MDInputError("binding site needs sigma >= 0, epsilon >= 0 and dielectric >= 1")
        if not self.debye_length > 0 or not (math.isfinite(self.cutoff) and self.cutoff > 0):
            raise MDInputError(
                f"binding site needs debye_length > 0 and a finite cutoff > 0 nm, got "
                f"{self.debye_length}, {self.cutoff}"
            )

    def atom_positions(self) -> np.ndarray:
        """Positions of the site atoms (M, 3) [nm]."""
        n = int(self.n_per_ring)
        rings = (0.0,) if self.ring_separation == 0 else (-0.5, 0.5)
        out = []
        for j, side in enumerate(rings):
            phase = math.pi * j / n
            for a in range(n):
                ang = 2 * math.pi * a / n + phase
                out.append(
                    (
                        self.ring_radius * math.cos(ang),
                        self.ring_radius * math.sin(ang),
                        self.z + side * self.ring_separation,
                    )
                )
        return np.array(out)


class SiteAtoms:
    """Fixed LJ + screened-Coulomb atoms acting on chosen (mobile) particles (a force term).

    Pair energy of ion i and site atom s at distance r < cutoff ``r_c``::

        U = 4 eps_is [(sig_is/r)^12 - (sig_is/r)^6] + (ke q_i q_s / eps_r) phi(r),
        phi(r) = exp(-r/lambda)/r

    both shifted-force truncated (``V(r) - V(r_c) - (r - r_c) V'(r_c)``, continuous energy and
    force, zero beyond ``r_c``), with Lorentz-Berthelot ``sig_is = (sig_i + sig_s)/2``,
    ``eps_is = sqrt(eps_i eps_s)``, ``ke = 138.935 kJ mol^-1 nm e^-2`` and the Debye length
    ``lambda`` of the implicit electrolyte (Debye-Hueckel). The site atoms are not particles of the
    system: they do not move and carry no degrees of freedom. Evaluated by the compiled loop
    :func:`~stochastic.md.model_pore_kernels.site_forces`.
    """

    cutoff = None

    def __init__(
        self,
        system: System,
        site: BindingSite,
        indices: np.ndarray,
        name: str = "site",
    ):
        self.name = name
        self.idx = np.asarray(indices, dtype=np.int64)
        self.pos = site.atom_positions()
        self.rc = float(site.cutoff)
        self.lam = float(site.debye_length)
        types = [system.types[t] for t in system.type_index[self.idx]]
        sig_i = np.array([t.sigma for t in types])
        eps_i = np.array([t.epsilon for t in types])
        q_i = np.array([t.charge for t in types])
        self.sig = 0.5 * (sig_i + site.sigma)
        self.eps = np.sqrt(eps_i * site.epsilon)
        self.qq = COULOMB_KJ_NM / site.dielectric * q_i * site.charge
        self._v_rc, self._dv_rc = self._at_cutoff()
        self._energies = np.empty(self.idx.size)

    def _at_cutoff(self) -> tuple[np.ndarray, np.ndarray]:
        """Unshifted V(r_c) and V'(r_c) of every acted-on particle (the shift of the pair term)."""
        r, lam = self.rc, self.lam
        sr6 = (self.sig / r) ** 6
        screen = math.exp(-r / lam)
        v = 4.0 * self.eps * (sr6 * sr6 - sr6) + self.qq * screen / r
        dv = -24.0 * self.eps * (2.0 * sr6 * sr6 - sr6) / r - self.qq * screen * (
            1.0 / r**2 + 1.0 / (lam * r)
        )
        return v, dv

    def _params(self, rows: np.ndarray) -> tuple[np.ndarray, ...]:
        return tuple(
            np.ascontiguousarray(a[rows]) for a in (self.sig, self.eps, self.qq, self._v_rc,
                                                    self._dv_rc)
        )  # fmt: skip

    def energy_at(self, points: np.ndarray) -> np.ndarray:
        """Site energy [kJ/mol] of the first of the acted-on particles placed at each of
        ``points`` (P, 3) [nm]."""
        pts = np.ascontiguousarray(points, dtype=float).reshape(-1, 3)
        n = pts.shape[0]
        out = np.empty(n)
        params = self._params(np.zeros(n, dtype=np.int64))
        site_forces(pts, np.arange(n), self.pos, *params, self.rc, self.lam, np.empty((0, 3)),
                    out)  # fmt: skip
        return out

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add the site forces; return (energy, 0)."""
        energy = site_forces(
            positions, self.idx, self.pos, self.sig, self.eps, self.qq, self._v_rc, self._dv_rc,
            self.rc, self.lam, forces, self._energies,
        )  # fmt: skip
        return float(energy), 0.0


class CompiledPore(CylindricalPore):
    """:class:`~stochastic.md.confinement.CylindricalPore` evaluated by a compiled loop
    (:func:`~stochastic.md.model_pore_kernels.cylinder_forces`): same energy and forces."""

    def compute(
        self, positions: np.ndarray, nlist: NeighborList | None, forces: np.ndarray
    ) -> tuple[float, float]:
        """Add the membrane/pore forces; return (energy, 0)."""
        cx, cy = float(self.center[0]), float(self.center[1])
        args = (self.radius, self.z_lo, self.z_hi, self.k)
        return float(cylinder_forces(positions, self.idx, cx, cy, *args, forces)), 0.0


def accessible_area(radius: float, k: float, temperature: float) -> float:
    """Boltzmann-weighted cross-section [nm^2] of a disc of ``radius`` with soft harmonic walls.

    ``A = int_0^inf 2 pi rho exp(-U(rho)/kT) drho`` with ``U = k/2 (rho - R)^2`` beyond ``R``:
    ``A = pi R^2 + 2 pi (R sqrt(pi kT/(2k)) + kT/k)``. The confinement free energy of a pore
    relative to a bath of another cross-section is ``-kT ln(A_pore / A_bath)``.
    """
    beta_k = k / (KB_KJ_PER_MOL_K * temperature)
    return math.pi * radius**2 + 2 * math.pi * (
        radius * math.sqrt(math.pi / (2 * beta_k)) + 1.0 / beta_k
    )


@dataclass(frozen=True)
class PoreSystem:
    """An MD system of the model pore: what :class:`~stochastic.pmf.md_sampler.MDSampler` needs.

    Attributes
    ----------
    system : System
        ``n_copies`` non-interacting copies of the ion.
    terms : tuple
        Force terms: membrane/pore walls, bath cylinder, binding site (if any).
    positions : (n_copies, 3) array
        Starting positions (on the axis at z = 0).
    ions : tuple of int
        Particle indices of the ion copies (the walkers).
    friction : float
        Langevin collision rate [1/ps], ``kT/(m D)``.
    diffusion : float
        Bulk D of the species at the temperature [nm^2/ps].
    temperature : float
        [K].
    place : callable
        ``place(window, start, rng) -> positions`` for
        :class:`~stochastic.pmf.md_sampler.MDSampler`: copies drawn from the equilibrium
        density of one ion (walls exactly on a grid, the site by importance resampling) times the
        window's bias, so that mouth windows start with the right split between pore and bath
        (the lateral search for the pore entrance is far slower than a window's run). ``start``
        (a resumed window's last xi) is ignored: this fresh equilibrium draw is a better start
        than every copy at one height.
    """

    system: System
    terms: tuple
    positions: np.ndarray
    ions: tuple[int, ...]
    friction: float
    diffusion: float
    temperature: float
    place: Callable[..., np.ndarray]


@dataclass(frozen=True)
class ModelPore:
    """A cylindrical pore through a membrane with an optional binding site (see module docs).

    Parameters
    ----------
    radius : float
        Radius accessible to ion centres [nm] (= the continuum pore radius, point ions).
    length : float
        Membrane thickness / pore length L [nm]; the membrane spans ``-L/2 < z < L/2``.
    site : BindingSite or None
        The binding site (None: a bare pore).
    bath_radius : float
        Radius of the cylinder confining the ion laterally in the baths [nm], > radius.
    wall_k : float
        Stiffness of the membrane, pore and bath walls [kJ/mol/nm^2].
    """

    radius: float = 0.08
    length: float = 1.2
    site: BindingSite | None = BindingSite()
    bath_radius: float = 0.5
    wall_k: float = 1.0e4

    def __post_init__(self) -> None:
        for name in ("radius", "length", "bath_radius", "wall_k"):
            v = float(getattr(self, name))
            if not (math.isfinite(v) and v > 0):
                raise MDInputError(f"model pore {name} must be a finite positive number, got {v!r}")
        if self.bath_radius <= self.radius:
            raise MDInputError(
                f"bath_radius {self.bath_radius} nm must exceed the pore radius {self.radius} nm"
            )
        s = self.site
        if s is not None:
            if not isinstance(s, BindingSite):
                raise MDInputError(f"site must be a BindingSite or None, got {type(s).__name__}")
            half = 0.5 * self.length
            if abs(s.z) + 0.5 * s.ring_separation >= half:
                raise MDInputError(
                    f"binding site at z = {s.z} nm (rings +-{0.5 * s.ring_separation} nm) lies "
                    f"outside the pore, which spans -{half} < z < {half} nm: move it inside"
                )
            if s.ring_radius <= self.radius:
                raise MDInputError(
                    f"binding-site ring radius {s.ring_radius} nm must exceed the pore radius "
                    f"{self.radius} nm (the site atoms sit in the pore wall)"
                )

    @property
    def z_lo(self) -> float:
        """Lower membrane face [nm]."""
        return -0.5 * self.length

    @property
    def z_hi(self) -> float:
        """Upper membrane face [nm]."""
        return 0.5 * self.length

    def confinement_free_energy(self, temperature: float = 298.15) -> float:
        """Entropic cost [kT] of moving an ion from the bath into the bare pore.

        ``-ln(A_pore / A_bath)`` with the Boltzmann-weighted cross-sections of
        :func:`accessible_area` (exact for the soft walls used, away from the pore mouths).
        """
        a_p = accessible_area(self.radius, self.wall_k, temperature)
        a_b = accessible_area(self.bath_radius, self.wall_k, temperature)
        return -math.log(a_p / a_b)

    def _rho_grid(self, temperature: float) -> np.ndarray:
        tail = 8.0 * math.sqrt(KB_KJ_PER_MOL_K * temperature / self.wall_k)
        return np.linspace(0.0, self.bath_radius + tail, 4001)

    def _radial(self, temperature: float) -> tuple[np.ndarray, ...]:
        """The radial grid and prefix sums of the bare pore's ``rho exp(-U/kT)`` (all sums in
        ``O(1)`` per height).

        At height z inside the membrane (depth ``d = min(z - z_lo, z_hi - z) > 0``) the wall
        energy is ``k/2 min(rho - R, d)^2`` beyond the pore radius R: the pore wall's
        ``k/2 (rho - R)^2`` up to ``rho = R + d``, the membrane face's constant ``k/2 d^2``
        beyond. With ``f1 = rho exp(-(U_pore + U_bath)/kT)`` and ``f2 = rho exp(-U_bath/kT)``
        a row of the grid is ``f1`` before index ``m(z)`` and ``exp(-k d^2/2kT) f2`` from it on
        (outside the membrane: ``f2`` everywhere, ``m = 0``). Returns ``rho, f1, f2, S1, S2`` with
        ``S[j] = sum_{b < j} f[b]``.
        """
        rho = self._rho_grid(temperature)
        kt = KB_KJ_PER_MOL_K * temperature
        u_bath = 0.5 * self.wall_k * np.maximum(rho - self.bath_radius, 0.0) ** 2
        u_pore = 0.5 * self.wall_k * np.maximum(rho - self.radius, 0.0) ** 2
        f1 = rho * np.exp(-(u_pore + u_bath) / kt)
        f2 = rho * np.exp(-u_bath / kt)
        s1, s2 = (np.concatenate(([0.0], np.cumsum(f))) for f in (f1, f2))
        return rho, f1, f2, s1, s2

    def _rows(self, z: np.ndarray, rho: np.ndarray, temperature: float) -> tuple[np.ndarray, ...]:
        """Split index ``m(z)`` and membrane-face factor ``exp(-k d^2/2kT)`` of grid rows ``z``."""
        d = np.minimum(z - self.z_lo, self.z_hi - z)
        inside = d > 0
        depth = np.where(inside, d, 0.0)
        m = np.where(inside, np.searchsorted(rho, self.radius + depth, "right"), 0)
        face = np.exp(-0.5 * self.wall_k * depth**2 / (KB_KJ_PER_MOL_K * temperature))
        return m, face

    def cross_section(self, z: np.ndarray, temperature: float = 298.15) -> np.ndarray:
        """Boltzmann-weighted open cross-section ``A(z) = int 2 pi rho exp(-U/kT) drho`` [nm^2]
        of the bare pore (walls only, no site), by the trapezoidal rule on a fine uniform radial
        grid (``rho = 0`` at its first point), evaluated from prefix sums (:meth:`_radial`)."""
        z = np.atleast_1d(np.asarray(z, dtype=float))
        rho, f1, f2, s1, s2 = self._radial(temperature)
        m, face = self._rows(z, rho, temperature)
        total = s1[m] + face * (s2[-1] - s2[m])
        last = np.where(m >= rho.size, f1[-1], face * f2[-1])
        return 2 * np.pi * (rho[1] - rho[0]) * (total - 0.5 * (f1[0] + last))

    def bare_pmf(self, z: np.ndarray, temperature: float = 298.15) -> np.ndarray:
        """Exact PMF [kT] of an ion in the pore *without* site, zero in the bath:
        ``-ln(A(z) / A_bath)`` (purely entropic; inside the pore, away from the mouths, it equals
        :meth:`confinement_free_energy`)."""
        a_b = accessible_area(self.bath_radius, self.wall_k, temperature)
        return -np.log(self.cross_section(z, temperature) / a_b)

    def _equilibrium_start(
        self,
        window,
        n: int,
        temperature: float,
        rng: np.random.Generator,
        site: SiteAtoms | None = None,
    ) -> np.ndarray:
        """``n`` positions drawn from the one-ion Boltzmann density times the window bias.

        Exact (on a fine grid) for the walls; the site is included by sampling-importance
        resampling: ``32 n`` candidates from the bare density, ``n`` of them kept with
        probability ``exp(-U_site/kT)``.
        """
        if site is not None:
            cand = self._equilibrium_start(window, 32 * n, temperature, rng)
            u = site.energy_at(cand) / (KB_KJ_PER_MOL_K * temperature)
            w = np.exp(-(u - u.min()))
            return cand[rng.choice(cand.shape[0], size=n, p=w / w.sum())]
        kap = window.kappa_kT(temperature)
        sd = 1.0 / math.sqrt(kap)
        z = np.linspace(window.center - 6 * sd, window.center + 6 * sd, 801)
        rho, _, _, s1, s2 = self._radial(temperature)
        m, face = self._rows(z, rho, temperature)
        row = (s1[m] + face * (s2[-1] - s2[m])) * np.exp(-0.5 * kap * (z - window.center) ** 2)
        # the grid cell: a row by its weight, then a column by inverse CDF within the row
        cdf = np.cumsum(row)
        iz = np.minimum(np.searchsorted(cdf, rng.random(n) * cdf[-1], "right"), z.size - 1)
        t = rng.random(n) * (s1[m[iz]] + face[iz] * (s2[-1] - s2[m[iz]]))
        wall = t < s1[m[iz]]
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            t2 = s2[m[iz]] + (t - s1[m[iz]]) / face[iz]
        ir = np.where(wall, np.searchsorted(s1, t, "right"), np.searchsorted(s2, t2, "right")) - 1
        ir = np.clip(ir, 0, rho.size - 1)
        hz, hr = z[1] - z[0], rho[1] - rho[0]
        zz = z[iz] + hz * (rng.random(n) - 0.5)
        rr = np.abs(rho[ir] + hr * (rng.random(n) - 0.5))
        ang = 2 * np.pi * rng.random(n)
        return np.column_stack((rr * np.cos(ang), rr * np.sin(ang), zz))

    def build_system(
        self, ion: str, *, n_copies: int = 1, temperature: float = 298.15
    ) -> PoreSystem:
        """The MD system of ``n_copies`` independent copies of ``ion`` in this pore.

        Parameters
        ----------
        ion : str
            ``"K+"`` or ``"Na+"`` (:data:`ION_ANALOGUES`).
        n_copies : int
            Non-interacting copies (walkers).
        temperature : float
            [K]; sets the friction through ``gamma = kT/(m D(T))``.
        """
        model = ion_model(ion)
        if int(n_copies) < 1:
            raise MDInputError(f"n_copies must be >= 1, got {n_copies}")
        if not (math.isfinite(temperature) and temperature > 0):
            raise MDInputError(f"temperature must be > 0 K, got {temperature!r}")
        sp = get_species(model.species)
        ptype = ParticleType(model.species, sp.mass, model.charge, model.sigma, model.epsilon)
        n = int(n_copies)
        system = System.from_counts([ptype], [n])
        idx = np.arange(n)
        terms: list = [
            CompiledPore(system, self.radius, self.z_lo, self.z_hi, self.wall_k, name="pore"),
            CompiledPore(system, self.bath_radius, -1e6, 1e6, self.wall_k, name="bath"),
        ]
        site_term = None
        if self.site is not None:
            site_term = SiteAtoms(system, self.site, idx, name="site")
            terms.append(site_term)
        d = diffusion_at(sp, temperature) * 1e-3  # nm^2/ns -> nm^2/ps
        gamma = KB_KJ_PER_MOL_K * temperature / (sp.mass * d)
        pos = np.zeros((n, 3))

        def place(window, start: float | None, rng: np.random.Generator) -> np.ndarray:
            # ``start`` (a resumed window's last xi) is deliberately not used: a fresh draw from
            # the equilibrium density beats putting every copy at one height
            return self._equilibrium_start(window, n, temperature, rng, site_term)

        return PoreSystem(
            system, tuple(terms), pos, tuple(int(i) for i in idx), gamma, d, temperature, place
        )
