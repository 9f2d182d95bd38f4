"""Coarse-graining methods compared on molecular LJ fluids: IBI+IMC, MS-CG, relative entropy, ML.

Fits the four methods to 108 LJ dimers (T* = 1.5, 0.3 molecules/sigma^3) mapped to their
centres of mass, runs each CG model at the fitted state and at the held-out T* = 1.8, and
prints a table of g(r) RMS, neighbour-angle RMS, pressure error and D_CG/D_ref; then the same
for LJ triangles (three sites, where the pair models miss the many-body structure). Writes
``cg_methods_2site.png`` and ``cg_methods_3site.png`` (g(r) and angles of the evaluation runs)
to ``--out``. The ML model needs the optional extra ``ml`` (JAX + optax). Run time: several
minutes of CPU at the default scale; ``--quick`` (scale 0.3, a noisier look whose ML network is
under-trained) or ``--scale`` to choose.

    python examples/cg_methods.py [--scale 1.0 | --quick] [--out .]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from stochastic.cg import comparison as cmp

QUICK_SCALE = 0.3


def plot(mf, ref, methods, r_shell, path):
    """RDF and neighbour-angle distributions of the reference and of every CG model's
    evaluation run at the fitted state (``MethodResult.curves["fit"]``)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    g = mf.rdf(ref.frames)
    ax1.plot(g.r, g.g, "k-", lw=2, label="mapped reference")
    edges = np.linspace(-1, 1, 21)
    c = 0.5 * (edges[1:] + edges[:-1])
    ax2.plot(c, cmp.neighbour_angles(ref.frames[::2], mf.beads.box, r_shell), "k-", lw=2,
             label="mapped reference")  # fmt: skip
    for m in methods:
        cur = m.curves["fit"]
        ax1.plot(cur["r"], cur["g"], label=m.name)
        ax2.plot(c, cur["angles"], label=m.name)
    ax1.set_xlabel("r [sigma]")
    ax1.set_ylabel("g(r)")
    ax2.set_xlabel("cos theta (neighbours within the first shell)")
    ax2.set_ylabel("density")
    ax1.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=1.0, help="run-length factor")
    ap.add_argument("--quick", action="store_true", help=f"--scale {QUICK_SCALE}")
    ap.add_argument("--out", type=Path, default=Path("."), help="folder for the figures")
    args = ap.parse_args()
    scale = QUICK_SCALE if args.quick else args.scale
    args.out.mkdir(parents=True, exist_ok=True)
    n_ref, n_cg = int(10000 * scale), int(3000 * scale)
    for n_sites, density, held_t in ((2, 0.3, 1.8), (3, 0.25, None)):
        mf = cmp.molecule_fluid(n_sites, 3, density, 1.5)
        ref = cmp.reference(mf, 2000, n_ref)
        g = mf.rdf(ref.frames)
        r_shell = cmp.first_shell(g)
        methods = cmp.fit_methods(mf, ref, n_cg, ml_steps=int(1500 * scale))
        keys = [
            "fit_rdf_rms",
            "fit_angle_rms",
            "fit_angle_noise",
            "fit_pressure_error",
            "fit_d_ratio",
        ]
        for m in methods:
            m.figures.update(cmp.evaluate(mf, ref, m, int(4000 * scale), "fit", r_shell))
        if held_t is not None:
            hmf = cmp.molecule_fluid(n_sites, 3, density, held_t)
            href = cmp.reference(hmf, 2000, n_ref, seed=5)
            for m in methods:
                m.figures.update(cmp.evaluate(hmf, href, m, int(4000 * scale), "heldout",
                                              r_shell))  # fmt: skip
            keys.append("heldout_rdf_rms")
        print(f"\n{n_sites}-site molecules -> 1 bead (noise floor of g(r) RMS ~ "
              f"{methods[0].figures['fit_rdf_noise']:.4f})")  # fmt: skip
        print(cmp.table(methods, keys))
        plot(mf, ref, methods, r_shell, args.out / f"cg_methods_{n_sites}site.png")


if __name__ == "__main__":
    main()
