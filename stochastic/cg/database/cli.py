"""Command line: ``python -m stochastic.cg.database {generate,evaluate} ...``.

``generate PATH --models 21 --seed 0 [--heldout] [--mpi] [--small] [--reuse-references OLD]``
builds or continues a database (under ``mpiexec -n N`` with ``--mpi``; ``OLD``: copy the
all-atom references of an older database first, so that only the CG entries are run);
``evaluate PATH [--plot FILE] [--json FILE] [--repeats 8]`` trains the predictor on the
database and compares IBI, IBI + friction and the predicted potential on the held-out liquids
stored in it (``--repeats`` independent CG runs each).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Sequence


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m stochastic.cg.database", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate", help="generate or continue a database")
    g.add_argument("path")
    g.add_argument("--models", type=int, default=21)
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--heldout", action="store_true", help="add the held-out reference liquids")
    g.add_argument("--mpi", action="store_true", help="split the work over MPI ranks")
    g.add_argument("--small", action="store_true", help="tiny CI settings")
    g.add_argument("--reuse-references", metavar="OLD", default=None,
                   help="copy the all-atom references of an older database (same seed and "
                   "all-atom settings) and generate only the CG entries")  # fmt: skip
    e = sub.add_parser("evaluate", help="train on a database and evaluate on its held-out liquids")
    e.add_argument("path")
    e.add_argument("--plot", default=None)
    e.add_argument("--json", default=None)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--repeats", type=int, default=8,
                   help="independent CG runs per model and liquid (errors are their standard "
                   "error)")  # fmt: skip
    return p


def _rank(mpi: bool) -> int:
    if not mpi:
        return 0
    from mpi4py import MPI

    return MPI.COMM_WORLD.Get_rank()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    if args.command == "generate":
        from stochastic.cg.database.generator import generate
        from stochastic.cg.database.schema import HELDOUT_MOLECULES, DatabaseSettings, ci_settings

        t0 = time.perf_counter()
        settings = ci_settings() if args.small else DatabaseSettings()
        heldout = HELDOUT_MOLECULES if args.heldout else ()
        if args.reuse_references and _rank(args.mpi) == 0:
            from stochastic.cg.database.storage import Database

            Database.create(args.path, settings, args.seed).import_references(
                args.reuse_references
            )
        db = generate(args.path, args.models, settings, args.seed, heldout, mpi=args.mpi)
        n, m, h = (len(db.keys(g)) for g in ("entries", "models", "heldout"))
        wall = time.perf_counter() - t0
        print(f"{db.path}: {m} models, {n} entries, {h} held-out liquids ({wall:.0f} s)")
        if db.stats:
            print("stats " + json.dumps(db.stats))
        return 0
    from stochastic.cg.database.evaluation import evaluate_database

    report = evaluate_database(args.path, seed=args.seed, plot=args.plot, repeats=args.repeats)
    print(report.table())
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(report.summary(), fh, indent=2)
    return 0
