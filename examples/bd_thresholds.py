"""Threshold study: where does PNP stop agreeing with multi-ion Brownian dynamics?

For cylindrical pores (3 nm membrane, permittivity 2, water 78.4) with radius from 8 down to 1.5
diameters of the largest ion (Cl-, 0.362 nm), for KCl and CaCl2 at one concentration and one
voltage, ``pnp.hierarchy.compare_bd_with_pnp`` runs GCMC/BD (with the finite-element static
field and the dielectric self-energy) and PNP on the same mesh, and records per point:

- ``|I_BD - I_PNP| / I_PNP`` and the same after dividing BD by its bulk conductivity relative to
  Nernst-Einstein (measured once per salt in a uniform 3 nm cylinder: the relaxation effect of
  the ion atmospheres, a bulk property that has nothing to do with the pore);
- the diagnostics' verdicts (worst, finite size, correlations) of the PNP solution.

Writes ``--out`` (default ``bd-thresholds``): ``thresholds.csv``, ``thresholds.json`` and
``thresholds.png`` (deviation against R / diameter, markers by verdict, the finite-size
thresholds as lines). Sign convention PNP's (``V = phi_top - phi_bottom``, current positive top
-> bottom).

Usage::

    nice python examples/bd_thresholds.py                 # ~30-40 min on one core
    python examples/bd_thresholds.py --quick               # ~3 min: 3 radii, short runs
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from pathlib import Path

import numpy as np

from meshes.channel import cylindrical_pore
from pnp.hierarchy import BDRunSettings, compare_bd_with_pnp
from poreflux.species import get_species, salt
from stochastic.bd.bulk import bulk_conductivity_ratio

DIAMETERS = (8.0, 6.0, 4.0, 3.0, 2.5, 2.0, 1.5)
SALTS = ("KCl", "CaCl2")
THICKNESS = 3.0


def point(name: str, c_mM: float, radius: float, voltage: float, args) -> dict:
    """One BD/PNP comparison; the row of the table."""
    geometry = cylindrical_pore(
        radius=radius, thickness=THICKNESS, bath_radius=max(2.5, radius + 1.5),
        bath_height=2.5, h_pore=min(0.1, radius / 4), h_bath=0.3,
    )  # fmt: skip
    settings = BDRunSettings(
        time_ns=args.time, equilibration_ns=args.equilibration, block_ns=0.5,
        seed=args.seed, self_energy_points=31,
    )  # fmt: skip
    cmp = compare_bd_with_pnp(geometry, salt(name, c_mM), [voltage], settings=settings)
    res, rep = cmp.bd_results[0], cmp.reports[0]
    cols = rep.columns()
    return {
        "salt": name, "c_mM": c_mM, "V_mV": voltage, "radius_nm": radius,
        "I_BD_pA": float(cmp.i_bd[0]), "I_BD_err_pA": float(cmp.i_bd_err[0]),
        "I_PNP_pA": float(cmp.i_pnp[0]), "ratio": float(cmp.ratio[0]),
        "ratio_err": float(cmp.ratio_err[0]), "pore_ions": float(np.sum(res.pore_ions)),
        "verdict": cmp.verdicts[0], "finite_size": cols.get("diag_finite_size", ""),
        "correlations": cols.get("diag_correlations", ""),
        "worst_check": cmp.worst[0][0], "worst_value": cmp.worst[0][1],
        "buffer_mM": res.buffer_mM.mean(axis=1).tolist(),
    }  # fmt: skip


def with_bulk(row: dict, bulk: tuple[float, float], diameter: float) -> dict:
    """Add R/diameter, the deviations and the bulk-corrected ratio."""
    ratio_b = row["ratio"] / bulk[0]
    err_b = abs(ratio_b) * np.hypot(row["ratio_err"] / max(abs(row["ratio"]), 1e-12),
                                    bulk[1] / bulk[0])  # fmt: skip
    return {**row, "R_over_diameter": row["radius_nm"] / diameter,
            "deviation": abs(row["ratio"] - 1.0), "bulk_ratio": bulk[0],
            "bulk_ratio_err": bulk[1], "ratio_bulk": ratio_b, "ratio_bulk_err": float(err_b),
            "deviation_bulk": abs(ratio_b - 1.0)}  # fmt: skip


def plot(rows: list[dict], path: Path) -> None:
    """Deviation against R / diameter for both salts, markers by the diagnostics' verdict."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    marker = {"ok": "o", "note": "o", "warning": "s", "breakdown": "x"}
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    for name, color in zip(SALTS, ("C0", "C3"), strict=True):
        sel = [r for r in rows if r["salt"] == name]
        x = [r["R_over_diameter"] for r in sel]
        y = [r["ratio_bulk"] for r in sel]
        ax.errorbar(x, y, yerr=[r["ratio_bulk_err"] for r in sel], color=color, ls="-",
                    label=f"{name} (BD / (PNP x kappa_BD/kappa_NE))")  # fmt: skip
        for r in sel:
            ax.plot(r["R_over_diameter"], r["ratio_bulk"], marker[r["finite_size"] or "ok"],
                    color=color, ms=8, mfc="none")  # fmt: skip
    for xv, lab in ((4.0, "warning (4 d)"), (2.0, "breakdown (2 d)")):
        ax.axvline(xv, color="grey", ls=":")
        ax.text(xv, 1.05, lab, rotation=90, va="bottom", fontsize=8)
    ax.axhline(1.0, color="k", lw=0.8)
    ax.set(xlabel="pore radius / largest ion diameter", ylabel="I_BD / I_PNP (bulk-corrected)",
           xscale="log")  # fmt: skip
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    """Run the study and write CSV, JSON and the plot."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="bd-thresholds")
    ap.add_argument("--c", type=float, default=500.0, help="salt concentration [mM]")
    ap.add_argument("--voltage", type=float, default=200.0, help="V = phi_top - phi_bottom [mV]")
    ap.add_argument("--time", type=float, default=30.0, help="BD production per point [ns]")
    ap.add_argument("--equilibration", type=float, default=2.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    diameters = (8.0, 3.0, 1.5) if args.quick else DIAMETERS
    if args.quick:
        args.time, args.equilibration = 3.0, 1.0
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    diam = 2 * get_species("Cl-").ionic_radius
    rows = []
    for name in SALTS:
        t0 = time.perf_counter()
        bulk = bulk_conductivity_ratio(salt(name, args.c), time_ns=args.time, seed=args.seed,
                                       equilibration_ns=args.equilibration)  # fmt: skip
        print(f"{name}: kappa_BD/kappa_NE = {bulk[0]:.3f} +- {bulk[1]:.3f}", flush=True)
        for nd in diameters:
            row = with_bulk(point(name, args.c, nd * diam, args.voltage, args), bulk, diam)
            rows.append(row)
            print(f"  R = {nd:g} d: BD/PNP = {row['ratio']:.3f} +- {row['ratio_err']:.3f}, "
                  f"bulk-corrected {row['ratio_bulk']:.3f} +- {row['ratio_bulk_err']:.3f}, "
                  f"verdict {row['verdict']} (finite size {row['finite_size']}), "
                  f"{time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
        (out / "thresholds.json").write_text(json.dumps({"rows": rows, "args": vars(args)},
                                                        indent=2) + "\n")  # fmt: skip
    keys = [k for k in rows[0] if k != "buffer_mM"]
    with (out / "thresholds.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=keys, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    plot(rows, out / "thresholds.png")
    print(f"wrote {out}/thresholds.csv, thresholds.json, thresholds.png")


if __name__ == "__main__":
    main()
