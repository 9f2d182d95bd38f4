"""United-atom hydrocarbons with TraPPE-UA parameters: sites, bonded terms, molecule catalogue.

Sources (energies given there as epsilon/k_B and k_theta/k_B in K, converted with
``R = 8.314462618e-3 kJ/mol/K``):

* sp3 CH3, CH2, bonds 1.54 A, CHx-CH2-CHy angle 114 deg, k_theta/k_B = 62500 K/rad^2, torsion
  CHx-CH2-CH2-CHy: Martin & Siepmann, J. Phys. Chem. B 102, 2569 (1998).
* sp3 CH, C, angles at CH (112 deg) and C (109.47 deg), branched torsions: Martin & Siepmann,
  J. Phys. Chem. B 103, 4508 (1999).
* aromatic CH and substituted aromatic C (R-C), ring bonds 1.40 A, 120 deg: Wick, Martin &
  Siepmann, J. Phys. Chem. B 104, 8008 (2000).

TraPPE keeps bond lengths (and the benzene ring) rigid. Here bonds are harmonic with
``k_b = 2.0e5 kJ/mol/nm^2`` (close to OPLS-UA's 2.2e5 for CH2-CH2; our choice, so that plain
velocity Verlet can be used), ring angles use the alkane k_theta and the ring (and substituents)
are kept planar by ``c2 (1 - cos 2 phi)`` torsions with GAFF's ``X-ca-ca-X`` barrier,
``c2 = 3.625 kcal/mol = 15.167 kJ/mol`` (Wang et al., J. Comput. Chem. 25, 1157 (2004)).
Torsions about a ring-substituent bond are free (GAFF ``X-ca-c3-X`` = 0). TraPPE excludes
1-2, 1-3 and 1-4 non-bonded pairs (``scale14 = 0``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np

from stochastic.md.errors import MDInputError
from stochastic.md.system import KB_KJ_PER_MOL_K, ParticleType
from stochastic.md.topology import Topology

#: Harmonic bond force constant used for every bond [kJ/mol/nm^2] (TraPPE bonds are rigid).
BOND_K: float = 2.0e5
#: TraPPE angle force constant k_theta/k_B = 62500 K/rad^2 in kJ/mol/rad^2.
ANGLE_K: float = 62500.0 * KB_KJ_PER_MOL_K
#: Ring planarity torsion barrier c2 [kJ/mol] (GAFF X-ca-ca-X).
RING_C2: float = 3.625 * 4.184

_AROMATIC = frozenset({"CHar", "Car"})


def _k(kelvin: float) -> float:
    return kelvin * KB_KJ_PER_MOL_K


#: Site name -> (mass [amu], sigma [nm], epsilon [kJ/mol]).
SITES: dict[str, tuple[float, float, float]] = {
    "CH3": (15.035, 0.375, _k(98.0)),
    "CH2": (14.027, 0.395, _k(46.0)),
    "CH": (13.019, 0.468, _k(10.0)),
    "C": (12.011, 0.640, _k(0.5)),
    "CHar": (13.019, 0.3695, _k(50.5)),
    "Car": (12.011, 0.388, _k(21.0)),
}

#: Angle equilibrium [deg] by vertex site.
ANGLE_THETA0: dict[str, float] = {"CH2": 114.0, "CH": 112.0, "C": 109.47, "CHar": 120.0,
                                  "Car": 120.0}  # fmt: skip

#: OPLS torsion coefficients (c0..c3)/k_B [K] by the unordered pair of central sites.
TORSIONS_K: dict[frozenset[str], tuple[float, float, float, float]] = {
    frozenset({"CH2"}): (0.0, 355.03, -68.19, 791.32),
    frozenset({"CH2", "CH"}): (-251.06, 428.73, -111.85, 441.27),
    frozenset({"CH"}): (-251.06, 428.73, -111.85, 441.27),
    frozenset({"CH2", "C"}): (0.0, 0.0, 0.0, 461.29),
    frozenset({"CH", "C"}): (0.0, 0.0, 0.0, 1369.93),
}


@dataclass(frozen=True)
class MoleculeSpec:
    """Sites and bonds of a united-atom molecule, with its liquid density at 298 K [g/cm^3]."""

    name: str
    sites: tuple[str, ...]
    bonds: tuple[tuple[int, int], ...]
    density: float


_RING = ((0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0))
#: Molecules (densities: CRC Handbook of Chemistry and Physics, 25 C).
CATALOGUE: dict[str, MoleculeSpec] = {
    s.name: s
    for s in (
        MoleculeSpec("3-methylpentane", ("CH3", "CH2", "CH", "CH2", "CH3", "CH3"),
                     ((0, 1), (1, 2), (2, 3), (3, 4), (2, 5)), 0.660),
        MoleculeSpec("2,3,4-trimethylpentane", ("CH3", "CH", "CH", "CH", "CH3", "CH3", "CH3",
                     "CH3"), ((0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (2, 6), (3, 7)), 0.715),
        MoleculeSpec("ethylbenzene", ("Car",) + ("CHar",) * 5 + ("CH2", "CH3"),
                     (*_RING, (0, 6), (6, 7)), 0.863),
        MoleculeSpec("n-hexane", ("CH3",) + ("CH2",) * 4 + ("CH3",),
                     tuple((i, i + 1) for i in range(5)), 0.655),
        MoleculeSpec("toluene", ("Car",) + ("CHar",) * 5 + ("CH3",), (*_RING, (0, 6)), 0.862),
        MoleculeSpec("2,2-dimethylbutane", ("CH3", "C", "CH2", "CH3", "CH3", "CH3"),
                     ((0, 1), (1, 2), (2, 3), (1, 4), (1, 5)), 0.644),
        MoleculeSpec("n-pentane", ("CH3", "CH2", "CH2", "CH2", "CH3"),
                     tuple((i, i + 1) for i in range(4)), 0.621),
        MoleculeSpec("n-octane", ("CH3",) + ("CH2",) * 6 + ("CH3",),
                     tuple((i, i + 1) for i in range(7)), 0.699),
        MoleculeSpec("benzene", ("CHar",) * 6, _RING, 0.874),
        MoleculeSpec("p-xylene", ("Car", "CHar", "CHar", "Car", "CHar", "CHar", "CH3", "CH3"),
                     (*_RING, (0, 6), (3, 7)), 0.857),
    )
}  # fmt: skip


@dataclass(frozen=True)
class MoleculeModel:
    """A molecule with all force-field parameters (per bond, angle and dihedral).

    Build one with :func:`trappe_model`; :meth:`perturbed` draws random bonded parameters.
    """

    spec: MoleculeSpec
    topology: Topology
    bond_r0: np.ndarray
    bond_k: np.ndarray
    angle_theta0: np.ndarray
    angle_k: np.ndarray
    dihedral_c: np.ndarray
    scale14: float = 0.0
    types: dict[str, ParticleType] = field(default_factory=dict, compare=False)

    @property
    def mass(self) -> float:
        """Molecular mass [amu]."""
        return float(sum(SITES[s][0] for s in self.spec.sites))

    @property
    def site_masses(self) -> np.ndarray:
        """Masses of the sites [amu]."""
        return np.array([SITES[s][0] for s in self.spec.sites])

    def perturbed(
        self, rng: np.random.Generator, bond: float = 0.05, theta_deg: float = 5.0,
        k_angle: float = 0.3, torsion: float = 0.5,
    ) -> MoleculeModel:
        """Random bonded parameters: lengths x U(1 +- bond), angles + U(+- theta_deg),
        angle constants x U(1 +- k_angle), torsion coefficients x U(1 +- torsion) (each term
        independently). Ring planarity torsions are not perturbed."""
        nb, na = len(self.bond_r0), len(self.angle_k)
        ring = _ring_torsions(self)
        scale_c = rng.uniform(1 - torsion, 1 + torsion, len(self.dihedral_c))
        scale_c[ring] = 1.0
        theta = self.angle_theta0 + np.radians(rng.uniform(-theta_deg, theta_deg, na))
        return replace(
            self,
            bond_r0=self.bond_r0 * rng.uniform(1 - bond, 1 + bond, nb),
            angle_theta0=np.minimum(theta, math.pi),
            angle_k=self.angle_k * rng.uniform(1 - k_angle, 1 + k_angle, na),
            dihedral_c=self.dihedral_c * scale_c[:, None],
        )  # fmt: skip

    def parameters(self) -> dict[str, list]:
        """Bonded parameters as plain lists (provenance records)."""
        return {
            "bond_r0_nm": self.bond_r0.tolist(), "bond_k": self.bond_k.tolist(),
            "angle_theta0_rad": self.angle_theta0.tolist(), "angle_k": self.angle_k.tolist(),
            "dihedral_c_kj": self.dihedral_c.tolist(),
        }  # fmt: skip

    def with_parameters(self, params: dict[str, list]) -> MoleculeModel:
        """The model with bonded parameters from :meth:`parameters` (round trip)."""
        return replace(
            self, bond_r0=np.asarray(params["bond_r0_nm"], float),
            bond_k=np.asarray(params["bond_k"], float),
            angle_theta0=np.asarray(params["angle_theta0_rad"], float),
            angle_k=np.asarray(params["angle_k"], float),
            dihedral_c=np.asarray(params["dihedral_c_kj"], float),
        )  # fmt: skip


def _ring_torsions(model: MoleculeModel) -> np.ndarray:
    s = model.spec.sites
    return np.array(
        [s[j] in _AROMATIC and s[k] in _AROMATIC for _, j, k, _ in model.topology.dihedrals],
        dtype=bool,
    )


def particle_types() -> dict[str, ParticleType]:
    """The TraPPE-UA sites as :class:`ParticleType` objects (uncharged)."""
    return {n: ParticleType(n, m, 0.0, s, e) for n, (m, s, e) in SITES.items()}


def _torsion(sites: tuple[str, ...], j: int, k: int) -> np.ndarray:
    a, b = sites[j], sites[k]
    if a in _AROMATIC and b in _AROMATIC:
        return np.array([0.0, 0.0, RING_C2, 0.0])
    if a in _AROMATIC or b in _AROMATIC:
        return np.zeros(4)
    key = frozenset({a, b})
    if key not in TORSIONS_K:
        raise MDInputError(f"no TraPPE torsion for a {a}-{b} central bond")
    return np.array(TORSIONS_K[key]) * KB_KJ_PER_MOL_K


def trappe_model(spec: MoleculeSpec | str, scale14: float = 0.0) -> MoleculeModel:
    """TraPPE-UA parameters for a catalogue name or a :class:`MoleculeSpec`."""
    if isinstance(spec, str):
        if spec not in CATALOGUE:
            raise MDInputError(f"unknown molecule {spec!r}; known: {sorted(CATALOGUE)}")
        spec = CATALOGUE[spec]
    unknown = set(spec.sites) - set(SITES)
    if unknown:
        raise MDInputError(f"unknown united-atom site(s) {sorted(unknown)}; known: {list(SITES)}")
    if not (math.isfinite(scale14) and 0.0 <= scale14 <= 1.0):
        raise MDInputError(f"scale14 must be in [0, 1], got {scale14!r}")
    topo = Topology.from_bonds(len(spec.sites), spec.bonds)
    s = spec.sites
    r0 = [0.140 if s[a] in _AROMATIC and s[b] in _AROMATIC else 0.154 for a, b in topo.bonds]
    theta = [math.radians(ANGLE_THETA0[s[j]]) for _, j, _ in topo.angles]
    dih = np.array([_torsion(s, j, k) for _, j, k, _ in topo.dihedrals]).reshape(-1, 4)
    return MoleculeModel(
        spec, topo, np.array(r0), np.full(len(r0), BOND_K), np.array(theta),
        np.full(len(theta), ANGLE_K), dih, float(scale14), particle_types(),
    )  # fmt: skip
