"""Held-out evaluation: IBI, IBI + friction calibration and the predicted potential.

As in Bag, Meinel & Mueller-Plathe, J. Chem. Theory Comput. 18, 7108 (2022): for liquids whose
molecules never appear in the training database, the all-atom centre-of-mass g(r) and D_AA are
the targets; three CG models are run in the same box and compared on structure (g(r) RMS
difference from the all-atom one) and mobility (D_CG / D_AA):

* IBI: the IBI potential with Newtonian dynamics (too fast, typically);
* IBI + friction: the same potential with a Langevin friction calibrated so that D_CG = D_AA
  (:func:`stochastic.cg.mobility.calibrate_friction`);
* predicted: the :class:`~stochastic.cg.database.predictor.MobilityPredictor` potential from
  (mass, g_AA, D_AA) with Newtonian dynamics.

A second check stays inside the database: leave-one-base-molecule-out cross-validation of the
predicted potentials (``U/kT`` RMS over the populated bins), against the trivial predictor
(the mean potential of the training entries).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from stochastic.cg.database.pipeline import G_CORE, CGRun, run_cg_entry
from stochastic.cg.database.predictor import U_CLIP, MobilityPredictor
from stochastic.cg.database.schema import DatabaseSettings
from stochastic.cg.database.storage import Database
from stochastic.cg.errors import CGConvergenceError
from stochastic.cg.mobility import calibrate_friction
from stochastic.cg.targets import RDF, Estimate


@dataclass(frozen=True)
class HeldoutResult:
    """One held-out liquid: D [nm^2/ps] and g(r) RMS of the three CG models, and the predicted
    roughness amplitude [kJ/mol]."""

    molecule: str
    mass: float
    d_aa: float
    d_aa_err: float
    rough: float
    d: dict[str, float]
    d_err: dict[str, float]
    rms: dict[str, float]
    friction: float
    g: dict[str, np.ndarray] = field(repr=False, compare=False)
    d_runs: dict[str, list[float]] = field(default_factory=dict, compare=False)
    rough_spread: float = float("nan")
    novelty: float = float("nan")
    d_model_sigma: float = float("nan")

    def ratio(self, model: str) -> float:
        """``D_CG / D_AA`` of ``model`` (ibi, friction, predicted)."""
        return self.d[model] / self.d_aa

    def ratio_error(self, model: str) -> float:
        """Standard error of :meth:`ratio` (CG and all-atom errors combined; both from
        independent runs: CG seeds, all-atom replicas)."""
        return self.ratio(model) * math.hypot(self.d_err[model] / self.d[model],
                                              self.d_aa_err / self.d_aa)  # fmt: skip


@dataclass
class EvaluationReport:
    """Held-out results, training time and the by-molecule cross-validation."""

    results: list[HeldoutResult]
    train_seconds: float
    n_entries: int
    cv_rms: dict[str, float]
    cv_baseline: dict[str, float]
    r: np.ndarray
    cv_rough: dict[str, float] = field(default_factory=dict)
    kt: float = float("nan")

    def table(self) -> str:
        """Plain-text table (one row per liquid and model)."""
        lines = [f"trained on {self.n_entries} entries in {self.train_seconds:.1f} s",
                 "molecule              model      D_CG/D_AA         g(r) RMS"]  # fmt: skip
        for res in self.results:
            for m in ("ibi", "friction", "predicted"):
                lines.append(f"{res.molecule:21s} {m:10s} {res.ratio(m):6.2f} +- "
                             f"{res.ratio_error(m):4.2f}   {res.rms[m]:.4f}")  # fmt: skip
            lines.append(f"{res.molecule:21s} roughness {res.rough / self.kt:.3f} kT, novelty "
                         f"{res.novelty:.2f}, expected D error of the prediction "
                         f"{100 * res.d_model_sigma:.0f} %")  # fmt: skip
        for mol, v in self.cv_rms.items():
            lines.append(f"CV leave-out {mol}: U/kT RMS {v:.3f} (mean-potential baseline "
                         f"{self.cv_baseline[mol]:.3f}), roughness RMS "
                         f"{self.cv_rough.get(mol, float('nan')):.3f} kT")  # fmt: skip
        return "\n".join(lines)

    def summary(self) -> dict[str, object]:
        """Numbers for the benchmark JSON (means over the held-out liquids, and each)."""
        def mean(f):
            return float(np.mean([f(r) for r in self.results]))

        return {
            "train_seconds": self.train_seconds, "n_entries": self.n_entries,
            "d_ratio_pred": mean(lambda r: r.ratio("predicted")),
            "d_ratio_ibi": mean(lambda r: r.ratio("ibi")),
            "d_ratio_friction": mean(lambda r: r.ratio("friction")),
            "rdf_rms_pred": mean(lambda r: r.rms["predicted"]),
            "rdf_rms_ibi": mean(lambda r: r.rms["ibi"]),
            "rdf_rms_friction": mean(lambda r: r.rms["friction"]),
            "per_molecule": {r.molecule: {"d_aa": r.d_aa, "d_aa_err": r.d_aa_err, "d": r.d,
                                          "rough_pred_kj_mol": r.rough,
                                          "rough_spread_kj_mol": r.rough_spread,
                                          "d_err": r.d_err, "rms": r.rms, "d_runs": r.d_runs,
                                          "ratio": {m: r.ratio(m) for m in r.d},
                                          "ratio_err": {m: r.ratio_error(m) for m in r.d},
                                          "friction_per_ps": r.friction,
                                          "novelty": r.novelty,
                                          "d_model_sigma_rel": r.d_model_sigma}
                             for r in self.results},
            "cv_u_rms_kt": self.cv_rms, "cv_baseline_kt": self.cv_baseline,
            "cv_rough_rms_kt": self.cv_rough,
        }  # fmt: skip

    def plot(self, path: str | Path) -> Path:
        """g(r) of AA and the three CG models per liquid, and the D ratios."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        n = len(self.results)
        fig, axes = plt.subplots(1, n + 1, figsize=(4 * (n + 1), 3.4))
        for ax, res in zip(axes[:n], self.results, strict=True):
            for key, style in (("aa", "k-"), ("ibi", "C0--"), ("friction", "C1:"),
                               ("predicted", "C3-")):  # fmt: skip
                ax.plot(self.r, res.g[key], style, label=key, lw=1.2)
            ax.set(title=res.molecule, xlabel="r [nm]", ylabel="g(r)")
        axes[0].legend(fontsize=8)
        x = np.arange(n)
        for k, m in enumerate(("ibi", "friction", "predicted")):
            axes[n].bar(x + 0.27 * (k - 1), [r.ratio(m) for r in self.results], 0.27, label=m)
        axes[n].axhline(1.0, color="k", lw=0.8)
        axes[n].set(xticks=x, xticklabels=[r.molecule for r in self.results], ylabel="D_CG/D_AA",
                    yscale="log")  # fmt: skip
        axes[n].tick_params(axis="x", labelrotation=30, labelsize=7)
        axes[n].legend(fontsize=8)
        fig.tight_layout()
        p = Path(path)
        fig.savefig(p, dpi=120)
        plt.close(fig)
        return p


def _rms(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(np.mean((a - b) ** 2)))


def repeated_run(
    u: np.ndarray, mass: float, s: DatabaseSettings, length: float, seeds: range,
    rough: float = 0.0, friction: float = 0.0,
) -> tuple[CGRun, list[float]]:
    """:func:`run_cg_entry` with each seed; mean g(r) and D, whose error is the run-to-run
    standard error (with one seed: that run's own estimate), and the runs' D values.
    Independent runs also sample the start and the NVE energy, which the block error of one
    run does not see (chaotic dynamics turn any round-off difference into such a new sample,
    so only this error says how far another machine's result may fall)."""
    runs = [run_cg_entry(u, mass, s, length, k, friction, rough) for k in seeds]
    d = np.array([r.d.value for r in runs])
    err = runs[0].d.error if len(runs) == 1 else float(np.std(d, ddof=1) / math.sqrt(len(d)))
    g = np.mean([r.g.g for r in runs], axis=0)
    return (CGRun(RDF(runs[0].g.edges, g, runs[0].g.pair), Estimate(float(d.mean()), err),
                  sum(r.wall_time for r in runs)), d.tolist())  # fmt: skip


def heldout_density(attrs: dict, s: DatabaseSettings) -> float:
    """Number density [1/nm^3] of a held-out liquid's box (from its stored attributes)."""
    return s.n_molecules / float(attrs["box_length"]) ** 3


def fit_arrays(arrays: dict[str, np.ndarray], mask: np.ndarray | None = None) -> dict:
    """Keyword arguments of :meth:`MobilityPredictor.fit` from :meth:`Database.
    training_arrays` (the entries where ``mask``)."""
    m = slice(None) if mask is None else mask
    out = {k: arrays[k][m] for k in ("mass", "d", "g", "u", "rough", "density")}
    return out | {"groups": arrays["molecule"][m]}


def evaluate_heldout(
    db: Database, name: str, predictor: MobilityPredictor, seed: int = 0,
    settings: DatabaseSettings | None = None, repeats: int = 8, rough_sigma: float = math.nan,
) -> HeldoutResult:
    """Run the three CG models for held-out liquid ``name`` (see the module docstring), each
    ``repeats`` times with independent seeds (the friction model at the calibrated friction).
    ``rough_sigma`` [kJ/mol], the cross-validated roughness error, becomes the expected
    relative D error of the prediction through the learned slope ``da/dlnD``
    (:func:`d_model_sigma`)."""
    s = settings or db.settings
    attrs, data = db.read("heldout", name)
    mass, length, g_aa = float(attrs["mass"]), float(attrs["box_length"]), data["g_aa"]
    d_aa = float(attrs["d_aa"])
    seeds = range(seed, seed + repeats)
    runs, d_runs = {}, {}
    runs["ibi"], d_runs["ibi"] = repeated_run(data["u_ibi"], mass, s, length, seeds)
    cache = {}

    def evaluate(gam):
        run = run_cg_entry(data["u_ibi"], mass, s, length, seed + 100 + len(cache), gam["M"])
        cache[gam["M"]] = run
        return {"M": run.d}

    try:
        cal = calibrate_friction(evaluate, {"M": d_aa}, {"M": runs["ibi"].d.value}, {"M": mass},
                                 s.temperature, tolerance=0.05, max_evaluations=4)  # fmt: skip
        gamma = cal.friction["M"]
    except CGConvergenceError:  # keep the closest evaluation
        gamma = min(cache, key=lambda k: abs(math.log(cache[k].d.value / d_aa)))
    fseeds = range(seed + 200, seed + 200 + repeats)
    runs["friction"], d_runs["friction"] = repeated_run(data["u_ibi"], mass, s, length, fseeds,
                                                        friction=float(gamma))  # fmt: skip
    rho = heldout_density(attrs, db.settings) if predictor.use_density else None
    u_pred, rough = predictor.predict_potential(mass, g_aa, d_aa, rho)
    spread = predictor.roughness_spread(mass, g_aa, d_aa, rho)
    novelty = predictor.novelty(mass, g_aa, d_aa, rho)
    sigma = d_model_sigma(predictor, mass, g_aa, d_aa, rho, rough_sigma)
    runs["predicted"], d_runs["predicted"] = repeated_run(u_pred, mass, s, length, seeds, rough)
    return HeldoutResult(
        name, mass, d_aa, float(attrs["d_aa_err"]), rough,
        {k: v.d.value for k, v in runs.items()}, {k: v.d.error for k, v in runs.items()},
        {k: _rms(v.g.g, g_aa) for k, v in runs.items()}, float(gamma),
        {"aa": g_aa} | {k: v.g.g for k, v in runs.items()}, d_runs, spread, novelty, sigma,
    )  # fmt: skip


def d_model_sigma(
    predictor: MobilityPredictor, mass: float, g: np.ndarray, d: float, density: float | None,
    rough_sigma: float, step: float = 1.2,
) -> float:
    """Expected relative error of the predicted potential's D from an error ``rough_sigma``
    [kJ/mol] of its roughness amplitude: ``sigma_a / |da/dlnD|``, the slope taken from the
    predictor itself (amplitudes asked for ``D / step`` and ``D step``)."""
    lo = predictor.predict_potential(mass, g, d / step, density)[1]
    hi = predictor.predict_potential(mass, g, d * step, density)[1]
    slope = abs(lo - hi) / (2.0 * math.log(step))
    return float(rough_sigma / slope) if slope > 0 else math.inf


def cross_validate(arrays: dict[str, np.ndarray], predictor: MobilityPredictor):
    """Leave-one-molecule-out ``U/kT`` RMS (populated bins) of the predictor and of the mean
    training potential, and the RMS error of the predicted roughness amplitude [kT]."""
    rms, base, rough_rms = {}, {}, {}
    kt = predictor.kt
    for mol in sorted(set(arrays["molecule"])):
        test = arrays["molecule"] == mol
        tr = ~test
        p = MobilityPredictor(predictor.settings, *predictor._params())
        p.fit(**fit_arrays(arrays, tr))
        y = np.clip(arrays["u"][test] / kt, *U_CLIP)
        f = fit_arrays(arrays, test)
        u, a, _ = p._raw(p._inputs(f["mass"], f["d"], f["g"], f["density"]))
        pred = np.clip(u / kt, *U_CLIP)
        rough_rms[mol] = float(np.sqrt(np.mean((a - arrays["rough"][test]) ** 2)) / kt)
        mean = np.clip(arrays["u"][tr] / kt, *U_CLIP).mean(0)
        mask = arrays["g"][test] > G_CORE
        rms[mol] = float(np.sqrt(np.mean((pred - y)[mask] ** 2)))
        base[mol] = float(np.sqrt(np.mean((mean[None, :] - y)[mask] ** 2)))
    return rms, base, rough_rms


def evaluate_database(
    path: str | Path, seed: int = 0, plot: str | Path | None = None,
    settings: DatabaseSettings | None = None, cross_validation: bool = True, repeats: int = 8,
    **predictor_options,
) -> EvaluationReport:
    """Train on all entries of ``path`` (``predictor_options`` go to
    :class:`MobilityPredictor`) and evaluate on its held-out liquids."""
    db = Database.open(path)
    arrays = db.training_arrays()
    pred = MobilityPredictor(db.settings, seed=seed, **predictor_options).fit(
        **fit_arrays(arrays)
    )
    cv, base, rough = cross_validate(arrays, pred) if cross_validation else ({}, {}, {})
    sigma = float(np.sqrt(np.mean(np.square(list(rough.values()))))) if rough else math.nan
    results = [evaluate_heldout(db, name, pred, seed, settings, repeats, sigma * pred.kt)
               for name in db.keys("heldout")]  # fmt: skip
    report = EvaluationReport(results, pred.train_seconds, len(arrays["d"]), cv, base,
                              db.settings.r, rough, pred.kt)  # fmt: skip
    if plot is not None:
        report.plot(plot)
    return report
