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
from stochastic.cg.database.predictor import U_CLIP, MobilityPredictor, features
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

    def ratio(self, model: str) -> float:
        """``D_CG / D_AA`` of ``model`` (ibi, friction, predicted)."""
        return self.d[model] / self.d_aa

    def ratio_error(self, model: str) -> float:
        """Standard error of :meth:`ratio` (CG and all-atom errors combined)."""
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

    def table(self) -> str:
        """Plain-text table (one row per liquid and model)."""
        lines = [f"trained on {self.n_entries} entries in {self.train_seconds:.1f} s",
                 "molecule              model      D_CG/D_AA         g(r) RMS"]  # fmt: skip
        for res in self.results:
            for m in ("ibi", "friction", "predicted"):
                lines.append(f"{res.molecule:21s} {m:10s} {res.ratio(m):6.2f} +- "
                             f"{res.ratio_error(m):4.2f}   {res.rms[m]:.4f}")  # fmt: skip
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
                                          "d_err": r.d_err, "rms": r.rms,
                                          "friction_per_ps": r.friction}
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
    rough: float = 0.0,
) -> CGRun:
    """:func:`run_cg_entry` with each seed; mean g(r) and D, whose error is the run-to-run
    standard error (with one seed: that run's own estimate). Independent runs also sample the
    NVE energy and the start, which the within-run error of one run does not see."""
    runs = [run_cg_entry(u, mass, s, length, k, rough=rough) for k in seeds]
    d = np.array([r.d.value for r in runs])
    err = runs[0].d.error if len(runs) == 1 else float(np.std(d, ddof=1) / math.sqrt(len(d)))
    g = np.mean([r.g.g for r in runs], axis=0)
    return CGRun(RDF(runs[0].g.edges, g, runs[0].g.pair), Estimate(float(d.mean()), err),
                 sum(r.wall_time for r in runs))  # fmt: skip


def evaluate_heldout(
    db: Database, name: str, predictor: MobilityPredictor, seed: int = 0,
    settings: DatabaseSettings | None = None, repeats: int = 3,
) -> HeldoutResult:
    """Run the three CG models for held-out liquid ``name`` (see the module docstring); the
    IBI and predicted models ``repeats`` times with different seeds."""
    s = settings or db.settings
    attrs, data = db.read("heldout", name)
    mass, length, g_aa = float(attrs["mass"]), float(attrs["box_length"]), data["g_aa"]
    d_aa = float(attrs["d_aa"])
    seeds = range(seed, seed + repeats)
    runs = {"ibi": repeated_run(data["u_ibi"], mass, s, length, seeds)}
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
    runs["friction"] = cache[gamma]
    u_pred, rough = predictor.predict_potential(mass, g_aa, d_aa)
    runs["predicted"] = repeated_run(u_pred, mass, s, length, seeds, rough)
    return HeldoutResult(
        name, mass, d_aa, float(attrs["d_aa_err"]), rough,
        {k: v.d.value for k, v in runs.items()}, {k: v.d.error for k, v in runs.items()},
        {k: _rms(v.g.g, g_aa) for k, v in runs.items()}, float(gamma),
        {"aa": g_aa} | {k: v.g.g for k, v in runs.items()},
    )  # fmt: skip


def cross_validate(arrays: dict[str, np.ndarray], predictor: MobilityPredictor):
    """Leave-one-molecule-out ``U/kT`` RMS (populated bins) of the predictor and of the mean
    training potential, and the RMS error of the predicted roughness amplitude [kT]."""
    rms, base, rough_rms = {}, {}, {}
    kt = predictor.kt
    for mol in sorted(set(arrays["molecule"])):
        test = arrays["molecule"] == mol
        tr = ~test
        p = MobilityPredictor(predictor.settings, *predictor._params())
        p.fit(*(arrays[k][tr] for k in ("mass", "d", "g", "u", "rough")))
        y = np.clip(arrays["u"][test] / kt, *U_CLIP)
        u, a = p._raw(features(*(arrays[k][test] for k in ("mass", "d", "g"))))
        pred = np.clip(u / kt, *U_CLIP)
        rough_rms[mol] = float(np.sqrt(np.mean((a - arrays["rough"][test]) ** 2)) / kt)
        mean = np.clip(arrays["u"][tr] / kt, *U_CLIP).mean(0)
        mask = arrays["g"][test] > G_CORE
        rms[mol] = float(np.sqrt(np.mean((pred - y)[mask] ** 2)))
        base[mol] = float(np.sqrt(np.mean((mean[None, :] - y)[mask] ** 2)))
    return rms, base, rough_rms


def evaluate_database(
    path: str | Path, seed: int = 0, plot: str | Path | None = None,
    settings: DatabaseSettings | None = None, cross_validation: bool = True, repeats: int = 3,
    **predictor_options,
) -> EvaluationReport:
    """Train on all entries of ``path`` (``predictor_options`` go to
    :class:`MobilityPredictor`) and evaluate on its held-out liquids."""
    db = Database.open(path)
    arrays = db.training_arrays()
    pred = MobilityPredictor(db.settings, seed=seed, **predictor_options).fit(
        *(arrays[k] for k in ("mass", "d", "g", "u", "rough"))
    )
    results = [evaluate_heldout(db, name, pred, seed, settings, repeats)
               for name in db.keys("heldout")]  # fmt: skip
    cv, base, rough = cross_validate(arrays, pred) if cross_validation else ({}, {}, {})
    report = EvaluationReport(results, pred.train_seconds, len(arrays["d"]), cv, base,
                              db.settings.r, rough)  # fmt: skip
    if plot is not None:
        report.plot(plot)
    return report
