"""Single-file pore: BD current against concentration in a narrow charged pore, and PNP.

A pore of radius 0.2 nm (1.45 K+ radii: K+ and Cl- pass one at a time) through a 1.5 nm membrane,
lined by a 0.3 nm protein whose water face carries -0.3 C/m^2 (about -6 e: a cation binding
site; only the lining is charged), permittivity 78.4 everywhere by default (no dielectric
boundary and no self-energy). At 200 mV and KCl from 50 mM to 1 M,
``pnp.hierarchy.compare_bd_with_pnp`` runs GCMC/BD and PNP on the same mesh and static field,
per concentration. The baths are wider at low concentration (the buffers must hold ions; PNP
changes by < 7 % between the smallest and largest baths at 0.1 and 1 M). The buffers'
reservoirs sit at their electrodes' potentials (``reference="ends"``).

The issue's expectation (one-site single-file channel: Läuger 1973; Chung et al., Biophys. J.
77, 2517 (1999); Corry, Kuyucak & Chung, Biophys. J. 78, 2364 (2000)): BD's current saturates,
``I = I_max c/(c + K)``, while PNP's keeps rising. Measured (docs/brownian_dynamics.md): both
levels are equally sublinear here (BD K = 220 +- 40 mM, PNP 299 mM; I(1 M)/I(0.1 M) 2.76 +- 0.33
vs 2.90), also with ``--permittivity 2 --sigma -0.1`` (self-energy on). Writes ``--out``
(default ``bd-saturation``): ``saturation.json``, ``saturation.csv`` and ``saturation.png``
(both curves and the Michaelis-Menten fits).

Usage::

    nice python examples/bd_saturation.py               # 5 concentrations x 20 ns
    python examples/bd_saturation.py --quick            # 0.1 and 1 M, 4 ns each
    nice python examples/bd_saturation.py --permittivity 2 --sigma -0.1 --concentrations 100 1000
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
from poreflux.species import salt
from stochastic.bd.saturation import current_ratio, fit_michaelis_menten

RADIUS, THICKNESS, LINING = 0.2, 1.5, 0.3  # nm
SIGMA = -0.3  # C/m^2 on the lining's water face
VOLTAGE = 200.0  # mV
PERMITTIVITY = {"membrane": 78.4, "protein": 78.4}
SELF_ENERGY_POINTS = 0  # test charges on the axis (0: none; no dielectric boundary here)
#: bath radius and height [nm] per concentration [mM]
BATHS = {50.0: (3.5, 5.0), 100.0: (3.0, 4.0), 200.0: (2.5, 3.5), 500.0: (2.0, 3.0),
         1000.0: (1.6, 2.5)}  # fmt: skip


def configure(sigma: float, permittivity: float) -> None:
    """Set the lining charge [C/m^2] and the membrane/lining permittivity (self-energy from 15
    test charges when it differs from water's)."""
    global SIGMA, PERMITTIVITY, SELF_ENERGY_POINTS
    SIGMA = float(sigma)
    PERMITTIVITY = {"membrane": float(permittivity), "protein": float(permittivity)}
    SELF_ENERGY_POINTS = 0 if permittivity == 78.4 else 15


def point(c_mM: float, time_ns: float, seed: int, equilibration_ns: float = 1.0):
    """BD and PNP at one KCl concentration (a :class:`BDPNPComparison` at 200 mV)."""
    rb, hb = BATHS[c_mM]
    geometry = cylindrical_pore(radius=RADIUS, thickness=THICKNESS, bath_radius=rb,
                                bath_height=hb, protein_thickness=LINING, h_pore=0.04,
                                h_bath=0.25)  # fmt: skip
    settings = BDRunSettings(time_ns=time_ns, equilibration_ns=equilibration_ns, block_ns=0.5,
                             seed=seed, self_energy_points=SELF_ENERGY_POINTS,
                             buffer_length=min(1.5, hb / 2),
                             options={"gcmc_attempts": 3, "reference": "ends"})  # fmt: skip
    return compare_bd_with_pnp(geometry, salt("KCl", c_mM), [VOLTAGE], surface_charge=SIGMA,
                               charged_walls=("protein_wall",), permittivity=PERMITTIVITY,
                               settings=settings)  # fmt: skip


def row(c_mM: float, cmp) -> dict:
    """The table row of one concentration."""
    res = cmp.bd_results[0]
    return {"c_mM": c_mM, "I_BD_pA": float(cmp.i_bd[0]), "I_BD_err_pA": float(cmp.i_bd_err[0]),
            "I_PNP_pA": float(cmp.i_pnp[0]), "pore_K": float(res.pore_ions[0]),
            "pore_K_err": float(res.pore_ions_err[0]),
            "buffer_over_target": (res.buffer_mM.mean(axis=1) / res.target_mM).tolist(),
            }  # fmt: skip


def summarize(rows: list[dict]) -> dict:
    """Michaelis-Menten fits of both levels and the ratio I(c_max)/I(c_min)."""
    c = np.array([r["c_mM"] for r in rows])
    i_bd, e_bd = np.array([r["I_BD_pA"] for r in rows]), np.array([r["I_BD_err_pA"] for r in rows])
    i_pnp = np.array([r["I_PNP_pA"] for r in rows])
    lo, hi = int(np.argmin(c)), int(np.argmax(c))
    out = {"ratio_bd": current_ratio(i_bd[hi], e_bd[hi], i_bd[lo], e_bd[lo]),
           "ratio_pnp": float(i_pnp[hi] / i_pnp[lo]), "c_lo": c[lo], "c_hi": c[hi]}  # fmt: skip
    if c.size >= 3:
        out["fit_bd"] = fit_michaelis_menten(c, i_bd, e_bd).__dict__
        out["fit_pnp"] = fit_michaelis_menten(c, i_pnp).__dict__
    return out


def plot(rows: list[dict], summary: dict, path: Path) -> None:
    """Current against concentration, BD with errors and PNP, with the fits."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    c = np.array([r["c_mM"] for r in rows])
    fig, ax = plt.subplots(figsize=(5.5, 4.0))
    ax.errorbar(c, [r["I_BD_pA"] for r in rows], yerr=[r["I_BD_err_pA"] for r in rows],
                fmt="o", color="C3", label="BD")  # fmt: skip
    ax.plot(c, [r["I_PNP_pA"] for r in rows], "s", color="C0", label="PNP")
    cc = np.linspace(0.0, c.max(), 200)
    for key, color in (("fit_bd", "C3"), ("fit_pnp", "C0")):
        if key in summary:
            f = summary[key]
            ax.plot(cc, f["imax"] * cc / (cc + f["k_mM"]), "-", color=color, lw=0.8,
                    label=f"I_max = {f['imax']:.0f} pA, K = {f['k_mM']:.0f} mM")  # fmt: skip
    ax.set(xlabel="KCl [mM]", ylabel="current at 200 mV [pA]", xlim=(0, None), ylim=(0, None))
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    """Run the study and write JSON, CSV and the plot."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default="bd-saturation")
    ap.add_argument("--time", type=float, default=20.0, help="BD production per point [ns]")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--sigma", type=float, default=SIGMA, help="lining charge [C/m^2]")
    ap.add_argument("--permittivity", type=float, default=78.4,
                    help="membrane and lining permittivity (< 78.4: self-energy on)")
    ap.add_argument("--concentrations", type=float, nargs="+", default=tuple(BATHS),
                    help=f"KCl [mM], a subset of {tuple(BATHS)}")  # fmt: skip
    args = ap.parse_args()
    concentrations = (100.0, 1000.0) if args.quick else tuple(args.concentrations)
    if args.quick:
        args.time = 4.0
    configure(args.sigma, args.permittivity)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    rows, t0 = [], time.perf_counter()
    for c in concentrations:
        rows.append(row(c, point(c, args.time, args.seed + int(c))))
        r = rows[-1]
        print(f"{c:6.0f} mM: I_BD = {r['I_BD_pA']:.1f} +- {r['I_BD_err_pA']:.1f} pA, "
              f"I_PNP = {r['I_PNP_pA']:.1f} pA, K+ in pore {r['pore_K']:.2f}, "
              f"{time.perf_counter() - t0:.0f} s", flush=True)  # fmt: skip
    summary = summarize(rows)
    rb, eb = summary["ratio_bd"]
    print(f"I({summary['c_hi']:g})/I({summary['c_lo']:g}): BD {rb:.2f} +- {eb:.2f}, "
          f"PNP {summary['ratio_pnp']:.2f}")
    for key in ("fit_bd", "fit_pnp"):
        if key in summary:
            f = summary[key]
            print(f"{key}: I_max = {f['imax']:.1f} +- {f['imax_err']:.1f} pA, "
                  f"K = {f['k_mM']:.0f} +- {f['k_err']:.0f} mM, chi2 = {f['chi2']:.2f}"
                  f"/{f['dof']}")  # fmt: skip
    (out / "saturation.json").write_text(json.dumps({"rows": rows, "summary": summary,
                                                     "args": vars(args)}, indent=2) + "\n")
    with (out / "saturation.csv").open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=[k for k in rows[0] if k != "buffer_over_target"],
                           extrasaction="ignore")  # fmt: skip
        w.writeheader()
        w.writerows(rows)
    plot(rows, summary, out / "saturation.png")
    print(f"wrote {out}/saturation.json, saturation.csv, saturation.png")


if __name__ == "__main__":
    main()
