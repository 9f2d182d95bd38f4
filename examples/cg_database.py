"""Regenerate the shipped mobility-preserving CG database and evaluate the learned potentials.

Usage::

    # evaluate the shipped database (train the MLP, run IBI / IBI + friction / predicted CG
    # models of the held-out liquids n-hexane, toluene and 2,2-dimethylbutane):
    python examples/cg_database.py --out cg_db_eval

    # regenerate it from scratch first (21 all-atom models of 7 molecules, 420 CG entries,
    # 3 held-out liquids with 4 all-atom runs each; 1000 s of CPU, 49 min of wall time with 2
    # MPI ranks on the shared 2-core machine at load 12-29; resumable if interrupted):
    mpiexec -n 2 python examples/cg_database.py --regenerate my_db.h5 --mpi --out cg_db_eval

The shipped file ``stochastic/cg/data/cg_mobility_db.h5`` (schema 3) holds what the second
command produces (``--models 21 --seed 0``, default :class:`DatabaseSettings`), generated with
``mpiexec -n 2 python -m stochastic.cg.database generate PATH --models 21 --seed 0 --heldout
--mpi``; see docs/cg_database.md.
"""

from __future__ import annotations

import argparse
import json
from importlib import resources
from pathlib import Path

from stochastic.cg.database.evaluation import evaluate_database
from stochastic.cg.database.generator import generate
from stochastic.cg.database.schema import HELDOUT_MOLECULES, DatabaseSettings

SHIPPED = resources.files("stochastic.cg") / "data" / "cg_mobility_db.h5"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--regenerate", metavar="PATH", help="generate (or continue) a database here")
    p.add_argument("--models", type=int, default=21)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--mpi", action="store_true")
    p.add_argument("--out", default="cg_db_eval", help="directory for table, plot and JSON")
    args = p.parse_args()
    path = Path(str(SHIPPED))
    if args.regenerate:
        db = generate(args.regenerate, args.models, DatabaseSettings(), args.seed,
                      HELDOUT_MOLECULES, mpi=args.mpi)  # fmt: skip
        path = db.path
        if args.mpi:
            from mpi4py import MPI

            if MPI.COMM_WORLD.Get_rank() != 0:
                return
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = evaluate_database(path, seed=args.seed, plot=out / "heldout.png")
    (out / "table.txt").write_text(report.table() + "\n")
    (out / "summary.json").write_text(json.dumps(report.summary(), indent=2))
    print(report.table())
    print(f"plot: {out / 'heldout.png'}")


if __name__ == "__main__":
    main()
