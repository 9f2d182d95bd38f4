"""Predict a mobility-preserving CG pair potential from (bead mass, g(r), D): an MLP ensemble.

Following Bag, Meinel & Mueller-Plathe, J. Chem. Theory Comput. 18, 7108 (2022), a feed-forward
network (scikit-learn's :class:`~sklearn.neural_network.MLPRegressor`, as used there) maps the
bead mass, the centre-of-mass RDF on the database grid and the self-diffusion coefficient to
the pair potential that, with *Newtonian* CG dynamics, reproduces both. The potential is a
smooth part on the database grid plus a sub-bin roughness of amplitude ``a``
(:func:`stochastic.cg.database.pipeline.roughness`): the smooth part fixes the binned g(r),
the roughness slows the dynamics (Zwanzig 1988) at nearly unchanged binned g(r), which is how
a pair potential can reproduce a structure *and* a diffusion coefficient that the smooth
structure-matched (IBI) potential misses by a factor 1.5-5.

Inputs are ``(log10 D*, g(r_1..r_n))`` with the mass-scaled diffusion coefficient
``D* = D sqrt(m / 100 amu)`` [nm^2/ps]: with Newtonian dynamics in a fixed potential, time
scales as ``sqrt(m)``, so ``D*`` depends on the potential only and the bead mass enters through
it (the random masses of the database entries are then a data augmentation). Targets are
``U(r)/kT`` on the grid, clipped to ``[-3, 12]`` (the core beyond 12 kT is never visited) and
compressed to its leading principal components (PCA), and ``a/kT``; inputs and targets are
standardised. An ensemble of networks with different initial weights is averaged. The
predicted potential's core (where the target g(r) is empty) is replaced by a steep exponential
wall continuous in U and force.

Models are saved with :meth:`MobilityPredictor.save` (pickle with a format name and version,
checked by :meth:`MobilityPredictor.load`; load only files you trust, as with any pickle).
"""

from __future__ import annotations

import pickle
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from stochastic.cg.database.pipeline import G_CORE, potential_table
from stochastic.cg.database.schema import DatabaseError, DatabaseSettings
from stochastic.cg.errors import CGInputError
from stochastic.cg.tabulated import PairTable
from stochastic.cg.targets import RDF
from stochastic.md.system import KB_KJ_PER_MOL_K

#: Identifier and version of saved predictor files.
PREDICTOR_FORMAT: str = "poreflux-cg-mobility-predictor"
PREDICTOR_VERSION: int = 2
#: Clipping range of U/kT targets.
U_CLIP: tuple[float, float] = (-3.0, 12.0)


def pmf_kt(g: np.ndarray) -> np.ndarray:
    """Potential of mean force ``-ln g(r)`` [kT], clipped to :data:`U_CLIP` (empty bins: top)."""
    return np.clip(-np.log(np.maximum(np.asarray(g, float), 1e-12)), *U_CLIP)


def features(mass: np.ndarray, d: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Input matrix ``(log10 D*, g...)``, ``D* = D sqrt(mass / 100 amu)``, for arrays of
    entries (mass [amu], D [nm^2/ps], g on the grid)."""
    mass = np.atleast_1d(np.asarray(mass, float))
    d = np.atleast_1d(np.asarray(d, float))
    g = np.atleast_2d(np.asarray(g, float))
    if np.any(mass <= 0) or np.any(d <= 0) or not np.all(np.isfinite(g)):
        raise CGInputError("predictor inputs need mass > 0 amu, D > 0 nm^2/ps and finite g(r)")
    return np.column_stack([np.log10(d * np.sqrt(mass / 100.0)), g])


def core_wall(u: np.ndarray, r: np.ndarray, g_target: np.ndarray, kt: float) -> np.ndarray:
    """Replace ``u`` inside the empty core of ``g_target`` by ``U_f + (F_f/k)(e^{k(r_f-r)}-1)``,
    ``k = 13/r_f`` (an r^-12 wall's steepening), ``F_f`` >= the slope at the first populated
    bin and >= 1 kT/nm (the same construction IBI uses for its initial guess)."""
    filled = np.flatnonzero(g_target > G_CORE)
    if len(filled) == 0:
        raise CGInputError("the target g(r) is empty on the whole grid")
    f = int(filled[0])
    out = u.copy()
    if f == 0:
        return out
    k = min(f + 2, len(u) - 1)
    force = max(-(u[k] - u[f]) / (r[k] - r[f]), kt)
    kappa = 13.0 / r[f]
    out[:f] = u[f] + force / kappa * np.expm1(kappa * (r[f] - r[:f]))
    return out


def _compress(x: np.ndarray, g_pca) -> np.ndarray:
    """``(log D*, g...)`` with g replaced by its principal components when ``g_pca``."""
    if g_pca is None:
        return x
    return np.column_stack([x[:, :1], g_pca.transform(x[:, 1:])])


class MobilityPredictor:
    """(mass, g(r), D) -> CG pair potential; implements :class:`~stochastic.cg.mobility.
    PotentialPredictor` for one-bead-type liquids.

    Parameters
    ----------
    settings
        The database settings (grid and temperature the model is valid for).
    n_components
        Principal components of ``U/kT`` kept.
    hidden
        Hidden layer sizes.
    n_ensemble
        Networks averaged (different initial weights).
    alpha
        L2 penalty of the networks.
    seed
        Seed of the first network (the others use seed + 1, ...).
    max_iter
        Optimiser iterations per network.
    solver
        ``"lbfgs"`` (full-batch quasi-Newton, fast and deterministic for a few hundred
        entries) or ``"adam"``.
    g_components
        If set, g(r) enters through this many principal components (so that D and the mass
        are not outweighed by 55 correlated g(r) values); None = the raw bins.
    residual
        Learn ``U/kT + ln g`` (the potential minus the potential of mean force of the input
        g(r), i.e. the many-body part that IBI's iterations add to the Boltzmann inversion)
        instead of ``U/kT`` itself.
    ridge_alpha
        If set, the smooth part is predicted by a ridge regression (this L2 penalty on the
        standardised inputs) instead of the networks, which then predict the roughness only:
        the held-out molecules are extrapolations from three training molecules, and the
        strongly regularised linear map transfers better (smooth-part RMS from the held-out
        liquids' IBI potentials 0.10/0.20/0.34 kT against the networks' 0.17/0.57/0.35 kT).
    """

    def __init__(
        self,
        settings: DatabaseSettings,
        n_components: int = 8,
        hidden: Sequence[int] = (64, 64),
        n_ensemble: int = 3,
        alpha: float = 1e-3,
        seed: int = 0,
        max_iter: int = 500,
        solver: str = "lbfgs",
        g_components: int | None = None,
        residual: bool = True,
        ridge_alpha: float | None = 100.0,
    ):
        if n_components < 1 or n_ensemble < 1 or alpha < 0:
            raise CGInputError("need n_components >= 1, n_ensemble >= 1 and alpha >= 0")
        self.settings = settings
        self.n_components = int(n_components)
        self.hidden = tuple(int(h) for h in hidden)
        self.n_ensemble = int(n_ensemble)
        self.alpha = float(alpha)
        self.seed = int(seed)
        self.max_iter = int(max_iter)
        self.solver = solver
        self.g_components = g_components
        self.residual = bool(residual)
        if ridge_alpha is not None and not ridge_alpha > 0:
            raise CGInputError(f"ridge_alpha must be > 0 or None, got {ridge_alpha}")
        self.ridge_alpha = None if ridge_alpha is None else float(ridge_alpha)
        self.fitted: dict | None = None
        self.train_seconds = float("nan")

    @property
    def kt(self) -> float:
        """k_B T [kJ/mol] of the training temperature."""
        return KB_KJ_PER_MOL_K * self.settings.temperature

    def fit(
        self, mass: np.ndarray, d: np.ndarray, g: np.ndarray, u: np.ndarray,
        rough: np.ndarray | None = None,
    ) -> MobilityPredictor:
        """Train on entries: masses [amu], D [nm^2/ps], CG g(r) (n, bins), smooth U [kJ/mol]
        (n, bins) and roughness amplitudes [kJ/mol] (n,; default 0)."""
        from sklearn.decomposition import PCA
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPRegressor
        from sklearn.preprocessing import StandardScaler
        from threadpoolctl import threadpool_limits

        t0 = time.perf_counter()
        x = x_raw = features(mass, d, g)
        g_pca = PCA(self.g_components).fit(x[:, 1:]) if self.g_components else None
        x = _compress(x, g_pca)
        y = np.clip(np.asarray(u, float) / self.kt, *U_CLIP)
        if self.residual:
            y = y - pmf_kt(x_raw[:, 1:])
        if len(x) != len(y) or y.shape[1] != len(self.settings.r):
            raise CGInputError(f"need one potential on the {len(self.settings.r)}-point grid "
                               "per entry")  # fmt: skip
        xs = StandardScaler().fit(x)
        pca = PCA(min(self.n_components, len(y) - 1, y.shape[1])).fit(y)
        a = np.zeros(len(y)) if rough is None else np.asarray(rough, float) / self.kt
        if a.shape != (len(y),) or not np.all(np.isfinite(a)) or np.any(a < 0):
            raise CGInputError("rough must hold one finite amplitude >= 0 kJ/mol per entry")
        z = np.column_stack([pca.transform(y), a])
        zs = StandardScaler().fit(z)
        nets = []
        for k in range(self.n_ensemble):
            net = MLPRegressor(hidden_layer_sizes=self.hidden, activation="tanh",
                               solver=self.solver, alpha=self.alpha, max_iter=self.max_iter,
                               tol=1e-6, random_state=self.seed + k)  # fmt: skip
            with warnings.catch_warnings(), threadpool_limits(1):  # small matrices: 1 thread
                warnings.simplefilter("ignore", ConvergenceWarning)
                net.fit(xs.transform(x), zs.transform(z))
            nets.append(net)
        ridge = None
        if self.ridge_alpha is not None:
            from sklearn.linear_model import Ridge

            ridge = Ridge(alpha=self.ridge_alpha).fit(xs.transform(x), y)
        self.fitted = {"x_scaler": xs, "pca": pca, "z_scaler": zs, "nets": nets, "g_pca": g_pca,
                       "ridge": ridge}  # fmt: skip
        self.train_seconds = time.perf_counter() - t0
        return self

    def _raw(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Smooth potentials [kJ/mol] (n, bins) and roughness amplitudes [kJ/mol] (n,)."""
        if self.fitted is None:
            raise CGInputError("the predictor is not trained: call fit() or load() first")
        from threadpoolctl import threadpool_limits

        f = self.fitted
        xs = f["x_scaler"].transform(_compress(x, f["g_pca"]))
        with threadpool_limits(1):
            z = np.mean([np.atleast_2d(n.predict(xs)) for n in f["nets"]], axis=0)
        z = f["z_scaler"].inverse_transform(z)
        u = f["pca"].inverse_transform(z[:, :-1])
        if f.get("ridge") is not None:
            u = f["ridge"].predict(xs)
        if self.residual:
            u = u + pmf_kt(x[:, 1:])
        u = u * self.kt
        return u, np.maximum(z[:, -1], 0.0) * self.kt

    def predict_potential(self, mass: float, g: np.ndarray, d: float) -> tuple[np.ndarray, float]:
        """Smooth potential [kJ/mol] on the grid (core wall applied) and roughness amplitude
        [kJ/mol] for one liquid of bead ``mass`` [amu], g(r) on the grid, D [nm^2/ps]; run it
        with ``run_cg_entry(u, mass, ..., rough=a)`` or :func:`potential_table`."""
        g = np.asarray(g, float)
        if g.shape != self.settings.r.shape:
            n, r_max = len(self.settings.r), self.settings.r_max
            raise CGInputError(f"g(r) must be given on the database grid ({n} bins to {r_max} nm)")
        u, a = self._raw(features(mass, d, g))
        return core_wall(u[0], self.settings.r, g, self.kt), float(a[0])

    def predict(
        self,
        masses: dict[str, float],
        rdfs: dict[tuple[str, str], RDF],
        diffusion: dict[str, float],
        temperature: float,
    ) -> dict[tuple[str, str], PairTable]:
        """:class:`PotentialPredictor` interface (one bead type; D in nm^2/ps)."""
        if abs(temperature - self.settings.temperature) > 1.0:
            raise CGInputError(f"this predictor was trained at {self.settings.temperature} K, "
                               f"got {temperature} K")  # fmt: skip
        if len(masses) != 1 or len(rdfs) != 1:
            raise CGInputError("the database predictor handles one bead type (one pair)")
        (name, mass), ((pair, rdf),) = next(iter(masses.items())), rdfs.items()
        if not np.allclose(rdf.edges, self.settings.edges):
            raise CGInputError("the RDF must use the database grid (DatabaseSettings.edges)")
        u, a = self.predict_potential(mass, rdf.g, diffusion[name])
        return {pair: potential_table(u, self.settings, a)}

    def _params(self) -> list:
        """Constructor arguments after ``settings`` (save/load, cross-validation copies)."""
        return [self.n_components, self.hidden, self.n_ensemble, self.alpha, self.seed,
                self.max_iter, self.solver, self.g_components, self.residual,
                self.ridge_alpha]  # fmt: skip

    def save(self, path: str | Path) -> Path:
        """Write the trained model with its format name and version."""
        if self.fitted is None:
            raise CGInputError("train the predictor before saving it")
        import sklearn

        blob = {"format": PREDICTOR_FORMAT, "version": PREDICTOR_VERSION,
                "sklearn": sklearn.__version__, "settings": self.settings.to_json(),
                "params": self._params(), "fitted": self.fitted}  # fmt: skip
        p = Path(path)
        p.write_bytes(pickle.dumps(blob))
        return p

    @classmethod
    def load(cls, path: str | Path) -> MobilityPredictor:
        """Read a model written by :meth:`save`; other formats or versions are refused."""
        try:
            blob = pickle.loads(Path(path).read_bytes())
        except (OSError, pickle.UnpicklingError, EOFError) as err:
            raise DatabaseError(f"cannot read a predictor from {path}: {err}") from err
        if not isinstance(blob, dict) or blob.get("format") != PREDICTOR_FORMAT:
            raise DatabaseError(f"{path} is not a poreflux CG mobility predictor")
        if blob.get("version") != PREDICTOR_VERSION:
            raise DatabaseError(f"{path} is predictor version {blob.get('version')}, this poreflux "
                                f"reads version {PREDICTOR_VERSION}; retrain it")  # fmt: skip
        out = cls(DatabaseSettings.from_json(blob["settings"]), *blob["params"])
        out.fitted = blob["fitted"]
        return out
