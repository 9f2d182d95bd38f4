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
PREDICTOR_VERSION: int = 3
#: Hidden layers and L2 penalty of the roughness networks on the four descriptors (small and
#: strongly regularised: by-molecule cross-validation on the shipped database gave a roughness
#: RMS of 0.032 kT with these, 0.09 kT with the (64, 64), 1e-3 networks of the full features).
DESCRIPTOR_HIDDEN: tuple[int, ...] = (32, 32)
DESCRIPTOR_ALPHA: float = 1e-2
#: Clipping range of U/kT targets.
U_CLIP: tuple[float, float] = (-3.0, 12.0)


def pmf_kt(g: np.ndarray) -> np.ndarray:
    """Potential of mean force ``-ln g(r)`` [kT], clipped to :data:`U_CLIP` (empty bins: top)."""
    return np.clip(-np.log(np.maximum(np.asarray(g, float), 1e-12)), *U_CLIP)


def pair_entropy(g: np.ndarray, r: np.ndarray, density: np.ndarray) -> np.ndarray:
    """Two-body excess entropy per particle [k_B], ``s2 = -2 pi rho int (g ln g - g + 1) r^2
    dr`` (Baranyai & Evans, Phys. Rev. A 40, 3817 (1989)), on the grid ``r`` (midpoint rule)
    for rows of ``g``; by excess-entropy scaling (Rosenfeld, Phys. Rev. A 15, 2545 (1977);
    Dzugutov, Nature 381, 137 (1996)) it sets the reduced diffusion coefficient of a simple
    liquid, so it tells the predictor how mobile the smooth potential alone is."""
    g = np.atleast_2d(g)
    glng = np.where(g > 0, g * np.log(np.where(g > 0, g, 1.0)), 0.0)
    dr = r[1] - r[0]
    return -2 * np.pi * np.asarray(density, float) * ((glng - g + 1) * r**2).sum(1) * dr


def features(
    mass: np.ndarray, d: np.ndarray, g: np.ndarray, density: np.ndarray | None = None,
    r: np.ndarray | None = None,
) -> np.ndarray:
    """Input matrix ``(log10 D*, g..., [log10 rho, s2])``, ``D* = D sqrt(mass / 100 amu)``,
    for arrays of entries (mass [amu], D [nm^2/ps], g on the grid ``r`` [nm], number density
    [1/nm^3]; ``s2`` is :func:`pair_entropy`)."""
    mass = np.atleast_1d(np.asarray(mass, float))
    d = np.atleast_1d(np.asarray(d, float))
    g = np.atleast_2d(np.asarray(g, float))
    if not (np.all(mass > 0) and np.all(d > 0) and np.all(np.isfinite(g))
            and np.all(np.isfinite(mass * d))):  # fmt: skip
        raise CGInputError("predictor inputs need mass > 0 amu, D > 0 nm^2/ps and finite g(r)")
    cols = [np.log10(d * np.sqrt(mass / 100.0)), g]
    if density is not None:
        rho = np.broadcast_to(np.asarray(density, float), mass.shape)
        if not np.all(np.isfinite(rho) & (rho > 0)):
            raise CGInputError(f"number density must be finite and > 0 (1/nm^3), got {density}")
        if r is None:
            raise CGInputError("features with a density need the grid r")
        cols += [np.log10(rho), pair_entropy(g, np.asarray(r, float), rho)]
    return np.column_stack(cols)


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


def _compress(x: np.ndarray, g_pca, n_bins: int) -> np.ndarray:
    """``(log D*, g..., [log rho])`` with g replaced by its principal components if ``g_pca``."""
    if g_pca is None:
        return x
    return np.column_stack([x[:, :1], g_pca.transform(x[:, 1:1 + n_bins]), x[:, 1 + n_bins:]])


def _novelty_scale(x: np.ndarray, groups: np.ndarray | None) -> float:
    """Median over groups of the median distance from a group's rows of ``x`` to the nearest
    row of another group (NaN without groups or with a single group)."""
    if groups is None or len(set(groups)) < 2:
        return float("nan")
    from scipy.spatial.distance import cdist

    groups = np.asarray(groups)
    per = [np.median(cdist(x[groups == k], x[groups != k]).min(axis=1)) for k in set(groups)]
    return float(np.median(per))


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
    use_density
        Take the number density (molecules per nm^3) and the two-body excess entropy
        (:func:`pair_entropy`) as further inputs: by Henderson's theorem the pair potential is
        fixed by g(r) *at a given density*, and the same g(r) at a higher density needs a
        different potential and moves differently (excess-entropy scaling).
    rough_model
        With ``ridge_alpha`` and ``use_density``, the roughness amplitude comes from the four
        descriptors ``(log10 D*, s2, log10 rho, max g)`` through a linear map (``"linear"``,
        least squares with a tiny L2 penalty) or an ensemble of ``n_ensemble`` small networks
        (``"mlp"``, :data:`DESCRIPTOR_HIDDEN`). By-molecule cross-validation on the shipped
        database (7 molecules): roughness RMS 0.030 kT (linear) and 0.032 kT (networks), but a
        single network's held-out amplitudes scatter by up to 0.08 kT with its random start
        (n-hexane 0.10-0.18 kT), the linear map's not at all.
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
        use_density: bool = True,
        rough_model: str = "linear",
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
        self.use_density = bool(use_density)
        if rough_model not in ("linear", "mlp"):
            raise CGInputError(f"rough_model must be 'linear' or 'mlp', got {rough_model!r}")
        self.rough_model = rough_model
        self.fitted: dict | None = None
        self.train_seconds = float("nan")

    @property
    def kt(self) -> float:
        """k_B T [kJ/mol] of the training temperature."""
        return KB_KJ_PER_MOL_K * self.settings.temperature

    def _inputs(self, mass, d, g, density) -> np.ndarray:
        if self.use_density and density is None:
            raise CGInputError("this predictor takes the number density (molecules per nm^3) "
                               "as an input: pass density=...")  # fmt: skip
        return features(mass, d, g, density if self.use_density else None, self.settings.r)

    def fit(
        self, mass: np.ndarray, d: np.ndarray, g: np.ndarray, u: np.ndarray,
        rough: np.ndarray | None = None, density: np.ndarray | None = None,
        groups: np.ndarray | None = None,
    ) -> MobilityPredictor:
        """Train on entries: masses [amu], D [nm^2/ps], CG g(r) (n, bins), smooth U [kJ/mol]
        (n, bins), roughness amplitudes [kJ/mol] (n,; default 0), number densities [1/nm^3]
        (n,; needed if ``use_density``) and the entries' molecules (n,; for :meth:`novelty`).
        BLAS runs on one thread: with several, the reductions' order (and so the last bits of
        the fit, then the whole chaotic CG trajectory) would depend on the thread count."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(1):
            return self._fit(mass, d, g, u, rough, density, groups)

    def _fit(self, mass, d, g, u, rough, density, groups) -> MobilityPredictor:
        from sklearn.decomposition import PCA
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPRegressor
        from sklearn.preprocessing import StandardScaler
        from threadpoolctl import threadpool_limits

        t0 = time.perf_counter()
        nb = len(self.settings.r)
        x = x_raw = self._inputs(mass, d, g, density)
        g_pca = PCA(self.g_components).fit(x[:, 1:1 + nb]) if self.g_components else None
        x = _compress(x, g_pca, nb)
        y = np.clip(np.asarray(u, float) / self.kt, *U_CLIP)
        if self.residual:
            y = y - pmf_kt(x_raw[:, 1:1 + nb])
        if len(x) != len(y) or y.shape[1] != len(self.settings.r):
            raise CGInputError(f"need one potential on the {len(self.settings.r)}-point grid "
                               "per entry")  # fmt: skip
        xs = StandardScaler().fit(x)
        pca = PCA(min(self.n_components, len(y) - 1, y.shape[1])).fit(y)
        a = np.zeros(len(y)) if rough is None else np.asarray(rough, float) / self.kt
        if a.shape != (len(y),) or not np.all(np.isfinite(a)) or np.any(a < 0):
            raise CGInputError("rough must hold one finite amplitude >= 0 kJ/mol per entry")
        joint = self.ridge_alpha is None  # networks predict the smooth part too
        z = np.column_stack([pca.transform(y), a]) if joint else a[:, None]
        zs = StandardScaler().fit(z)
        ns = StandardScaler().fit(self._net_inputs(x_raw, x))
        nets = []
        small = self._descriptors()
        hidden = DESCRIPTOR_HIDDEN if small else self.hidden
        alpha = DESCRIPTOR_ALPHA if small else self.alpha
        linear = small and self.rough_model == "linear"
        for k in range(1 if linear else self.n_ensemble):
            net = MLPRegressor(hidden_layer_sizes=hidden, activation="tanh",
                               solver=self.solver, alpha=alpha, max_iter=self.max_iter,
                               tol=1e-6, random_state=self.seed + k)  # fmt: skip
            if linear:
                from sklearn.linear_model import Ridge

                net = Ridge(alpha=1e-3)
            with warnings.catch_warnings(), threadpool_limits(1):  # small matrices: 1 thread
                warnings.simplefilter("ignore", ConvergenceWarning)
                net.fit(ns.transform(self._net_inputs(x_raw, x)), zs.transform(z).squeeze())
            nets.append(net)
        ridge = None
        if self.ridge_alpha is not None:
            from sklearn.linear_model import Ridge

            ridge = Ridge(alpha=self.ridge_alpha).fit(xs.transform(x), y)
        self.fitted = {"x_scaler": xs, "pca": pca, "z_scaler": zs, "nets": nets, "g_pca": g_pca,
                       "ridge": ridge, "net_scaler": ns, "x_train": xs.transform(x),
                       "novelty_scale": _novelty_scale(xs.transform(x), groups)}  # fmt: skip
        self.train_seconds = time.perf_counter() - t0
        return self

    def _raw(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Smooth potentials [kJ/mol] (n, bins), roughness amplitudes [kJ/mol] (n,) and their
        spread over the ensemble (n,; the standard deviation of the networks' amplitudes)."""
        if self.fitted is None:
            raise CGInputError("the predictor is not trained: call fit() or load() first")
        from threadpoolctl import threadpool_limits

        f, nb = self.fitted, len(self.settings.r)
        with threadpool_limits(1):  # thread-count independent results (see fit)
            xc = _compress(x, f["g_pca"], nb)
            xs = f["x_scaler"].transform(xc)
            xn = f["net_scaler"].transform(self._net_inputs(x, xc))
            zk = [f["z_scaler"].inverse_transform(n.predict(xn).reshape(len(x), -1))
                  for n in f["nets"]]  # fmt: skip
            z = np.mean(zk, axis=0)
            if f["ridge"] is not None:
                u = f["ridge"].predict(xs)
            else:
                u = f["pca"].inverse_transform(z[:, :-1])
        if self.residual:
            u = u + pmf_kt(x[:, 1:1 + nb])
        spread = np.std([np.maximum(zz[:, -1], 0.0) for zz in zk], axis=0)
        return u * self.kt, np.maximum(z[:, -1], 0.0) * self.kt, spread * self.kt

    def predict_potential(
        self, mass: float, g: np.ndarray, d: float, density: float | None = None
    ) -> tuple[np.ndarray, float]:
        """Smooth potential [kJ/mol] on the grid (core wall applied) and roughness amplitude
        [kJ/mol] for one liquid of bead ``mass`` [amu], g(r) on the grid, D [nm^2/ps] and number
        ``density`` [1/nm^3] (if the model uses it); run it with ``run_cg_entry(u, mass, ...,
        rough=a)`` or :func:`potential_table`."""
        g = self._check_grid(g)
        u, a, _ = self._raw(self._inputs(mass, d, g, density))
        return core_wall(u[0], self.settings.r, g, self.kt), float(a[0])

    def roughness_spread(
        self, mass: float, g: np.ndarray, d: float, density: float | None = None
    ) -> float:
        """Standard deviation [kJ/mol] of the ensemble members' roughness amplitudes for one
        liquid (0 for one network): an uncalibrated indicator of extrapolation."""
        return float(self._raw(self._inputs(mass, d, self._check_grid(g), density))[2][0])

    def novelty(
        self, mass: float, g: np.ndarray, d: float, density: float | None = None
    ) -> float:
        """How far one liquid's inputs lie from the training entries: the distance of its
        standardised inputs to the nearest training entry, in units of the median distance from
        a training molecule's entries to the nearest entry of another molecule (the novelty
        that the by-molecule cross-validation tests). About 1 or less: no further from the data
        than a left-out training molecule was, so the cross-validation errors apply; well above
        1: the prediction extrapolates. NaN if the training entries carried no ``groups``."""
        f = self.fitted
        if f is None:
            raise CGInputError("the predictor is not trained: call fit() or load() first")
        x = self._inputs(mass, d, self._check_grid(g), density)
        xs = f["x_scaler"].transform(_compress(x, f["g_pca"], len(self.settings.r)))
        return float(np.min(np.linalg.norm(f["x_train"] - xs, axis=1)) / f["novelty_scale"])

    def _net_inputs(self, x_raw: np.ndarray, x: np.ndarray) -> np.ndarray:
        """The networks' inputs: with a ridge smooth part and the density, the roughness
        networks see only the descriptors ``(log10 D*, s2, log10 rho, max g)`` (excess-entropy
        scaling: the mobility of the smooth potential follows from s2 and rho, the roughness
        from how far D* lies below it); otherwise all (compressed) features ``x``."""
        if not self._descriptors():
            return x
        nb = len(self.settings.r)
        return np.column_stack([x_raw[:, 0], x_raw[:, -1], x_raw[:, -2],
                                x_raw[:, 1:1 + nb].max(1)])  # fmt: skip

    def _descriptors(self) -> bool:
        return self.ridge_alpha is not None and self.use_density

    def _check_grid(self, g: np.ndarray) -> np.ndarray:
        g = np.asarray(g, float)
        if g.shape != self.settings.r.shape:
            n, r_max = len(self.settings.r), self.settings.r_max
            raise CGInputError(f"g(r) must be given on the database grid ({n} bins to {r_max} nm)")
        return g

    def predict(
        self,
        masses: dict[str, float],
        rdfs: dict[tuple[str, str], RDF],
        diffusion: dict[str, float],
        temperature: float,
        density: float | None = None,
    ) -> dict[tuple[str, str], PairTable]:
        """:class:`PotentialPredictor` interface (one bead type; D in nm^2/ps; ``density``: the
        number density of beads [1/nm^3], needed if the model uses it)."""
        if abs(temperature - self.settings.temperature) > 1.0:
            raise CGInputError(f"this predictor was trained at {self.settings.temperature} K, "
                               f"got {temperature} K")  # fmt: skip
        if len(masses) != 1 or len(rdfs) != 1:
            raise CGInputError("the database predictor handles one bead type (one pair)")
        (name, mass), ((pair, rdf),) = next(iter(masses.items())), rdfs.items()
        if not np.allclose(rdf.edges, self.settings.edges):
            raise CGInputError("the RDF must use the database grid (DatabaseSettings.edges)")
        u, a = self.predict_potential(mass, rdf.g, diffusion[name], density)
        return {pair: potential_table(u, self.settings, a)}

    def _params(self) -> list:
        """Constructor arguments after ``settings`` (save/load, cross-validation copies)."""
        return [self.n_components, self.hidden, self.n_ensemble, self.alpha, self.seed,
                self.max_iter, self.solver, self.g_components, self.residual,
                self.ridge_alpha, self.use_density, self.rough_model]  # fmt: skip

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
